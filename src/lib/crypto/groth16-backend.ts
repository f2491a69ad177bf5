/**
 * What the batch verifier (batch-verifier.ts) needs from a pairing library, so that its checks, its
 * random linear combination and its bisection are written once: groth16-mcl.ts (herumi's mcl, the
 * default) and groth16-ffjavascript.ts (snarkjs's own WASM curve, the former path, kept so the bench can
 * compare the two and tests can check that both agree).
 *
 * For a batch, an implementation checks, for secret random 128-bit ρᵢ,
 *     Πᵢ e(−ρᵢ·Aᵢ, Bᵢ) · e((Σρᵢ)·α, β) · e(Σρᵢ·Lᵢ, γ) · e(Σρᵢ·Cᵢ, δ) = 1,   Lᵢ = IC₀ + Σⱼ xᵢⱼ·ICⱼ
 * (up to moving the signs), and for one proof the plain equation e(A, B) = e(α, β)·e(L, γ)·e(C, δ).
 */
import { bytesToBigInt } from '../core/bytes.ts';
import type { Groth16Proof } from '../core/chameleon.ts';

export type PairingLibrary = 'mcl' | 'ffjavascript';

/** A proof whose bytes, points and public signals passed every check but the pairing equation. */
export interface PreparedProof<P> {
	points: P;
	/** hx, hy, Xx, Xy, m. */
	signals: bigint[];
}

/** One random-linear-combination check, filled proof by proof. */
export interface BatchCheck<P> {
	/** Returns true when the caller should let its event loop run (work was just done or handed off). */
	add(item: PreparedProof<P>): boolean;
	isValid(): Promise<boolean>;
}

export interface Groth16Backend<P> {
	readonly library: PairingLibrary;
	/** The proof's points in the library's form, or undefined if B is outside G2's order-r subgroup. */
	toPoints(proof: Groth16Proof): P | undefined;
	/** A compressed Baby Jubjub point (h) to affine coordinates, by the core decoder's rules. */
	decodePoint(bytes: Uint8Array, what: string): [bigint, bigint];
	/** `expected`: about how many proofs will be added (to size the work handed out). */
	batch(expected: number): BatchCheck<P>;
	/** The plain Groth16 equation for one proof (4 Miller loops). */
	single(item: PreparedProof<P>): Promise<boolean>;
}

/** Bytes of ρ: 128 bits, so a bad proof survives a batch with probability ≤ 2⁻¹²⁸. */
export const RHO_BYTES = 16;

/** CSPRNG bytes for the next ρs: one platform call per 256 proofs instead of one per proof. */
const rhoBytes = new Uint8Array(RHO_BYTES * 256);
let rhoOffset = rhoBytes.length;

/** A fresh secret ρ < 2¹²⁸ from the platform's CSPRNG, odd so it is never 0. */
export function randomRho(): bigint {
	if (rhoOffset === rhoBytes.length) {
		crypto.getRandomValues(rhoBytes);
		rhoOffset = 0;
	}
	const bytes = rhoBytes.subarray(rhoOffset, (rhoOffset += RHO_BYTES));
	const rho = bytesToBigInt(bytes) | 1n;
	// Used once: the bytes of a spent ρ do not stay in memory.
	bytes.fill(0);
	return rho;
}
