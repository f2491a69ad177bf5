/**
 * G2 subgroup membership for BN254 on mcl points (proof point B): the criterion of g2-subgroup.ts
 * (eprint 2022/348), P in the order-r subgroup iff [x+1]P + ψ([x]P) + ψ²([x]P) = ψ³([2x]P), x the BN
 * seed, written with R = [x]P as P + R + ψ(R) + ψ²(R) = 2·ψ³(R) (ψ is a group endomorphism), so it costs
 * one 63-bit scalar multiplication and three ψ. ψ(X, Y, Z) = (X̄·εx, Ȳ·εy, Z̄), εx = ξ^((p−1)/3),
 * εy = ξ^((p−1)/2), ξ = 9 + u, works on Jacobian and projective coordinates alike because conjugation is
 * a field automorphism, so no inversion is needed.
 *
 * [x]P must be the plain group multiple for points outside G2 too. mcl uses its GLV/GLS decomposition
 * (valid only inside G2) for scalars above 64 bits; x has 63, so `mcl.mul` takes the generic path, and
 * mcl-g2-subgroup.test.ts checks it against double-and-add on points outside G2. If [x]P = 0 with P ≠ 0,
 * P's order divides x < r, so P is not in G2 (whose nonzero points have order r): rejected.
 */
import { bn254 } from '@noble/curves/bn254.js';
import { fp2, fr, rawMcl, words, type G2, type Mcl } from './mcl.ts';

const F = bn254.fields.Fp2;
const p = bn254.fields.Fp.ORDER;
export const BN_SEED = 4965661367192848881n;
const XI = { c0: 9n, c1: 1n };
const EPS_X = F.pow(XI, (p - 1n) / 3n);
const EPS_Y = F.pow(XI, (p - 1n) / 2n);

/** Slots of the scratch area, each one G2 point (X, Y, Z as Fp2 = a + b·u) wide. */
const SLOTS = ['input', 'multiple', 'psi1', 'psi2', 'psi3', 'sum1', 'sum2', 'twice', 'constants'] as const;
type Slot = (typeof SLOTS)[number];

export function createMclG2SubgroupCheck(mcl: Mcl): (point: G2) => boolean {
	const raw = rawMcl(mcl);
	const pointBytes = words(new mcl.G2()).length * 4;
	const fp2Bytes = pointBytes / 3;
	const fpBytes = fp2Bytes / 2;
	const base = raw._malloc(pointBytes * SLOTS.length);
	const at = (slot: Slot) => base + SLOTS.indexOf(slot) * pointBytes;
	// Constants slot: εx, εy, then the seed as an Fr.
	const epsX = at('constants');
	const epsY = epsX + fp2Bytes;
	const seed = epsY + fp2Bytes;
	raw.HEAP32.set(words(fp2(mcl, [EPS_X.c0, EPS_X.c1])), epsX >> 2);
	raw.HEAP32.set(words(fp2(mcl, [EPS_Y.c0, EPS_Y.c1])), epsY >> 2);
	raw.HEAP32.set(words(fr(mcl, BN_SEED)), seed >> 2);
	const conjugate = (out: number, v: number) => {
		raw.HEAP32.copyWithin(out >> 2, v >> 2, (v + fpBytes) >> 2);
		raw._mclBnFp_neg(out + fpBytes, v + fpBytes);
	};
	/** ψ(input) into out; the conjugates go through the `twice` slot, free until the last step. */
	const psi = (out: number, input: number) => {
		const scratch = at('twice');
		conjugate(scratch, input);
		raw._mclBnFp2_mul(out, scratch, epsX);
		conjugate(scratch, input + fp2Bytes);
		raw._mclBnFp2_mul(out + fp2Bytes, scratch, epsY);
		conjugate(out + 2 * fp2Bytes, input + 2 * fp2Bytes);
	};
	return (point) => {
		if (point.isZero()) return true;
		raw.HEAP32.set(words(point), at('input') >> 2);
		raw._mclBnG2_mul(at('multiple'), at('input'), seed);
		if (raw._mclBnG2_isZero(at('multiple'))) return false;
		psi(at('psi1'), at('multiple'));
		psi(at('psi2'), at('psi1'));
		psi(at('psi3'), at('psi2'));
		raw._mclBnG2_add(at('sum1'), at('input'), at('multiple'));
		raw._mclBnG2_add(at('sum2'), at('sum1'), at('psi1'));
		raw._mclBnG2_add(at('sum1'), at('sum2'), at('psi2'));
		raw._mclBnG2_dbl(at('twice'), at('psi3'));
		return raw._mclBnG2_isEqual(at('sum1'), at('twice')) === 1;
	};
}
