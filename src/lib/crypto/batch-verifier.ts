/**
 * The consensus node's ChameleonVerifier: batch Groth16 verification of the chameleon circuit.
 *
 * One proof verifies when e(A, B) = e(α, β)·e(Lₓ, γ)·e(C, δ), Lₓ = IC₀ + Σⱼ xⱼ·ICⱼ. For n proofs and
 * secret random 128-bit ρᵢ, the batch checks the random linear combination
 *     Πᵢ e(−ρᵢ·Aᵢ, Bᵢ) · e((Σρᵢ)·α, β) · e(Σρᵢ·Lᵢ, γ) · e(Σρᵢ·Cᵢ, δ) = 1
 * with one multi-pairing: n + 3 Miller loops and a single final exponentiation (a single verify needs 4
 * Miller loops and one final exponentiation), so the cost per proof falls towards one Miller loop. A bad
 * proof passes only if the ρᵢ happen to cancel its error: probability ≤ 2⁻¹²⁸. When a batch fails, it
 * is bisected to find exactly which proofs are bad.
 *
 * Each proof is first checked on its own, cheaply: canonical bytes and points on their curves (core
 * decodeProof), B in G2's prime-order subgroup (g2-subgroup.ts; snarkjs skips this, but pairing equations are
 * only meaningful for points of order r), and public signals from canonical points and a hash key in the
 * subgroup. The verification key must hash to the consortium's CHAMELEON_VKEY_HASH.
 */
import * as snarkjs from 'snarkjs';
import type { Bn128 } from 'snarkjs';
import { bigIntToBytes, bytesToBigInt, bytesToHex, concatBytes } from '../core/bytes.ts';
import { ValidationError, ensure } from '../core/errors.ts';
import {
	SUBGROUP_ORDER,
	decodeProof,
	publicSignals,
	type ChameleonStatement,
	type ChameleonVerifier
} from '../core/chameleon.ts';
import { CHAMELEON_VKEY_HASH } from '../core/chameleon-params.ts';
import { checkVerificationKey, type VerificationKey } from './verification-key.ts';
import { createPointDecoder } from './babyjubjub-wasm.ts';
import { createG2SubgroupCheck } from './g2-subgroup.ts';
import { proofToSnarkjs } from './groth16.ts';
import { MultiPairing } from './multi-pairing.ts';

/** A statement whose inputs are well formed, ready for the pairing check. */
interface Prepared {
	a: Uint8Array;
	b: Uint8Array;
	c: Uint8Array;
	signals: bigint[];
}

const RHO_BYTES = 16;
/** Hash keys are per institution: a consortium has few, so a small cache holds them all. */
const MAX_CACHED_KEYS = 1024;

function le(value: bigint, length: number): Uint8Array {
	return bigIntToBytes(value, length).reverse();
}

export class Groth16BatchVerifier implements ChameleonVerifier {
	private readonly fixed: FixedPoints;
	private readonly keys = new Map<string, bigint[]>();
	private readonly inG2: (point: Uint8Array) => boolean;
	private readonly decodeH: (bytes: Uint8Array, what: string) => [bigint, bigint];

	private constructor(
		private readonly curve: Bn128,
		readonly vkey: VerificationKey
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
		this.decodeH = createPointDecoder(curve);
	}

	/** Refuses any verification key but the consortium's (`expectedHashHex`, by default the genesis one). */
	static async create(
		vkey: VerificationKey,
		expectedHashHex = CHAMELEON_VKEY_HASH
	): Promise<Groth16BatchVerifier> {
		checkVerificationKey(vkey, expectedHashHex);
		return new Groth16BatchVerifier(await snarkjs.curves.getCurveFromName('bn128'), vkey);
	}

	/** One proof through snarkjs's own verifier (the reference the batch is measured against). */
	async verifySingle(statement: ChameleonStatement): Promise<boolean> {
		try {
			const proof = decodeProof(statement.hash.proof);
			const signals = this.signals(statement).map(String);
			if (!this.inG2(this.curve.G2.fromObject([...proof.b, [1n, 0n]]))) return false;
			return await snarkjs.groth16.verify(this.vkey, signals, proofToSnarkjs(proof));
		} catch (error) {
			if (error instanceof ValidationError) return false;
			throw error;
		}
	}

	async verifyAll(statements: readonly ChameleonStatement[]): Promise<boolean[]> {
		// The first batch's Miller loops start in the thread pool while later statements are still being
		// decoded and checked here.
		const first = new BatchCheck(this.curve, this.fixed, statements.length);
		const prepared: (Prepared | undefined)[] = [];
		for (const statement of statements) {
			const item = this.prepare(statement);
			prepared.push(item);
			if (item && statements.length > 1 && first.add(item)) await yieldToEventLoop();
		}
		const results = prepared.map((p) => p !== undefined);
		const candidates = results.flatMap((ok, i) => (ok ? [i] : []));
		if (candidates.length === 0 || (statements.length > 1 && (await first.isValid()))) return results;
		await this.settle(candidates, prepared as Prepared[], results, statements.length > 1);
		return results;
	}

