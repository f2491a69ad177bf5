/**
 * The batch verifier's arithmetic on herumi's mcl (mcl.ts), the default; no ffjavascript curve.
 *
 * Per proof in a batch, on the caller's thread: B's subgroup check (mcl-g2-subgroup.ts, a 63-bit
 * multiplication and three ψ) when its points are made. Then ρᵢ·Aᵢ (a 128-bit GLV multiplication; G1 has
 * cofactor 1, so GLV is valid for every point on the curve) and the pair (ρᵢ·Aᵢ, Bᵢ) of the multi-Miller
 * loop (mcl-multi-pairing.ts): in chunks on the pool's workers (mcl-pool.ts, mcl-batch-job.ts) for
 * batches of POOL_MIN proofs and more once the workers are up, else here. At the end, here, while the
 * workers finish: Σρᵢ·Cᵢ and Σρᵢ·Lᵢ as multi-scalar multiplications (mcl's mulVec; Lᵢ's on the summed
 * scalars, six points) and the three fixed pairs with β, γ, δ, negated on the G1 side:
 *     Πᵢ e(ρᵢ·Aᵢ, Bᵢ) · e(−(Σρᵢ)·α, β) · e(−Σρᵢ·Lᵢ, γ) · e(−Σρᵢ·Cᵢ, δ) = 1,
 * all Miller values multiplied, one final exponentiation. A lone proof: e(−A, B) · e(α, β) · e(L, γ) ·
 * e(C, δ) = 1, one multi-Miller loop of four pairs, here.
 */
import type { Groth16Proof } from '../core/chameleon.ts';
import { ValidationError } from '../core/errors.ts';
import { createMclPointDecoder } from './babyjubjub-mcl.ts';
import { randomRho, type BatchCheck, type Groth16Backend, type PreparedProof } from './groth16-backend.ts';
import { fr, g1, g2, loadMcl, R, type Fr, type G1, type G2, type GT, type Mcl } from './mcl.ts';
import { millerValueOf, pairItem, type PairItem } from './mcl-batch-job.ts';
import { createMclG2SubgroupCheck } from './mcl-g2-subgroup.ts';
import { MclMultiPairing } from './mcl-multi-pairing.ts';
import { sharedMclPool, type MclPool } from './mcl-pool.ts';
import type { VerificationKey } from './verification-key.ts';

/** Batches smaller than this stay on the caller's thread (a job is a message round trip). */
const POOL_MIN = 8;
/** Proofs per worker job: two jobs per worker for a batch, within these bounds. */
const MIN_JOB = 8;
const MAX_JOB = 32;

/** A proof's points in mcl's form. */
interface Points {
	a: G1;
	b: G2;
	c: G1;
}

/** The verification key's points in mcl's form. */
interface FixedPoints {
	alpha: G1;
	beta: G2;
	gamma: G2;
	delta: G2;
	ic: G1[];
}

/** `workers`: whether batches may use the pool of worker threads (default true). */
export async function createMclGroth16(
	vkey: VerificationKey,
	workers = true
): Promise<Groth16Backend<Points>> {
	return new MclGroth16(await loadMcl(), vkey, workers);
}

/** snarkjs exports affine points (z = 1); a key with any other z is not one of its keys. */
function notAffine(what: string): never {
	throw new ValidationError('vkey-shape', `verification key point ${what} is not affine`);
}

function g1FromJson(mcl: Mcl, [x, y, z]: VerificationKey['vk_alpha_1'], what: string): G1 {
	if (z !== '1') notAffine(what);
	return g1(mcl, [BigInt(x), BigInt(y)]);
}

function g2FromJson(
	mcl: Mcl,
	[[x0, x1], [y0, y1], [z0, z1]]: VerificationKey['vk_beta_2'],
	what: string
): G2 {
	if (z0 !== '1' || z1 !== '0') notAffine(what);
	return g2(mcl, [
		[BigInt(x0), BigInt(x1)],
		[BigInt(y0), BigInt(y1)]
	]);
}

class MclGroth16 implements Groth16Backend<Points> {
	readonly library = 'mcl';
	readonly decodePoint: (bytes: Uint8Array, what: string) => [bigint, bigint];
	private readonly fixed: FixedPoints;
	private readonly inG2: (point: G2) => boolean;

