/**
 * Decoding a compressed Baby Jubjub point (core/chameleon.ts's encoding: y little-endian, sign of x in the
 * top bit) with the BN254 scalar field of snarkjs's WASM curve, which is Baby Jubjub's base field. Same
 * rules as the core's decodePoint (y < p, a point must exist, x = 0 only with the sign bit clear, so
 * every point has one encoding), about ten times faster than BigInt arithmetic: the batch verifier
 * decodes one h per proof. The core's pure decoder stays the reference (tests compare the two).
 */
import type { Bn128 } from 'snarkjs';
import { bytesToBigInt } from '../core/bytes.ts';
import { ensure } from '../core/errors.ts';

/** Twisted Edwards a·x² + y² = 1 + d·x²·y² (circomlib's Baby Jubjub). */
const A = 168700n;
const D = 168696n;

export function createPointDecoder(curve: Bn128): (bytes: Uint8Array, what: string) => [bigint, bigint] {
	const F = curve.Fr;
	const a = F.e(A);
	const d = F.e(D);
	return (bytes, what) => {
		ensure(bytes.length === 32, 'chameleon-point', `${what} must be 32 bytes, got ${bytes.length}`);
		const be = bytes.slice().reverse();
		const sign = be[0]! >> 7;
		be[0]! &= 0x7f;
		const y = bytesToBigInt(be);
		ensure(y < curve.r, 'chameleon-point', `${what} is not canonically encoded`);
		const y2 = F.square(F.e(y));
		// a − d·y² ≠ 0 for every y: d is not a square and a is, so y² = a/d has no solution.
		const x2 = F.div(F.sub(F.one, y2), F.sub(a, F.mul(d, y2)));
		ensure(F.isSquare(x2), 'chameleon-point', `${what} is not a Baby Jubjub point`);
		let x = F.toObject(F.sqrt(x2));
		ensure(x !== 0n || sign === 0, 'chameleon-point', `${what} is not canonically encoded`);
		if (Number(x & 1n) !== sign) x = curve.r - x;
		return [x, y];
	};
}
