/**
 * A reader over canonical CBOR that builds no objects: heads are read into fields, byte strings are
 * views of the input and map keys are matched as bytes against the keys the caller expects. Used where
 * a restart reads 100,000s of items of its own verified journal (attachment-summary.ts, pinning.ts
 * readVerifiedPinnedBatch); decoding them with cborg builds a token object per item and a string per
 * key, most of which are garbage at once.
 *
 * It throws a ValidationError on anything it does not expect (truncation, lengths beyond the input,
 * tags); callers then decode in full with the checking decoder.
 */
import type { Bytes } from './bytes.ts';
import { ValidationError } from './errors.ts';

export const MAJOR_UINT = 0;
export const MAJOR_BYTES = 2;
export const MAJOR_TEXT = 3;
export const MAJOR_ARRAY = 4;
export const MAJOR_MAP = 5;

export function walkFail(what: string, message: string): never {
	throw new ValidationError('encoding', `${what}: ${message}`);
}

/** The map keys a walk looks for, encoded once (ASCII field names). */
export function mapKeys(...names: string[]): Bytes[] {
	return names.map((name) => new TextEncoder().encode(name));
}

export class CborWalker {
	at = 0;
	/** The last head read (fields, not a returned object: a restart reads millions of heads). */
	major = 0;
	value = 0;
	constructor(
		private readonly bytes: Bytes,
		/** Names the reader in errors. */
		private readonly what: string
	) {}

	fail(message: string): never {
		return walkFail(this.what, message);
	}

	/** Reads the next item's major type and argument (length, count or value) into major and value. */
	head(): void {
		const first = this.bytes[this.at++];
		if (first === undefined) this.fail('truncated');
		const major = first >> 5;
		const info = first & 31;
		let value = info;
		if (info >= 24) {
			const size =
				info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : this.fail('bad length');
			value = 0;
			for (let i = 0; i < size; i++) value = value * 256 + this.bytes[this.at++]!;
			if (!Number.isSafeInteger(value) || this.at > this.bytes.length) this.fail('bad length');
		}
		// A length or count (each item takes a byte at least) beyond what is left: truncated.
		if (major >= MAJOR_BYTES && major <= MAJOR_MAP && value > this.bytes.length - this.at)
			this.fail('truncated');
		this.major = major;
		this.value = value;
	}

	expect(major: number): number {
		this.head();
		if (this.major !== major) this.fail(`expected major type ${major}, got ${this.major}`);
		return this.value;
	}

	bytesItem(): Bytes {
		const length = this.expect(MAJOR_BYTES);
		const out = this.bytes.subarray(this.at, this.at + length);
		this.at += length;
		if (out.length !== length) this.fail('truncated');
		return out;
	}

	/** Skips one item of any kind (floats, tags and indefinite lengths never occur in canonical bytes). */
	skip(): void {
		this.head();
		const { major, value } = this;
		if (major === MAJOR_BYTES || major === MAJOR_TEXT) this.at += value;
		else if (major === MAJOR_ARRAY) for (let i = 0; i < value; i++) this.skip();
		else if (major === MAJOR_MAP) for (let i = 0; i < 2 * value; i++) this.skip();
		else if (major === 6) this.fail('tag');
	}

	/** Reads a text item and returns the index of the key in `keys` it equals, or −1. */
	key(keys: readonly Bytes[]): number {
		const length = this.expect(MAJOR_TEXT);
		const start = this.at;
		this.at += length;
		search: for (let k = 0; k < keys.length; k++) {
			const key = keys[k]!;
			if (key.length !== length) continue;
			for (let i = 0; i < length; i++) if (this.bytes[start + i] !== key[i]) continue search;
			return k;
		}
		return -1;
	}

	/** Walks a map, handing `field` the index in `keys` of each key (−1: another); it reads or skips the value. */
	map(keys: readonly Bytes[], field: (key: number) => void): void {
		const pairs = this.expect(MAJOR_MAP);
		for (let i = 0; i < pairs; i++) field(this.key(keys));
	}
}