	constructor(
		private readonly mcl: Mcl,
		vkey: VerificationKey,
		private readonly workers: boolean
	) {
		this.fixed = {
			alpha: g1FromJson(mcl, vkey.vk_alpha_1, 'α'),
			beta: g2FromJson(mcl, vkey.vk_beta_2, 'β'),
			gamma: g2FromJson(mcl, vkey.vk_gamma_2, 'γ'),
			delta: g2FromJson(mcl, vkey.vk_delta_2, 'δ'),
			ic: vkey.IC.map((p, j) => g1FromJson(mcl, p, `IC${j}`))
		};
		this.inG2 = createMclG2SubgroupCheck(mcl);
		this.decodePoint = createMclPointDecoder(mcl);
	}

	toPoints(proof: Groth16Proof): Points | undefined {
		const b = g2(this.mcl, proof.b);
		return this.inG2(b) ? { a: g1(this.mcl, proof.a), b, c: g1(this.mcl, proof.c) } : undefined;
	}

	batch(expected: number): BatchCheck<Points> {
		const pool = this.workers && expected >= POOL_MIN ? sharedMclPool() : undefined;
		return new MclBatchCheck(this.mcl, this.fixed, pool?.ready ? pool : undefined, expected);
	}

	async single({ points: { a, b, c }, signals }: PreparedProof<Points>): Promise<boolean> {
		const { mcl } = this;
		const { alpha, beta, gamma, delta, ic } = this.fixed;
		const lx = mcl.mulVec(
			ic,
			[1n, ...signals].map((s) => fr(mcl, s))
		);
		const pairing = new MclMultiPairing(mcl);
		pairing.add(mcl.neg(a), b);
		pairing.add(alpha, beta);
		pairing.add(lx, gamma);
		pairing.add(c, delta);
		return pairing.isOne();
	}
}

/**
 * Πᵢ e(ρᵢ·Aᵢ, Bᵢ) · e(−(Σρᵢ)·α, β) · e(−Σρᵢ·Lᵢ, γ) · e(−Σρᵢ·Cᵢ, δ) = 1, filled proof by proof; with a
 * pool, the proofs' pairs go out in jobs of `jobSize` and a job that fails is computed here instead.
 */
class MclBatchCheck implements BatchCheck<Points> {
	private readonly pairing: MclMultiPairing;
	/** Σρᵢ, then Σρᵢ·xᵢⱼ for each public signal j (mod r). */
	private readonly icScalars: bigint[];
	private readonly cs: G1[] = [];
	private readonly rhos: Fr[] = [];
	private readonly jobSize: number;
	private job: PairItem[] = [];
	private readonly jobs: Promise<GT>[] = [];

	constructor(
		private readonly mcl: Mcl,
		private readonly fixed: FixedPoints,
		private readonly pool: MclPool | undefined,
		expected: number
	) {
		this.pairing = new MclMultiPairing(mcl);
		this.icScalars = fixed.ic.map(() => 0n);
		const perJob = Math.ceil(expected / (2 * (pool?.ready ?? 1)));
		this.jobSize = Math.max(MIN_JOB, Math.min(MAX_JOB, perJob));
	}

	add({ points, signals }: PreparedProof<Points>): boolean {
		const rho = randomRho();
		const rhoFr = fr(this.mcl, rho);
		this.icScalars[0] = (this.icScalars[0]! + rho) % R;
		signals.forEach((s, j) => (this.icScalars[j + 1] = (this.icScalars[j + 1]! + rho * s) % R));
		this.cs.push(points.c);
		this.rhos.push(rhoFr);
		if (!this.pool) return this.pairing.add(this.mcl.mul(points.a, rhoFr), points.b);
		this.job.push(pairItem(points.a, points.b, rhoFr));
		if (this.job.length < this.jobSize) return false;
		this.send();
		return true;
	}

	async isValid(): Promise<boolean> {
		const { mcl } = this;
		const { alpha, beta, gamma, delta, ic } = this.fixed;
		this.send();
		const scalars = this.icScalars.map((s) => fr(mcl, s));
		this.pairing.add(mcl.neg(mcl.mul(alpha, scalars[0]!)), beta);
		this.pairing.add(mcl.neg(mcl.mulVec(ic, scalars)), gamma);
		if (this.cs.length > 0) this.pairing.add(mcl.neg(mcl.mulVec(this.cs, this.rhos)), delta);
		for (const value of await Promise.all(this.jobs)) this.pairing.multiply(value);
		return this.pairing.isOne();
	}

	private send(): void {
		const items = this.job;
		if (!this.pool || items.length === 0) return;
		this.job = [];
		const { mcl } = this;
		this.jobs.push(
			this.pool.run(items).then(
				(bytes) => {
					const value = new mcl.GT();
					value.deserialize(bytes);
					return value;
				},
				() => millerValueOf(mcl, items)
			)
		);
	}
}
