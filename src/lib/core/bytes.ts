/** Byte helpers shared by the core; generic work is delegated to @noble/hashes' utilities. */
import { abytes, concatBytes, hexToBytes } from '@noble/hashes/utils.js';
import { bytesToNumberBE, equalBytes, numberToBytesBE } from '@noble/curves/utils.js';
import { ValidationError } from './errors.ts';

export type Bytes = Uint8Array;
export { concatBytes, equalBytes };

/** ASCII codes of each byte's two hex digits. */
const HEX_CODES = Uint8Array.from({ length: 512 }, (_, i) =>
	'0123456789abcdef'.charCodeAt((i & 1 ? i >> 1 : i >> 5) & 15)
);
const builtinToHex = (Uint8Array.prototype as { toHex?: () => string }).toHex;
const ascii = new TextDecoder('latin1');
const scratch = new Uint8Array(1024);

/**
 * The same bytes as a plain Uint8Array over memory of their own: a view into a larger buffer is copied,
 * so keeping the result keeps nothing else alive. In Node, small Buffers (cborg's encodings among them)
 * are slices of shared 8 KB pool slabs: a 190-byte pin certificate kept in the ledger held a whole slab
 * (8 KB per keyblock, measured in a heap snapshot of the attack bench).
 */
export function ownBytes(bytes: Bytes): Bytes {
	return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
		? new Uint8Array(bytes.buffer, 0, bytes.byteLength)
		: new Uint8Array(bytes);
}

/**
 * Lowercase hex, as a flat string. @noble's version appends two characters at a time, which V8 keeps
 * as a rope of ~30 linked pieces per 32-byte id: held as map keys (the Ledger's record, pin and batch
 * indexes: 100,000s of ids) they took 180 MB of heap instead of ~20, and hashing them cost more than
 * decoding the ASCII digits at once as here (measured: 4× faster than @noble's, 2× than a join).
 */
export function bytesToHex(bytes: Bytes): string {
	abytes(bytes);
	if (builtinToHex) return builtinToHex.call(bytes);
	const out = bytes.length * 2 <= scratch.length ? scratch : new Uint8Array(bytes.length * 2);
	for (let i = 0; i < bytes.length; i++) {
		const b = bytes[i]! * 2;
		out[2 * i] = HEX_CODES[b]!;
		out[2 * i + 1] = HEX_CODES[b + 1]!;
	}
	return ascii.decode(out.subarray(0, bytes.length * 2));
}

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
