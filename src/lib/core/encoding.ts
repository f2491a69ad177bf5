/**
 * Canonical encoding: deterministic CBOR (RFC 8949 §4.2 core deterministic encoding, via cborg) for
 * everything that is hashed, signed or sent. Decoding untrusted bytes is strict and bounded:
 * - a size limit is checked before parsing, so no input can make the decoder allocate unboundedly;
 * - no indefinite lengths, undefined, NaN/Infinity, tags, or duplicate map keys;
 * - arrays and maps nest at most MAX_NESTING deep, refused while tokenizing, so a small hostile input
 *   cannot drive the recursive decoder (or the checks after it) into a stack overflow;
 * - the decoded value must re-encode to exactly the input bytes, so every value has one encoding
 *   (a peer cannot vary a block's bytes, and hence its hash, without changing its meaning).
 * Any failure is a ValidationError with code 'encoding'.
 */
import { decode, encode, Tokenizer, Type, type Token } from 'cborg';
import { equalBytes, ownBytes, type Bytes } from './bytes.ts';
import { ValidationError } from './errors.ts';

/** A value the canonical encoding accepts: CBOR's data model without floats. */
export type Canonical =
	null | boolean | number | bigint | string | Bytes | Canonical[] | { [key: string]: Canonical };

/** Default bound on one decoded message; structures set tighter limits per field. */
export const MAX_MESSAGE_BYTES = 8 * 1024 * 1024;

/**
 * Deepest nesting of arrays and maps a message may have. The deepest structure today (a patient block's
 * record proof) sits 9 levels down; the bound leaves room for envelopes around it.
 */
export const MAX_NESTING = 64;

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

/** Encoded bytes that own their memory (ownBytes): encodings are kept, as pins, ids and facts. */
export function encodeCanonical(value: Canonical): Bytes {
	try {
		return ownBytes(encode(value));
	} catch (error) {
		throw new ValidationError('encoding', `cannot encode value: ${(error as Error).message}`);
	}
}

/** How a structure's decoder turns bytes into a plain value: decodeCanonical unless stated. */
export type CanonicalDecoder = (bytes: Bytes, maxBytes?: number) => unknown;

/** Decodes untrusted bytes into a plain value; structure-specific checks happen in each reader. */
export function decodeCanonical(bytes: Bytes, maxBytes = MAX_MESSAGE_BYTES): unknown {
	const value = parseBounded(bytes, maxBytes);
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

/**
 * Decodes bytes that passed decodeCanonical before and are known unchanged since: a node's own verified
 * journal (runtime/verified-journal.ts), whose hash chain proves these are the bytes it checked. The
 * size bound, strict parse and nesting bound still hold; the float and re-encoding checks, which cost as
 * much as the parse itself and cannot fail on such bytes, are skipped. Never for bytes from a peer.
 */
export function decodeVerifiedCanonical(bytes: Bytes, maxBytes = MAX_MESSAGE_BYTES): unknown {
	return parseBounded(bytes, maxBytes);
}

function parseBounded(bytes: Bytes, maxBytes: number): unknown {
	if (!(bytes instanceof Uint8Array)) throw new ValidationError('encoding', 'input is not bytes');
	if (bytes.length > maxBytes)
		throw new ValidationError('encoding', `input of ${bytes.length} bytes exceeds the limit of ${maxBytes}`);
	try {
		const data = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
		return decode(data, { ...DECODE_OPTIONS, tokenizer: new BoundedTokenizer(data, DECODE_OPTIONS) });
	} catch (error) {
		throw new ValidationError('encoding', `malformed CBOR: ${(error as Error).message}`);
	}
}

/** cborg's tokenizer, counting open containers so nesting beyond MAX_NESTING fails before any recursion. */
class BoundedTokenizer extends Tokenizer {
	/** Items still expected by each open array or map, innermost last. */
	readonly #open: number[] = [];

	override next(): Token {
		const token = super.next();
		const open = this.#open;
		if (open.length > 0) open[open.length - 1]! -= 1;
		const items = Type.equals(token.type, Type.array)
			? token.value
			: Type.equals(token.type, Type.map)
				? 2 * token.value
				: 0;
		if (items > 0) {
			if (open.length >= MAX_NESTING) throw new Error(`nesting deeper than ${MAX_NESTING} levels`);
			open.push(items);
		} else {
			while (open.length > 0 && open.at(-1) === 0) open.pop();
		}
		return token;
	}
}

/** Bounded by MAX_NESTING, so this recursion cannot overflow. */
function hasFloat(value: unknown): boolean {
	if (typeof value === 'number') return !Number.isSafeInteger(value);
	if (Array.isArray(value)) return value.some(hasFloat);
	if (value && typeof value === 'object' && !(value instanceof Uint8Array))
		return Object.values(value).some(hasFloat);
	return false;
}
