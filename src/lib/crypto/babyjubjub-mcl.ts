/**
 * Decoding a compressed Baby Jubjub point (core/chameleon.ts's encoding: y little-endian, sign of x in the
 * top bit) with mcl's Fr, BN254's scalar field, which is Baby Jubjub's base field: the sibling of
 * babyjubjub-wasm.ts for the mcl verifier, which then needs no ffjavascript curve. Same rules as the
 * core's decodePoint (y < p, a point must exist, x = 0 only with the sign bit clear, so every point has
 * one encoding); the core's pure decoder stays the reference (babyjubjub-mcl.test.ts compares the two).
 */
import { ensure } from '../core/errors.ts';
import { fr, frToBigInt, fromLittleEndian, R, type Mcl } from './mcl.ts';

/** Twisted Edwards a·x² + y² = 1 + d·x²·y² (circomlib's Baby Jubjub). */
const A = 168700n;
const D = 168696n;

export function createMclPointDecoder(mcl: Mcl): (bytes: Uint8Array, what: string) => [bigint, bigint] {
	const one = fr(mcl, 1n);
	const a = fr(mcl, A);
	const d = fr(mcl, D);
	return (bytes, what) => {
		ensure(bytes.length === 32, 'chameleon-point', `${what} must be 32 bytes, got ${bytes.length}`);
		const sign = bytes[31]! >> 7;
		const le = bytes.slice();
		le[31]! &= 0x7f;
		const y = fromLittleEndian(le);
		ensure(y < R, 'chameleon-point', `${what} is not canonically encoded`);
		const y2 = mcl.sqr(fr(mcl, y));
		// a − d·y² ≠ 0 for every y: d is not a square and a is, so y² = a/d has no solution.
		const x2 = mcl.div(mcl.sub(one, y2), mcl.sub(a, mcl.mul(d, y2)));
		const [exists, root] = mcl.squareRoot(x2);
		ensure(exists, 'chameleon-point', `${what} is not a Baby Jubjub point`);
		let x = frToBigInt(root);
		ensure(x !== 0n || sign === 0, 'chameleon-point', `${what} is not canonically encoded`);
		if (Number(x & 1n) !== sign) x = R - x;
		return [x, y];
	};
}
