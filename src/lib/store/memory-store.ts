/**
 * The Store held in a Map per table: for tests, simulations and observers that keep nothing across
 * restarts. It keeps the same contract as the durable stores (batches are checked whole before any
 * write is applied; values are copied in and out, as IndexedDB's structured clone does) so code
 * tested against it behaves the same on IndexedDB and on the Node log.
 */
import { SortedTable } from './sorted-table.ts';
import {
	checkKey,
	checkRange,
	checkTable,
	checkWrites,
	StorageClosedError,
	TABLES,
	type Store,
	type StoreRange,
	type StoreWrite,
	type TableName
} from './store.ts';

/** The in-memory image of all tables; the Node store replays its log into one. */
export class MemoryTables {
	readonly tables = new Map<TableName, SortedTable>(TABLES.map((t) => [t, new SortedTable()]));

	table(name: TableName): SortedTable {
		return this.tables.get(name)!;
	}

	/** Applies an already-checked batch; cannot fail part-way. */
	apply(writes: readonly StoreWrite[]): void {
		for (const { table, key, value } of writes) {
			if (value === null) this.table(table).delete(key);
			else this.table(table).set(key, value.slice());
		}
	}
}

export class MemoryStore implements Store {
	private closed = false;

	constructor(protected readonly data = new MemoryTables()) {}

	async get(table: TableName, key: string): Promise<Uint8Array | undefined> {
		this.ensureOpen();
		checkTable(table);
		checkKey(key);
		return this.data.table(table).get(key)?.slice();
	}

	async list(table: TableName, range?: StoreRange): Promise<Array<[string, Uint8Array]>> {
		this.ensureOpen();
		checkTable(table);
		checkRange(range);
		return this.data
			.table(table)
			.range(range)
			.map(([key, value]) => [key, value.slice()]);
	}

	async write(writes: readonly StoreWrite[]): Promise<void> {
		this.ensureOpen();
		checkWrites(writes);
		this.data.apply(writes);
	}

	async close(): Promise<void> {
		this.closed = true;
	}

	protected ensureOpen(): void {
		if (this.closed) throw new StorageClosedError();
	}
}

export function openMemoryStore(): MemoryStore {
	return new MemoryStore();
}
