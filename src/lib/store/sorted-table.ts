/**
 * One table held in memory with its keys kept in string order, for the memory store and for the
 * in-memory image the Node store replays its log into. Keys usually arrive in increasing order (the
 * chain journal appends), so an append is O(1); any other insert only marks the order stale and the
 * next range read sorts once.
 */
import type { StoreRange } from './store.ts';

export class SortedTable {
	private readonly rows = new Map<string, Uint8Array>();
	private keys: string[] = [];
	private sorted = true;

	get size(): number {
		return this.rows.size;
	}

	get(key: string): Uint8Array | undefined {
		return this.rows.get(key);
	}

	set(key: string, value: Uint8Array): void {
		if (!this.rows.has(key)) {
			const last = this.keys[this.keys.length - 1];
			if (this.sorted && last !== undefined && key < last) this.sorted = false;
			this.keys.push(key);
		}
		this.rows.set(key, value);
	}

	delete(key: string): void {
		if (!this.rows.delete(key)) return;
		// Deleting keeps order; rebuilding lazily avoids an O(n) splice per delete.
		this.keys = [];
		this.sorted = false;
	}

	/** Rows in key order within [from, to), up to limit. */
	range(range: StoreRange = {}): Array<[string, Uint8Array]> {
		const keys = this.orderedKeys();
		let start = 0;
		if (range.from !== undefined) start = lowerBound(keys, range.from);
		const out: Array<[string, Uint8Array]> = [];
		const limit = range.limit ?? Infinity;
		for (let i = start; i < keys.length && out.length < limit; i++) {
			const key = keys[i]!;
			if (range.to !== undefined && key >= range.to) break;
			out.push([key, this.rows.get(key)!]);
		}
		return out;
	}

	entries(): IterableIterator<[string, Uint8Array]> {
		return this.rows.entries();
	}

	private orderedKeys(): string[] {
		if (!this.sorted) {
			this.keys = [...this.rows.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
			this.sorted = true;
		}
		return this.keys;
	}
}

/** First index whose key is >= target (keys sorted). */
function lowerBound(keys: readonly string[], target: string): number {
	let lo = 0;
	let hi = keys.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (keys[mid]! < target) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}
