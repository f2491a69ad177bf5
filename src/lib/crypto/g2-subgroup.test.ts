import { bn254 } from '@noble/curves/bn254.js';
import * as snarkjs from 'snarkjs';
import type { Bn128 } from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createG2SubgroupCheck } from './g2-subgroup.ts';
import { terminateCurve } from './snark.node.ts';

const G2 = bn254.G2.Point;
const Fp2 = bn254.fields.Fp2;
/** Cofactor of BN254's twist: #E'(Fp2) = r·H2, and 10069 is H2's smallest prime factor. */
const H2 = 21888242871839275222246405745257275088844257914179612981679871602714643921549n;
let curve: Bn128;
let inG2: (point: Uint8Array) => boolean;

const le = (value: bigint, length: number) => {
	const out = new Uint8Array(length);
	for (let i = 0; i < length; i++, value >>= 8n) out[i] = Number(value & 0xffn);
	return out;
};
const wasm = (point: InstanceType<typeof G2>) => {
	const { x, y } = point.toAffine();
	return curve.G2.fromObject([
		[x.c0, x.c1],
		[y.c0, y.c1],
		[1n, 0n]
	]);
};
const byOrder = (point: Uint8Array) => curve.G2.isZero(curve.G2.timesScalar(point, le(curve.r, 32)));

/** Points on the twist found by x-coordinate search: almost surely outside G2. */
function twistPoints(count: number): InstanceType<typeof G2>[] {
	const out: InstanceType<typeof G2>[] = [];
	for (let k = 1n; out.length < count; k++) {
		const x = { c0: k, c1: 3n * k };
		const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), G2.CURVE().b);
		try {
			const y = Fp2.sqrt(rhs);
			if (Fp2.eql(Fp2.sqr(y), rhs)) out.push(G2.fromAffine({ x, y }));
		} catch {
			// not a square: no point with this x
		}
	}
	return out;
}

beforeAll(async () => {
	curve = await snarkjs.curves.getCurveFromName('bn128');
	inG2 = createG2SubgroupCheck(curve);
});
afterAll(terminateCurve);

describe('G2 subgroup check (endomorphism test)', () => {
	it('accepts points of G2 and the identity', () => {
		for (let k = 1n; k < 12n; k++) expect(inG2(wasm(G2.BASE.multiply(k * 7919n + 3n)))).toBe(true);
		expect(inG2(curve.G2.zero)).toBe(true);
	});

	it('rejects twist points outside G2, agreeing with r·P = 0', () => {
		for (const point of twistPoints(12)) {
			const w = wasm(point);
			expect(byOrder(w)).toBe(false);
			expect(inG2(w)).toBe(false);
		}
	});

	it('rejects a G2 point plus a component of small order 10069, and that component alone', () => {
		let tested = 0;
		for (const point of twistPoints(6)) {
			const small = curve.G2.timesScalar(wasm(point), le(curve.r * (H2 / 10069n), 64));
			if (curve.G2.isZero(small)) continue;
			expect(curve.G2.isZero(curve.G2.timesScalar(small, 10069n))).toBe(true);
			const mixed = curve.G2.add(wasm(G2.BASE.multiply(12345n)), small);
			expect(byOrder(mixed)).toBe(false);
			expect(inG2(mixed)).toBe(false);
			expect(inG2(small)).toBe(false);
			tested++;
		}
		expect(tested).toBeGreaterThan(0);
	});
});
