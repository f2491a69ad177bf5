import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
	decodeCanonical,
	decodeVerifiedCanonical,
	encodeCanonical,
	MAX_MESSAGE_BYTES,
	MAX_NESTING,
	type Canonical
} from './encoding.ts';
import { ValidationError } from './errors.ts';

const canonical: fc.Arbitrary<Canonical> = fc.letrec<{ value: Canonical }>((tie) => ({
	value: fc.oneof(
		{ depthSize: 'small' },
		fc.constant(null),
		fc.boolean(),
		fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
		fc.maxSafeNat(),
		fc.string(),
		fc.uint8Array({ maxLength: 64 }),
		fc.array(tie('value'), { maxLength: 5 }),
		fc.dictionary(
			fc.string().filter((k) => k !== '__proto__'),
			tie('value'),
			{ maxKeys: 5 }
		)
	)
})).value;

describe('canonical encoding', () => {
	it('round-trips every value and is deterministic', () => {
		fc.assert(
			fc.property(canonical, (value) => {
				const bytes = encodeCanonical(value);
				expect(encodeCanonical(decodeCanonical(bytes) as Canonical)).toEqual(bytes);
			}),
			{ numRuns: 500 }
		);
	});

	it('hands out encodings over memory of their own (a kept pin holds no 8 KB pool slab)', () => {
		// cborg in Node writes into pooled Buffers: a 190-byte encoding was a view into an 8 KB slab.
		for (const size of [16, 150, 190, 1000, 5000]) {
			const bytes = encodeCanonical({ sig: new Uint8Array(size).fill(1) });
			expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
			expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype);
		}
	});

	it('orders map keys canonically whatever the insertion order', () => {
		expect(encodeCanonical({ b: 1, a: 2, aa: 3 })).toEqual(encodeCanonical({ aa: 3, a: 2, b: 1 }));
	});

	it('never throws anything but a ValidationError on random bytes', () => {
		fc.assert(
			fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
				try {
					decodeCanonical(bytes);
				} catch (error) {
					expect(error).toBeInstanceOf(ValidationError);
				}
			}),
			{ numRuns: 3000 }
		);
	});

	it('rejects non-canonical forms: unsorted keys, long integers, indefinite lengths, floats, duplicates', () => {
		const cases: Record<string, number[]> = {
			'unsorted keys': [0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02],
			'non-minimal integer': [0x18, 0x05],
			'indefinite array': [0x9f, 0x01, 0xff],
			float: [0xf9, 0x3c, 0x00],
			'duplicate key': [0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02],
			undefined: [0xf7],
			tag: [0xc2, 0x41, 0x01],
			'trailing bytes': [0x01, 0x02]
		};
		for (const [name, bytes] of Object.entries(cases)) {
			expect(() => decodeCanonical(Uint8Array.from(bytes)), name).toThrow(ValidationError);
		}
	});

	it('refuses oversized input before parsing and bounds declared lengths by the input', () => {
		expect(() => decodeCanonical(new Uint8Array(MAX_MESSAGE_BYTES + 1))).toThrow(/exceeds the limit/);
		// A byte string claiming 2^32 bytes in a 9-byte message must fail fast, not allocate.
		expect(() => decodeCanonical(Uint8Array.from([0x5a, 0xff, 0xff, 0xff, 0xff, 0x00]))).toThrow(
			ValidationError
		);
		expect(() =>
			decodeCanonical(Uint8Array.from([0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))
		).toThrow(ValidationError);
	});

	it('refuses deep nesting with a ValidationError, never a stack overflow', () => {
		/** `depth` one-element arrays (or maps) around null. */
		const nested = (depth: number, map = false) => {
			const open = map ? [0xa1, 0x60] : [0x81];
			return Uint8Array.from([...Array.from({ length: depth }, () => open).flat(), 0xf6]);
		};
		for (const map of [false, true]) {
			expect(() => decodeCanonical(nested(MAX_NESTING, map))).not.toThrow();
			for (const depth of [MAX_NESTING + 1, 10_000, 100_000]) {
				let thrown: unknown;
				try {
					decodeCanonical(nested(depth, map));
				} catch (error) {
					thrown = error;
				}
				expect(thrown, `depth ${depth}`).toBeInstanceOf(ValidationError);
				expect((thrown as Error).message).toMatch(/nesting deeper than/);
			}
		}
		// Nesting is depth, not size: many siblings at one level are fine.
		const wide = encodeCanonical(Array.from({ length: 1000 }, () => [[1]]));
		expect(() => decodeCanonical(wide)).not.toThrow();
	});
	it('decodeVerifiedCanonical (a node re-reading its own verified journal) keeps every bound but the re-encoding', () => {
		fc.assert(
			fc.property(canonical, (value) => {
				const bytes = encodeCanonical(value);
				expect(decodeVerifiedCanonical(bytes)).toEqual(decodeCanonical(bytes));
			}),
			{ numRuns: 300 }
		);
		expect(() => decodeVerifiedCanonical(new Uint8Array(1001), 1000)).toThrow(/exceeds the limit/);
		expect(() => decodeVerifiedCanonical(Uint8Array.from([0x9f, 0x01, 0xff]))).toThrow(ValidationError);
		expect(() => decodeVerifiedCanonical(Uint8Array.from([0x5a, 0xff, 0xff, 0xff, 0xff, 0x00]))).toThrow(
			ValidationError
		);
		const deep = Uint8Array.from([...Array.from({ length: MAX_NESTING + 1 }, () => 0x81), 0xf6]);
		expect(() => decodeVerifiedCanonical(deep)).toThrow(/nesting deeper than/);
		// What it skips, and why it is only for bytes this node checked itself: keys out of order are
		// refused from a peer, and read as they stand from the journal.
		const unsorted = Uint8Array.from([0xa2, 0x61, 0x62, 0x01, 0x61, 0x61, 0x02]);
		expect(() => decodeCanonical(unsorted)).toThrow(/not canonical/);
		expect(decodeVerifiedCanonical(unsorted)).toEqual({ a: 2, b: 1 });
	});
});
