/**
 * G2 subgroup membership for BN254 (proof point B), fast: a point P on the twist E'(Fp2) lies in the
 * order-r subgroup iff  [x+1]P + ψ([x]P) + ψ²([x]P) = ψ³([2x]P),  x = 4965661367192848881 the BN seed
 * (Dai, Lin, Zhao, Zhou, eprint 2022/348; valid since x ≢ 4 mod 13 and x ≢ 92 mod 97), where
 * ψ(X, Y) = (X̄·ξ^((p−1)/3), Ȳ·ξ^((p−1)/2)), ξ = 9 + u, is the untwist-Frobenius-twist endomorphism.
 * One 63-bit scalar multiplication instead of the 254-bit r·P, which matters when hundreds of proofs are
 * batch-verified. Points are ffjavascript's (WASM, Montgomery form); ψ is computed with @noble/curves.
 */
import { bn254 } from '@noble/curves/bn254.js';
import type { Bn128 } from 'snarkjs';

type Fp2 = { c0: bigint; c1: bigint };
const F = bn254.fields.Fp2;
const SEED = 4965661367192848881n;
const p = bn254.fields.Fp.ORDER;
const XI = { c0: 9n, c1: 1n };
const EPS_X = F.pow(XI, (p - 1n) / 3n);
const EPS_Y = F.pow(XI, (p - 1n) / 2n);

function psi([x, y]: [Fp2, Fp2]): [Fp2, Fp2] {
	return [F.mul(F.frobeniusMap(x, 1), EPS_X), F.mul(F.frobeniusMap(y, 1), EPS_Y)];
}

export function createG2SubgroupCheck(curve: Bn128): (point: Uint8Array) => boolean {
	const G2 = curve.G2;
	const seed = new Uint8Array(8);
	new DataView(seed.buffer).setBigUint64(0, SEED, true);
	const toPoint = (a: Uint8Array): [Fp2, Fp2] => {
		const [[x0, x1], [y0, y1]] = G2.toObject(G2.toAffine(a)) as [[bigint, bigint], [bigint, bigint]];
		return [
			{ c0: x0, c1: x1 },
			{ c0: y0, c1: y1 }
		];
	};
	const fromPoint = ([x, y]: [Fp2, Fp2]) =>
		G2.fromObject([
			[x.c0, x.c1],
			[y.c0, y.c1],
			[1n, 0n]
		]);
	const byOrder = (point: Uint8Array) => {
		const order = new Uint8Array(32);
		let r = curve.r;
		for (let i = 0; i < 32; i++, r >>= 8n) order[i] = Number(r & 0xffn);
		return G2.isZero(G2.timesScalar(point, order));
	};
	return (point) => {
		if (G2.isZero(point)) return true;
		const xP = G2.timesScalar(point, seed);
		// [x]P = 0 only for points of tiny order, where ψ's affine form does not exist: check by the order.
		if (G2.isZero(xP)) return byOrder(point);
		const psi1 = psi(toPoint(xP));
		const psi2 = psi(psi1);
		const left = G2.add(G2.add(G2.add(xP, point), fromPoint(psi1)), fromPoint(psi2));
		const right = fromPoint(psi(psi(psi(toPoint(G2.add(xP, xP))))));
		return G2.eq(left, right);
	};
}
