import { bn254 } from '@noble/curves/bn254.js';
import { babyjubjub } from '@noble/curves/misc.js';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bigIntToBytes, bytesToBigInt, concatBytes } from './bytes.ts';
import {
	PROOF_LENGTH,
	SUBGROUP_ORDER as L,
	collide,
	decodeHashKey,
	decodePoint,
	decodeProof,
	encodeProof,
	generateTrapdoor,
	hashKeyOf,
	hashWithRandomness,
	initialLeafHash,
	messageFromDigest,
	publicSignals,
	type Groth16Proof
} from './chameleon.ts';
import { ValidationError } from './errors.ts';
import { expectOnlyValidationErrors } from '../../../tests/fixtures/chain.ts';

const Point = babyjubjub.Point;
const code = (fn: () => unknown) => {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(ValidationError);
		return (error as ValidationError).code;
	}
	throw new Error('expected a ValidationError');
};

/** Points outside the prime-order subgroup: (0, −1) of order 2, and circomlib's Generator of order 8L. */
const OFF_SUBGROUP = [
	Point.fromAffine({ x: 0n, y: Point.Fp.ORDER - 1n }),
	Point.fromAffine({
		x: 995203441582195749578291179787384436505546430278305826713579947235728471134n,
		y: 5472060717959818805561601436314318772137091100104008585924551046643952123905n
	})
];

describe('chameleon hash (pure)', () => {
	it('a collision opens the same h to another message; only the trapdoor can make it', () => {
		const { x, X } = generateTrapdoor();
		const m = 123n;
		const r = 456n;
		const h = hashWithRandomness(m, r, X);
		const m2 = L - 1n;
		const r2 = collide(x, m, r, m2);
		expect(hashWithRandomness(m2, r2, X)).toEqual(h);
		expect(hashWithRandomness(m2, r, X)).not.toEqual(h);
		// Another trapdoor gives a different r', which does not open h.
		expect(hashWithRandomness(m2, collide(x + 1n, m, r, m2), X)).not.toEqual(h);
	});

	it('the initial leaf hash is the r = 0 hash, the same under every key, and collisions start from it', () => {
		const a = generateTrapdoor();
		const b = generateTrapdoor();
		const m0 = 99n;
		expect(initialLeafHash(m0)).toEqual(hashWithRandomness(m0, 0n, a.X));
		expect(initialLeafHash(m0)).toEqual(hashWithRandomness(m0, 0n, b.X));
		const r1 = collide(a.x, m0, 0n, 7n);
		expect(hashWithRandomness(7n, r1, a.X)).toEqual(initialLeafHash(m0));
		expect(initialLeafHash(0n)).toEqual(Point.ZERO.toBytes());
	});

	it('Krawczyk–Rabin: a plain chameleon hash that publishes r and r′ gives the trapdoor away', () => {
		const { x, X } = generateTrapdoor();
		const [m, r, m2] = [1000n, 2000n, 3000n];
		const r2 = collide(x, m, r, m2);
		// Plain (proof-less) verification needs the opening (m, r), so both openings are public…
		expect(hashWithRandomness(m, r, X)).toEqual(hashWithRandomness(m2, r2, X));
		// …and x = (m − m′)·(r′ − r)⁻¹ mod L.
		const recovered = Point.Fn.div(Point.Fn.sub(m, m2), Point.Fn.sub(r2, r));
		expect(recovered).toBe(x);
		expect(hashKeyOf(recovered)).toEqual(X);
	});

	it('messages are digests reduced mod L (so m < L always)', () => {
		const max = new Uint8Array(32).fill(0xff);
		expect(messageFromDigest(max)).toBe(bytesToBigInt(max) % L);
		expect(messageFromDigest(max) < L).toBe(true);
		expect(messageFromDigest(bigIntToBytes(L, 32))).toBe(0n);
		expect(messageFromDigest(new Uint8Array(32))).toBe(0n);
		expect(code(() => messageFromDigest(new Uint8Array(31)))).toBe('chameleon-digest');
	});

	it('scalars outside [0, L) are refused, m = 0 is a message like any other', () => {
		const { X } = generateTrapdoor();
		expect(code(() => hashWithRandomness(L, 1n, X))).toBe('chameleon-scalar');
		expect(code(() => hashWithRandomness(-1n, 1n, X))).toBe('chameleon-scalar');
		expect(code(() => hashWithRandomness(1n, L, X))).toBe('chameleon-scalar');
		expect(code(() => collide(0n, 1n, 1n, 2n))).toBe('chameleon-scalar');
		expect(hashWithRandomness(0n, 5n, X)).toEqual(decodeHashKey(X).multiply(5n).toBytes());
	});

	it('points: non-canonical encodings, off-curve bytes, low-order points and the identity key are refused', () => {
		const { X } = generateTrapdoor();
		expect(decodePoint(X, 'X').toBytes()).toEqual(X);
		expect(code(() => decodePoint(X.subarray(1), 'X'))).toBe('chameleon-point');
		// y + p still fits in 255 bits when y is small: the same point, a second encoding.
		const y = 5n;
		const alias = bigIntToBytes(y + Point.Fp.ORDER, 32).reverse();
		expect(code(() => decodePoint(alias, 'X'))).toBe('chameleon-point');
		const offCurve = new Uint8Array(32);
		offCurve[0] = 2; // y = 2 has no x on Baby Jubjub
		expect(code(() => decodePoint(offCurve, 'X'))).toBe('chameleon-point');
		for (const point of OFF_SUBGROUP)
			expect(code(() => decodeHashKey(point.toBytes()))).toBe('chameleon-point');
		expect(code(() => decodeHashKey(Point.ZERO.toBytes()))).toBe('chameleon-key');
		expect(code(() => hashKeyOf(0n))).toBe('chameleon-scalar');
	});

	it('public signals are (hx, hy, Xx, Xy, m) from the canonical points', () => {
		const { X } = generateTrapdoor();
		const h = hashWithRandomness(5n, 6n, X);
		const hA = Point.fromBytes(h).toAffine();
		const XA = Point.fromBytes(X).toAffine();
		expect(publicSignals({ hk: X, m: 5n, hash: { h, proof: new Uint8Array(PROOF_LENGTH) } })).toEqual([
			hA.x,
			hA.y,
			XA.x,
			XA.y,
			5n
		]);
		expect(
			code(() => publicSignals({ hk: Point.ZERO.toBytes(), m: 5n, hash: { h, proof: new Uint8Array() } }))
		).toBe('chameleon-key');
	});
});

