/**
 * The batch verifier's arithmetic on snarkjs's own curve (ffjavascript's WASM, `curve_bn128`): the former
 * path, kept as `Groth16BatchVerifier.create(…, { library: 'ffjavascript' })` so the bench can give the
 * ratio to it and tests can check that it agrees with the mcl path (groth16-mcl.ts).
 *
 * Miller loops run in ffjavascript's thread pool (multi-pairing.ts), handed out in chunks while later
 * proofs are still being decoded; B's subgroup check is g2-subgroup.ts, h is decoded with the same WASM
 * field (babyjubjub-wasm.ts). In Node the curve's worker threads keep the process alive until
 * terminateCurve (snark.node.ts).
 */
import * as snarkjs from 'snarkjs';
import type { Bn128 } from 'snarkjs';
import { bigIntToBytes, concatBytes } from '../core/bytes.ts';
import type { Groth16Proof } from '../core/chameleon.ts';
import { createPointDecoder } from './babyjubjub-wasm.ts';
import { createG2SubgroupCheck } from './g2-subgroup.ts';
import {
	RHO_BYTES,
	randomRho,
	type BatchCheck,
	type Groth16Backend,
	type PreparedProof
} from './groth16-backend.ts';
import { MultiPairing } from './multi-pairing.ts';
import type { VerificationKey } from './verification-key.ts';

function le(value: bigint, length: number): Uint8Array {
	return bigIntToBytes(value, length).reverse();
}

/** A proof's points in ffjavascript's form. */
interface Points {
	a: Uint8Array;
	b: Uint8Array;
	c: Uint8Array;
}

/** The verification key's points in ffjavascript's form. */
interface FixedPoints {
	alpha: Uint8Array;
	beta: Uint8Array;
	gamma: Uint8Array;
	delta: Uint8Array;
	ic: Uint8Array[];
}

export async function createFfjavascriptGroth16(vkey: VerificationKey): Promise<Groth16Backend<Points>> {
	return new FfjavascriptGroth16(await snarkjs.curves.getCurveFromName('bn128'), vkey);
}

class FfjavascriptGroth16 implements Groth16Backend<Points> {
	readonly library = 'ffjavascript';
	readonly decodePoint: (bytes: Uint8Array, what: string) => [bigint, bigint];
	private readonly fixed: FixedPoints;
	private readonly inG2: (point: Uint8Array) => boolean;

	constructor(
		private readonly curve: Bn128,
		vkey: VerificationKey
	) {
		const g2 = (p: VerificationKey['vk_beta_2']) => curve.G2.fromObject(p.map((c) => c.map(BigInt)));
		this.fixed = {
			alpha: curve.G1.fromObject(vkey.vk_alpha_1.map(BigInt)),
			beta: g2(vkey.vk_beta_2),
			gamma: g2(vkey.vk_gamma_2),
			delta: g2(vkey.vk_delta_2),
			ic: vkey.IC.map((p) => curve.G1.fromObject(p.map(BigInt)))
		};
		this.inG2 = createG2SubgroupCheck(curve);
		this.decodePoint = createPointDecoder(curve);
	}

	toPoints({ a, b, c }: Groth16Proof): Points | undefined {
		const { G1, G2 } = this.curve;
		const points = {
			a: G1.fromObject([...a, 1n]),
			b: G2.fromObject([...b, [1n, 0n]]),
			c: G1.fromObject([...c, 1n])
		};
		return this.inG2(points.b) ? points : undefined;
	}

	batch(expected: number): BatchCheck<Points> {
		return new FfjavascriptBatchCheck(this.curve, this.fixed, expected);
	}

	single({ points: { a, b, c }, signals }: PreparedProof<Points>): Promise<boolean> {
		const { G1 } = this.curve;
		const { alpha, beta, gamma, delta, ic } = this.fixed;
		const lx = G1.add(publicInput(this.curve, ic, signals), ic[0]!);
		return this.curve.pairingEq(G1.neg(a), b, alpha, beta, lx, gamma, c, delta);
	}
}

/** Σⱼ sⱼ·ICⱼ₊₁ for the five public signals, on this thread (a thread-pool MSM costs more for five points). */
function publicInput(curve: Bn128, ic: Uint8Array[], scalars: bigint[]): Uint8Array {
	const { G1 } = curve;
	return scalars.reduce((sum, s, j) => G1.add(sum, G1.timesScalar(ic[j + 1]!, le(s, 32))), G1.zero);
}

/** Πᵢ e(−ρᵢ·Aᵢ, Bᵢ) · e((Σρᵢ)·α, β) · e(Σρᵢ·Lᵢ, γ) · e(Σρᵢ·Cᵢ, δ) = 1, filled proof by proof. */
class FfjavascriptBatchCheck implements BatchCheck<Points> {
	private readonly pairing: MultiPairing;
	private readonly icScalars: bigint[];
	private readonly cs: Uint8Array[] = [];
	private readonly rhos: Uint8Array[] = [];

	constructor(
		private readonly curve: Bn128,
		private readonly fixed: FixedPoints,
		expected: number
	) {
		this.pairing = new MultiPairing(curve, expected + 3);
		this.icScalars = fixed.ic.map(() => 0n);
	}

	add({ points, signals }: PreparedProof<Points>): boolean {
		const { G1, r } = this.curve;
		const rho = randomRho();
		const sent = this.pairing.add(G1.neg(G1.timesScalar(points.a, le(rho, RHO_BYTES))), points.b);
		this.icScalars[0] = (this.icScalars[0]! + rho) % r;
		signals.forEach((s, j) => (this.icScalars[j + 1] = (this.icScalars[j + 1]! + rho * s) % r));
		this.cs.push(G1.toAffine(points.c));
		this.rhos.push(le(rho, 32));
		return sent;
	}

	async isValid(): Promise<boolean> {
		const { G1 } = this.curve;
		const { alpha, beta, gamma, delta, ic } = this.fixed;
		const sumRho = le(this.icScalars[0]!, 32);
		const lSum = G1.add(publicInput(this.curve, ic, this.icScalars.slice(1)), G1.timesScalar(ic[0]!, sumRho));
		const cSum = await G1.multiExpAffine(concatBytes(...this.cs), concatBytes(...this.rhos));
		this.pairing.add(G1.timesScalar(alpha, sumRho), beta);
		this.pairing.add(lSum, gamma);
		this.pairing.add(cSum, delta);
		return this.pairing.isOne();
	}
}
