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
import { fp2, fr, type Fp2, type G2, type Mcl } from './mcl.ts';

const F = bn254.fields.Fp2;
const p = bn254.fields.Fp.ORDER;
export const BN_SEED = 4965661367192848881n;
const XI = { c0: 9n, c1: 1n };
const EPS_X = F.pow(XI, (p - 1n) / 3n);
const EPS_Y = F.pow(XI, (p - 1n) / 2n);

export function createMclG2SubgroupCheck(mcl: Mcl): (point: G2) => boolean {
	const epsX = fp2(mcl, [EPS_X.c0, EPS_X.c1]);
	const epsY = fp2(mcl, [EPS_Y.c0, EPS_Y.c1]);
	const seed = fr(mcl, BN_SEED);
	const conjugate = (v: Fp2) => {
		const out = v.clone();
		out.set_b(mcl.neg(v.get_b()));
		return out;
	};
	const psi = (point: G2) => {
		const out = new mcl.G2();
		out.setX(mcl.mul(conjugate(point.getX()), epsX));
		out.setY(mcl.mul(conjugate(point.getY()), epsY));
		out.setZ(conjugate(point.getZ()));
		return out;
	};
	return (point) => {
		if (point.isZero()) return true;
		const r = mcl.mul(point, seed);
		if (r.isZero()) return false;
		const psi1 = psi(r);
		const psi2 = psi(psi1);
		const left = mcl.add(mcl.add(mcl.add(point, r), psi1), psi2);
		return left.isEqual(mcl.dbl(psi(psi2)));
	};
}
