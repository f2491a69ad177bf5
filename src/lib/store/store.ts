/**
 * The persistence interface every node runs on: a few named tables of byte values keyed by strings,
 * read one key or a key-ordered range at a time, written in atomic batches. It is this small so that
 * the same runtime runs on IndexedDB in a tab (store.browser.ts), on LevelDB in a headless clinic
 * node (store.node.ts) and on a Map in tests and observers (memory-store.ts), and so
 * that "writes that belong together" is one call: a batch commits entirely or not at all.
 */

export const TABLES = [
	'keyblocks',
	'patientBlocks',
	'transactions',
	'certificates',
	'voting',
	'ciphertexts',
	'accessLog',
	'keys',
	'meta',
	'pending',
	'handovers',
	'evidence',
	// Last: the Node store's keys begin with the table's index (level-keys.ts).
	'journal'
] as const;
export type TableName = (typeof TABLES)[number];

export interface StoreWrite {
	table: TableName;
	key: string;
	/** null deletes the key. */
	value: Uint8Array | null;
}

export interface StoreRange {
	/** Inclusive lower bound. */
	from?: string;
	/** Exclusive upper bound. */
	to?: string;
	limit?: number;
}

export interface Store {
	get(table: TableName, key: string): Promise<Uint8Array | undefined>;
	/** Entries in key order (string compare), optionally within [from, to) and up to limit. */
	list(table: TableName, range?: StoreRange): Promise<Array<[string, Uint8Array]>>;
	/** All writes commit together or none does (one IndexedDB transaction / one fsynced LevelDB batch). */
	write(writes: readonly StoreWrite[]): Promise<void>;
	close(): Promise<void>;
}

/** The device has no room left for this batch; nothing of it was written. */
export class StorageFullError extends Error {
	override readonly name = 'StorageFullError';
	readonly code = 'storage-full';
	constructor(detail?: string) {
		super(
			'This device has no storage left for SPChain: nothing of the last change was saved. ' +
				'Free some disk space (or site storage) and try again.' +
				(detail ? ` (${detail})` : '')
		);
	}
}

/** The store was closed (by this node or, in a browser, by the browser itself). */
export class StorageClosedError extends Error {
	override readonly name = 'StorageClosedError';
	readonly code = 'storage-closed';
	constructor(what = 'The store') {
		super(`${what} is closed: reopen the node to read or write its data.`);
	}
}

/** A write batch or a range the caller built wrongly (unknown table, key not a string, value not bytes). */
export class StoreInputError extends Error {
	override readonly name = 'StoreInputError';
	readonly code = 'store-input';
}

/** The stored data cannot be read back as written (not a torn tail: damage inside committed data). */
export class StoreCorruptError extends Error {
	override readonly name = 'StoreCorruptError';
	readonly code = 'store-corrupt';
}

const TABLE_SET: ReadonlySet<string> = new Set(TABLES);

export function checkTable(table: unknown): asserts table is TableName {
	if (typeof table !== 'string' || !TABLE_SET.has(table))
		throw new StoreInputError(`unknown table ${JSON.stringify(table)}; tables are ${TABLES.join(', ')}`);
}

export function checkKey(key: unknown): asserts key is string {
	if (typeof key !== 'string') throw new StoreInputError(`a store key must be a string, not ${typeof key}`);
}

/** Checks a whole batch before any of it is applied, so a bad entry leaves nothing written. */
export function checkWrites(writes: readonly StoreWrite[]): void {
	if (!Array.isArray(writes)) throw new StoreInputError('write() takes an array of writes');
	writes.forEach((write, i) => {
		if (typeof write !== 'object' || write === null) throw new StoreInputError(`write ${i} is not an object`);
		checkTable(write.table);
		checkKey(write.key);
		if (write.value !== null && !(write.value instanceof Uint8Array))
			throw new StoreInputError(
				`write ${i} (${write.table}/${write.key}): value must be a Uint8Array or null`
			);
	});
}

export function checkRange(range: StoreRange | undefined): void {
	if (!range) return;
	if (range.from !== undefined) checkKey(range.from);
	if (range.to !== undefined) checkKey(range.to);
	if (range.limit !== undefined && (!Number.isInteger(range.limit) || range.limit < 0))
		throw new StoreInputError(`range limit must be a non-negative integer, not ${range.limit}`);
}
