/**
 * Leaves restored from a node's own verified journal keep their entries encoded (the attachments'
 * bytes) and decode them when first read, behind a cache bounded in entries. A full node restarting on
 * 100,000 attached records then holds their bytes (~700 B each) instead of the decoded transactions
 * (several kB each in the JS heap), and a restart decodes each attachment once, briefly, for the
 * balances, instead of keeping every object it made alive (which cost most of the restart in GC).
 * Entries attached while the node runs stay decoded in their leaf, as before.
 */
import type { LeafEntry, LeafRecord } from './patient-block.ts';

/** Decoded entries of restored leaves a Ledger holds at most (a few tens of MB; a leaf has ≤ 4,096). */
export const LEAF_CACHE_ENTRIES = 20_000;

/** Entries kept encoded: how many, and how to decode them (each call decodes anew). */
export interface EncodedEntries {
	count: number;
	decode(): LeafEntry[];
}

/** Most recently read leaves' decoded entries, up to `limit` entries in all. */
export class LeafEntryCache {
	readonly #decoded = new Map<LeafRecord, LeafEntry[]>();
	#held = 0;

	constructor(readonly limit = LEAF_CACHE_ENTRIES) {}

	/** Decoded entries held now (for tests and diagnostics). */
	get held(): number {
		return this.#held;
	}

	entries(leaf: LeafRecord, decode: () => LeafEntry[]): LeafEntry[] {
		const hit = this.#decoded.get(leaf);
		if (hit) {
			// Map order is insertion order: re-inserting marks it most recently used.
			this.#decoded.delete(leaf);
			this.#decoded.set(leaf, hit);
			return hit;
		}
		const entries = decode();
		this.#decoded.set(leaf, entries);
		this.#held += entries.length;
		for (const [old, held] of this.#decoded) {
			if (this.#held <= this.limit || old === leaf) break;
			this.#decoded.delete(old);
			this.#held -= held.length;
		}
		return entries;
	}
}

interface Encoded {
	/** Entries the leaf held decoded before the first encoded part. */
	before: readonly LeafEntry[];
	parts: readonly EncodedEntries[];
	count: number;
}

const encodedOf = new WeakMap<LeafRecord, Encoded>();

/** How many entries `leaf` has, without decoding any. */
export function entryCount(leaf: LeafRecord): number {
	return encodedOf.get(leaf)?.count ?? leaf.entries.length;
}

/**
 * `leaf` with `added` after its entries and `proof` as its proof. `entries` stays an ordinary
 * (enumerable) property for readers, computed from the bytes through `cache`.
 */
export function withEncodedEntries(
	leaf: LeafRecord,
	added: EncodedEntries,
	proof: LeafRecord['proof'],
	cache: LeafEntryCache
): LeafRecord {
	const earlier = encodedOf.get(leaf);
	const encoded: Encoded = earlier
		? { before: earlier.before, parts: [...earlier.parts, added], count: earlier.count + added.count }
		: { before: leaf.entries, parts: [added], count: leaf.entries.length + added.count };
	const decode = () => [...encoded.before, ...encoded.parts.flatMap((part) => part.decode())];
	const next = { institution: leaf.institution, proof } as LeafRecord;
	Object.defineProperty(next, 'entries', { enumerable: true, get: () => cache.entries(next, decode) });
	encodedOf.set(next, encoded);
	return next;
}