describe('Groth16 proof bytes', () => {
	const G1 = bn254.G1.Point;
	const G2 = bn254.G2.Point;
	const a = G1.BASE.multiply(7n).toAffine();
	const b = G2.BASE.multiply(11n).toAffine();
	const c = G1.BASE.multiply(13n).toAffine();
	const proof: Groth16Proof = {
		a: [a.x, a.y],
		b: [
			[b.x.c0, b.x.c1],
			[b.y.c0, b.y.c1]
		],
		c: [c.x, c.y]
	};
	const p = bn254.fields.Fp.ORDER;

	it('round-trips through its canonical 256 bytes', () => {
		const bytes = encodeProof(proof);
		expect(bytes.length).toBe(PROOF_LENGTH);
		expect(decodeProof(bytes)).toEqual(proof);
	});

	it('refuses a wrong length, a coordinate ≥ p (non-canonical alias) and points off their curves', () => {
		const bytes = encodeProof(proof);
		expect(code(() => decodeProof(bytes.subarray(0, 255)))).toBe('chameleon-proof');
		expect(code(() => decodeProof(concatBytes(bytes, new Uint8Array(1))))).toBe('chameleon-proof');
		const alias = bytes.slice();
		alias.set(bigIntToBytes(proof.a[0] + p, 32), 0);
		expect(code(() => decodeProof(alias))).toBe('chameleon-proof');
		for (const offset of [32, 96, 224]) {
			const broken = bytes.slice();
			broken[offset + 31]! ^= 1;
			expect(code(() => decodeProof(broken))).toBe('chameleon-proof');
		}
		// The identity has no affine form: (0, 0) is off the curve.
		expect(code(() => decodeProof(new Uint8Array(PROOF_LENGTH)))).toBe('chameleon-proof');
		expect(code(() => encodeProof({ ...proof, c: [p, 0n] }))).toBe('chameleon-proof');
	});
});

describe('decoders on untrusted bytes (property)', () => {
	const anyLength = fc.uint8Array({ maxLength: 300 });
	const point = fc.uint8Array({ minLength: 32, maxLength: 32 });
	const proof = fc.uint8Array({ minLength: PROOF_LENGTH, maxLength: PROOF_LENGTH });

	it('decodePoint and decodeHashKey throw only ValidationErrors, and what they accept is canonical', () => {
		fc.assert(
			fc.property(point, anyLength, (bytes, noise) => {
				for (const subgroup of [true, false])
					expectOnlyValidationErrors((b) => decodePoint(b, 'point', subgroup), [bytes, noise]);
				expectOnlyValidationErrors(decodeHashKey, [bytes, noise]);
				try {
					const X = decodeHashKey(bytes);
					expect(X.toBytes()).toEqual(bytes);
					expect(X.isTorsionFree() && !X.is0()).toBe(true);
				} catch (error) {
					expect(error).toBeInstanceOf(ValidationError);
				}
			}),
			{ numRuns: 1000 }
		);
	});

	it('decodeProof throws only ValidationErrors on random bytes and round-trips what it accepts', () => {
		const G1 = bn254.G1.Point;
		const G2 = bn254.G2.Point;
		const scalar = fc.bigInt({ min: 1n, max: bn254.fields.Fr.ORDER - 1n });
		fc.assert(
			fc.property(proof, anyLength, (bytes, noise) => {
				expectOnlyValidationErrors(decodeProof, [bytes, noise]);
			}),
			{ numRuns: 1000 }
		);
		fc.assert(
			fc.property(scalar, scalar, scalar, (i, j, k) => {
				const [a, b, c] = [G1.BASE.multiply(i), G2.BASE.multiply(j), G1.BASE.multiply(k)].map((P) =>
					P.toAffine()
				) as [
					{ x: bigint; y: bigint },
					{ x: { c0: bigint; c1: bigint }; y: { c0: bigint; c1: bigint } },
					{ x: bigint; y: bigint }
				];
				const built: Groth16Proof = {
					a: [a.x, a.y],
					b: [
						[b.x.c0, b.x.c1],
						[b.y.c0, b.y.c1]
					],
					c: [c.x, c.y]
				};
				expect(decodeProof(encodeProof(built))).toEqual(built);
			}),
			{ numRuns: 20 }
		);
	});
});
