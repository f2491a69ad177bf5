/**
 * Canonical encoding: deterministic CBOR (RFC 8949 §4.2 core deterministic encoding, via cborg) for
 * everything that is hashed, signed or sent. Decoding untrusted bytes is strict and bounded:
 * - a size limit is checked before parsing, so no input can make the decoder allocate unboundedly;
 * - no indefinite lengths, undefined, NaN/Infinity, tags, or duplicate map keys;
 * - the decoded value must re-encode to exactly the input bytes, so every value has one encoding
 *   (a peer cannot vary a block's bytes, and hence its hash, without changing its meaning).
 * Any failure is a ValidationError with code 'encoding'.
 */
import { decode, encode } from 'cborg';
import { equalBytes, type Bytes } from './bytes.ts';
import { ValidationError } from './errors.ts';

/** A value the canonical encoding accepts: CBOR's data model without floats. */
export type Canonical =
	null | boolean | number | bigint | string | Bytes | Canonical[] | { [key: string]: Canonical };

/** Default bound on one decoded message; structures set tighter limits per field. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

const DECODE_OPTIONS = {
	strict: true,
	allowIndefinite: false,
	allowUndefined: false,
	allowInfinity: false,
	allowNaN: false,
	allowBigInt: true,
	rejectDuplicateMapKeys: true,
	useMaps: false
} as const;

export function encodeCanonical(value: Canonical): Bytes {
	try {
		return encode(value);
	} catch (error) {
		throw new ValidationError('encoding', `cannot encode value: ${(error as Error).message}`);
	}
}

/** Decodes untrusted bytes into a plain value; structure-specific checks happen in each reader. */
export function decodeCanonical(bytes: Bytes, maxBytes = MAX_MESSAGE_BYTES): unknown {
	if (!(bytes instanceof Uint8Array)) throw new ValidationError('encoding', 'input is not bytes');
	if (bytes.length > maxBytes)
		throw new ValidationError('encoding', `input of ${bytes.length} bytes exceeds the limit of ${maxBytes}`);
	let value: unknown;
	try {
		value = decode(bytes, DECODE_OPTIONS);
	} catch (error) {
		throw new ValidationError('encoding', `malformed CBOR: ${(error as Error).message}`);
	}
	if (hasFloat(value)) throw new ValidationError('encoding', 'floating-point values are not allowed');
	let again: Bytes;
	try {
		again = encode(value);
	} catch (error) {
		throw new ValidationError('encoding', `undecodable value: ${(error as Error).message}`);
	}
	if (!equalBytes(again, bytes)) throw new ValidationError('encoding', 'encoding is not canonical');
	return value;
}

function hasFloat(value: unknown): boolean {
	if (typeof value === 'number') return !Number.isSafeInteger(value);
	if (Array.isArray(value)) return value.some(hasFloat);
	if (value && typeof value === 'object' && !(value instanceof Uint8Array))
		return Object.values(value).some(hasFloat);
	return false;
}