	/**
	 * Marks every bad index of `indices` false: one batch if all are good, else bisection down to single
	 * proofs. `failed`: the batch of exactly these indices is already known to fail.
	 */
	private async settle(
		indices: number[],
		prepared: Prepared[],
		results: boolean[],
		failed = false
	): Promise<void> {
		if (indices.length === 0) return;
		if (indices.length === 1) {
			results[indices[0]!] = await this.single(prepared[indices[0]!]!);
			return;
		}
		if (!failed) {
			const batch = new BatchCheck(this.curve, this.fixed, indices.length);
			for (const i of indices) batch.add(prepared[i]!);
			if (await batch.isValid()) return;
		}
		const half = indices.length >> 1;
		await this.settle(indices.slice(0, half), prepared, results);
		await this.settle(indices.slice(half), prepared, results);
	}

	/** Public signals, with each hash key's decoding (and its costly subgroup check) done once. */
	private signals(statement: ChameleonStatement): bigint[] {
		const hex = bytesToHex(statement.hk);
		let key = this.keys.get(hex);
		if (!key) {
			key = publicSignals(statement).slice(2, 4);
			if (this.keys.size >= MAX_CACHED_KEYS) this.keys.clear();
			this.keys.set(hex, key);
		}
		ensure(statement.m >= 0n && statement.m < SUBGROUP_ORDER, 'chameleon-scalar', 'm must be in [0, L)');
		return [...this.decodeH(statement.hash.h, 'chameleon hash'), ...key, statement.m];
	}

	private prepare(statement: ChameleonStatement): Prepared | undefined {
		try {
			const signals = this.signals(statement);
			const { a, b, c } = decodeProof(statement.hash.proof);
			const { G1, G2 } = this.curve;
			const prepared = {
				a: G1.fromObject([...a, 1n]),
				b: G2.fromObject([...b, [1n, 0n]]),
				c: G1.fromObject([...c, 1n]),
				signals
			};
			return this.inG2(prepared.b) ? prepared : undefined;
		} catch (error) {
			if (error instanceof ValidationError) return undefined;
			throw error;
		}
	}

	/** One proof needs no random combination: the plain Groth16 equation, 4 Miller loops. */
	private single({ a, b, c, signals }: Prepared): Promise<boolean> {
		const { G1 } = this.curve;
		const { alpha, beta, gamma, delta, ic } = this.fixed;
		const lx = G1.add(publicInput(this.curve, ic, signals), ic[0]!);
		return this.curve.pairingEq(G1.neg(a), b, alpha, beta, lx, gamma, c, delta);
	}
}

/** Lets queued thread-pool messages be handled (they arrive as events on this thread). */
function yieldToEventLoop(): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, 0));
}

/** The verification key's points in ffjavascript's form. */
interface FixedPoints {
	alpha: Uint8Array;
	beta: Uint8Array;
	gamma: Uint8Array;
	delta: Uint8Array;
	ic: Uint8Array[];
}

/** Σⱼ sⱼ·ICⱼ₊₁ for the five public signals, on this thread (a thread-pool MSM costs more for five points). */
function publicInput(curve: Bn128, ic: Uint8Array[], scalars: bigint[]): Uint8Array {
	const { G1 } = curve;
	return scalars.reduce((sum, s, j) => G1.add(sum, G1.timesScalar(ic[j + 1]!, le(s, 32))), G1.zero);
}

/**
 * One random-linear-combination check, filled proof by proof:
 * Πᵢ e(−ρᵢ·Aᵢ, Bᵢ) · e((Σρᵢ)·α, β) · e(Σρᵢ·Lᵢ, γ) · e(Σρᵢ·Cᵢ, δ) = 1.
 */
class BatchCheck {
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

	/** Returns true when the caller should yield so the thread pool can pick up the work sent. */
	add(item: Prepared): boolean {
		const { G1, r } = this.curve;
		const rho = bytesToBigInt(crypto.getRandomValues(new Uint8Array(RHO_BYTES))) | 1n;
		const sent = this.pairing.add(G1.neg(G1.timesScalar(item.a, le(rho, RHO_BYTES))), item.b);
		this.icScalars[0] = (this.icScalars[0]! + rho) % r;
		item.signals.forEach((s, j) => (this.icScalars[j + 1] = (this.icScalars[j + 1]! + rho * s) % r));
		this.cs.push(G1.toAffine(item.c));
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
