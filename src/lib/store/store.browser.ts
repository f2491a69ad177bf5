/**
 * The Store in a tab: one IndexedDB database per profile (`spchain-<profile>`), one object store per
 * table, values kept as Uint8Array under string keys (IndexedDB orders string keys by UTF-16 code
 * unit, the same order as JavaScript's `<`, so `list` agrees with the other stores). A batch is one
 * readwrite transaction over the tables it touches, so it commits whole or aborts whole; a
 * QuotaExceededError aborts it and becomes StorageFullError.
 *
 * Durability: batches that touch the `keys` or `voting` tables commit with `durability: 'strict'`
 * (flushed to disk before they resolve: a lost key cannot be re-fetched, and a vote is persisted
 * before it is sent); others use 'relaxed' by default, which
 * survives a tab or browser crash but may lose the last moments before a power cut, data a node
 * resyncs from its peers anyway. openStore asks for persistent storage, so the browser does not
 * evict the chain and keys under storage pressure, and reports whether it was granted (`persistence`).
 */
import { deleteDB, openDB, type IDBPDatabase } from 'idb';
import {
	checkKey,
	checkRange,
	checkTable,
	checkWrites,
	StorageClosedError,
	StorageFullError,
	TABLES,
	type Store,
	type StoreRange,
	type StoreWrite,
	type TableName
} from './store.ts';

// 2: the 'handovers' table (consensus-group hand-overs); 3: 'evidence' (proven equivocation);
// 4: 'journal' (the journal's segments). upgrade() adds any table a profile lacks.
const DB_VERSION = 4;
// Keys cannot be re-fetched, and a vote must be on disk before it leaves (a member that lost its last
// vote in a power cut could sign a conflicting one after restarting).
const STRICT_TABLES: ReadonlySet<TableName> = new Set<TableName>(['keys', 'voting']);

export interface BrowserStoreOptions {
	/** Durability of batches that do not touch `keys` (default 'relaxed'). */
	durability?: 'strict' | 'relaxed';
}

export function databaseName(profile: string): string {
	return `spchain-${profile}`;
}

export class BrowserStore implements Store {
	private closed = false;
	private closedBecause = 'The store';

	/** Whether the browser has granted persistent storage, as far as known yet (see `persistence`). */
	persisted = false;
	/**
	 * The answer to navigator.storage.persist(), asked on open. Not awaited by open(): some browsers
	 * ask the user, and the node must not wait on a prompt to start.
	 */
	readonly persistence: Promise<boolean>;

	private constructor(
		private readonly db: IDBPDatabase,
		private readonly durability: 'strict' | 'relaxed'
	) {
		this.persistence = requestPersistence().then((granted) => (this.persisted = granted));
	}

	static async open(profile: string, options: BrowserStoreOptions = {}): Promise<BrowserStore> {
		if (typeof profile !== 'string' || profile === '')
			throw new TypeError('a store profile must be a non-empty string');
		// The callbacks can fire only after open resolves, by when `opened.store` is set.
		const opened: { store?: BrowserStore } = {};
		const db = await openDB(databaseName(profile), DB_VERSION, {
			upgrade(database) {
				for (const table of TABLES)
					if (!database.objectStoreNames.contains(table)) database.createObjectStore(table);
			},
			blocking() {
				// Another page wants to upgrade or delete this database: let it, and stop using ours.
				opened.store?.shut('The store (closed for a newer version of the app)');
			},
			terminated() {
				opened.store?.shut('The store (closed by the browser)');
			}
		}).catch((error: unknown) => {
			throw mapError(error);
		});
		opened.store = new BrowserStore(db, options.durability ?? 'relaxed');
		return opened.store;
	}

	async get(table: TableName, key: string): Promise<Uint8Array | undefined> {
		this.ensureOpen();
		checkTable(table);
		checkKey(key);
		try {
			return asBytes(await this.db.get(table, key));
		} catch (error) {
			throw this.mapError(error);
		}
	}

	async list(table: TableName, range: StoreRange = {}): Promise<Array<[string, Uint8Array]>> {
		this.ensureOpen();
		checkTable(table);
		checkRange(range);
		const { from, to, limit } = range;
		// getAll treats a count of 0 as "no limit"; an empty or inverted range has nothing in it.
		if (limit === 0 || (from !== undefined && to !== undefined && from >= to)) return [];
		const query =
			from !== undefined && to !== undefined
				? IDBKeyRange.bound(from, to, false, true)
				: from !== undefined
					? IDBKeyRange.lowerBound(from)
					: to !== undefined
						? IDBKeyRange.upperBound(to, true)
						: undefined;
		try {
			const tx = this.db.transaction(table, 'readonly');
			const [keys, values] = await Promise.all([
				tx.store.getAllKeys(query, limit),
				tx.store.getAll(query, limit),
				tx.done
			]);
			return keys.map((key, i) => [key as string, asBytes(values[i])!]);
		} catch (error) {
			throw this.mapError(error);
		}
	}

	async write(writes: readonly StoreWrite[]): Promise<void> {
		this.ensureOpen();
		checkWrites(writes);
		if (writes.length === 0) return;
		const tables = [...new Set(writes.map((w) => w.table))];
		const durability = tables.some((t) => STRICT_TABLES.has(t)) ? 'strict' : this.durability;
		let tx;
		try {
			tx = this.db.transaction(tables, 'readwrite', { durability });
		} catch (error) {
			throw this.mapError(error);
		}
		const requests = writes.map(({ table, key, value }) => {
			const store = tx.objectStore(table);
			return value === null ? store.delete(key) : store.put(value, key);
		});
		try {
			await Promise.all([...requests, tx.done]);
		} catch (error) {
			// When one request fails the transaction aborts; its error names the cause (e.g. quota).
			requests.forEach((request) => request.catch(() => undefined));
			await tx.done.catch(() => undefined);
			throw this.mapError(tx.error ?? error);
		}
	}

	async close(): Promise<void> {
		this.shut('The store');
	}

	/** Bytes used and available to this origin, as the browser reports them. */
	async estimate(): Promise<{ usage: number; quota: number }> {
		const estimate = await navigator.storage?.estimate?.();
		return { usage: estimate?.usage ?? 0, quota: estimate?.quota ?? 0 };
	}

	private shut(because: string): void {
		if (this.closed) return;
		this.closed = true;
		this.closedBecause = because;
		this.db.close();
	}

	private ensureOpen(): void {
		if (this.closed) throw new StorageClosedError(this.closedBecause);
	}

	private mapError(error: unknown): Error {
		if (this.closed) return new StorageClosedError(this.closedBecause);
		return mapError(error);
	}
}

export function openStore(profile: string, options?: BrowserStoreOptions): Promise<BrowserStore> {
	return BrowserStore.open(profile, options);
}

/** Deletes a profile's database (all its tables); waits until other connections have closed. */
export async function deleteStore(profile: string): Promise<void> {
	await deleteDB(databaseName(profile));
}

function mapError(error: unknown): Error {
	if (error instanceof DOMException) {
		if (error.name === 'QuotaExceededError') return new StorageFullError(error.message);
		if (error.name === 'InvalidStateError') return new StorageClosedError();
	}
	return error instanceof Error ? error : new Error(String(error));
}

function asBytes(value: unknown): Uint8Array | undefined {
	if (value === undefined) return undefined;
	if (value instanceof Uint8Array) return value;
	throw new TypeError('the store holds a value that is not bytes');
}

async function requestPersistence(): Promise<boolean> {
	try {
		if (await navigator.storage?.persisted?.()) return true;
		return (await navigator.storage?.persist?.()) ?? false;
	} catch {
		return false;
	}
}
