/** Byte helpers shared by the core; generic work is delegated to @noble/hashes' utilities. */
import { bytesToHex, concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import { bytesToNumberBE, equalBytes, numberToBytesBE } from '@noble/curves/utils.js';
import { ValidationError } from './errors.ts';

export type Bytes = Uint8Array;
export { bytesToHex, concatBytes, equalBytes };

/** Parses hex into bytes of exactly `length` bytes when given, or throws a ValidationError. */
export function fromHex(hex: string, length?: number): Bytes {
	let bytes: Bytes;
	try {
		bytes = hexToBytes(hex);
	} catch {
		throw new ValidationError('hex', `not a hex string: ${hex.slice(0, 16)}…`);
	}
	if (length !== undefined && bytes.length !== length)
		throw new ValidationError('hex-length', `expected ${length} bytes of hex, got ${bytes.length}`);
	return bytes;
}

/** Big-endian unsigned 64-bit encoding (nonces, amounts). */
export function u64be(value: bigint): Bytes {
	if (value < 0n || value >= 1n << 64n) throw new ValidationError('u64', `out of u64 range: ${value}`);
	const out = new Uint8Array(8);
	new DataView(out.buffer).setBigUint64(0, value);
	return out;
}

/** Interprets bytes as a big-endian unsigned integer (hash vs target comparisons). */
export function bytesToBigInt(bytes: Bytes): bigint {
	return bytesToNumberBE(bytes);
}

/** Big-endian fixed-width encoding of an unsigned integer. */
export function bigIntToBytes(value: bigint, length: number): Bytes {
	if (value < 0n || value >= 1n << BigInt(8 * length))
		throw new ValidationError('uint-width', `${value} does not fit in ${length} bytes`);
	return numberToBytesBE(value, length);
}

/** Lexicographic byte comparison, for deterministic ordering. */
export function compareBytes(a: Bytes, b: Bytes): number {
	const n = Math.min(a.length, b.length);
	for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
	return a.length - b.length;
}
