import { describe, expect, it } from 'vitest';
import { entryCount, LeafEntryCache, withEncodedEntries, type EncodedEntries } from './encoded-leaf.ts';
import type { LeafEntry, LeafRecord } from './patient-block.ts';
import type { RecordBody, Transaction } from './transaction.ts';

/** A stand-in entry: the cache and the leaf only hold and order entries, they never look inside. */
const entry = (n: number): LeafEntry => ({
	tx: { body: { round: n } as RecordBody, signature: new Uint8Array(64) } as Transaction<RecordBody>,
	pin: new Uint8Array(32).fill(n)
});

/** Encoded entries that count how often they were decoded. */
function encoded(from: number, count: number): EncodedEntries & { decodes: number } {
	const part = {
		count,
		decodes: 0,
		decode: () => {
			part.decodes++;
			return Array.from({ length: count }, (_, i) => entry(from + i));
		}
	};
	return part;
}

const rounds = (leaf: LeafRecord) => leaf.entries.map((e) => e.tx.body.round);
const institution = new Uint8Array(32).fill(7);

describe('leaves with encoded entries', () => {
	it('decode on first read, keep order across parts and decoded entries, and count without decoding', () => {
		const cache = new LeafEntryCache(1000);
		const first = encoded(1, 3);
		const second = encoded(4, 2);
		const plain: LeafRecord = { institution, entries: [entry(0)] };
		const once = withEncodedEntries(plain, first, new Uint8Array([1]), cache);
		const twice = withEncodedEntries(once, second, new Uint8Array([2]), cache);
		expect(entryCount(twice)).toBe(6);
		expect(first.decodes + second.decodes).toBe(0);
		expect(rounds(twice)).toEqual([0, 1, 2, 3, 4, 5]);
		expect(twice.proof).toEqual(new Uint8Array([2]));
		expect(twice.institution).toBe(institution);
		// Read again: served from the cache.
		expect(twice.entries).toBe(twice.entries);
		expect([first.decodes, second.decodes]).toEqual([1, 1]);
		// Spread and JSON see `entries` like any other field.
		expect({ ...twice }.entries).toHaveLength(6);
		expect(Object.keys(twice).sort()).toEqual(['entries', 'institution', 'proof']);
		expect(entryCount(plain)).toBe(1);
	});

	it('hold at most `limit` decoded entries, dropping the least recently read leaf first', () => {
		const cache = new LeafEntryCache(250);
		const parts = [0, 1, 2].map((i) => encoded(i * 100, 100));
		const leaves = parts.map((p) => withEncodedEntries({ institution, entries: [] }, p, undefined, cache));
		void leaves[0]!.entries;
		void leaves[1]!.entries;
		void leaves[0]!.entries; // leaf 1 is now the least recently read
		expect(cache.held).toBe(200);
		void leaves[2]!.entries; // 300 > 250: leaf 1 goes
		expect(cache.held).toBe(200);
		expect(parts.map((p) => p.decodes)).toEqual([1, 1, 1]);
		void leaves[0]!.entries;
		expect(parts[0]!.decodes).toBe(1);
		expect(rounds(leaves[1]!)).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
		expect(parts[1]!.decodes).toBe(2);
		expect(cache.held).toBeLessThanOrEqual(250);
		// A leaf larger than the bound is still served (and is then all the cache holds).
		const big = encoded(1000, 400);
		const huge = withEncodedEntries({ institution, entries: [] }, big, undefined, cache);
		expect(huge.entries).toHaveLength(400);
		expect(cache.held).toBe(400);
	});
});
