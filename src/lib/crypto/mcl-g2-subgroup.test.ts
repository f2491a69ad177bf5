// The mcl G2 subgroup check against noble's r·P = 0 (isTorsionFree), on G2 points, twist points and
// points with an order-10069 component; and mcl's [x]P against double-and-add outside G2 (no GLV there).
import { bn254 } from '@noble/curves/bn254.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { fr, g2, g2Affine, loadMcl, R, type G2, type Mcl } from './mcl.ts';
import { BN_SEED, createMclG2SubgroupCheck } from './mcl-g2-subgroup.ts';

const Noble = bn254.G2.Point;
type NoblePoint = InstanceType<typeof Noble>;
const Fp2 = bn254.fields.Fp2;
/** Cofactor of BN254's twist: #E'(Fp2) = r·H2, and 10069 is H2's smallest prime factor. */
const H2 = 21888242871839275222246405745257275088844257914179612981679871602714643921549n;
let mcl: Mcl;
let inG2: (point: G2) => boolean;

const toMcl = (point: NoblePoint) => {
	const { x, y } = point.toAffine();
	return g2(mcl, [
		[x.c0, x.c1],
		[y.c0, y.c1]
	]);
};
const toNoble = (point: G2) => {
	const affine = g2Affine(mcl, point);
	if (!affine) return Noble.ZERO;
	const [[x0, x1], [y0, y1]] = affine;
	return Noble.fromAffine({ x: { c0: x0, c1: x1 }, y: { c0: y0, c1: y1 } });
};
/** k·P by plain double-and-add: a group multiple for any point of the twist. */
const multiple = (point: G2, k: bigint) => {
	let acc = new mcl.G2();
	for (const bit of k.toString(2)) {
		acc = mcl.dbl(acc);
		if (bit === '1') acc = mcl.add(acc, point);
	}
	return acc;
};

/** Points on the twist found by x-coordinate search: almost surely outside G2. */
function twistPoints(count: number): NoblePoint[] {
	const out: NoblePoint[] = [];
	for (let k = 1n; out.length < count; k++) {
		const x = { c0: k, c1: 3n * k };
		const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), Noble.CURVE().b);
		try {
			const y = Fp2.sqrt(rhs);
			if (Fp2.eql(Fp2.sqr(y), rhs)) out.push(Noble.fromAffine({ x, y }));
		} catch {
			// not a square: no point with this x
		}
	}
	return out;
}

beforeAll(async () => {
	mcl = await loadMcl();
	inG2 = createMclG2SubgroupCheck(mcl);
});

describe('mcl G2 subgroup check (endomorphism test)', () => {
	it('accepts points of G2 and the identity, and the conversions round-trip', () => {
		for (let k = 1n; k < 12n; k++) {
			const point = Noble.BASE.multiply(k * 7919n + 3n);
			expect(toNoble(toMcl(point)).equals(point)).toBe(true);
			expect(inG2(toMcl(point))).toBe(true);
			// A Jacobian (non-normalised) representative too.
			expect(inG2(mcl.add(toMcl(point), toMcl(Noble.BASE)))).toBe(true);
		}
		expect(inG2(new mcl.G2())).toBe(true);
	});

	it('rejects twist points outside G2, agreeing with r·P = 0; [x]P is the plain multiple there', () => {
		for (const point of twistPoints(12)) {
			expect(point.isTorsionFree()).toBe(false);
			const w = toMcl(point);
			expect(inG2(w)).toBe(false);
			expect(mcl.mul(w, fr(mcl, BN_SEED)).isEqual(multiple(w, BN_SEED))).toBe(true);
		}
	});

	it('rejects a G2 point plus a component of small order 10069, and that component alone', () => {
		let tested = 0;
		for (const point of twistPoints(6)) {
			const small = multiple(toMcl(point), R * (H2 / 10069n));
			if (small.isZero()) continue;
			expect(multiple(small, 10069n).isZero()).toBe(true);
			const mixed = mcl.add(toMcl(Noble.BASE.multiply(12345n)), small);
			expect(toNoble(mixed).isTorsionFree()).toBe(false);
			expect(inG2(mixed)).toBe(false);
			expect(inG2(small)).toBe(false);
			expect(mcl.mul(mixed, fr(mcl, BN_SEED)).isEqual(multiple(mixed, BN_SEED))).toBe(true);
			tested++;
		}
		expect(tested).toBeGreaterThan(0);
	});
});
