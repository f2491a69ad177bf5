/**
 * The Store for headless clinic nodes: LevelDB (classic-level) in `<dir>/level/`, so a clinic's chain,
 * indexes and ciphertexts live on disk and memory is bounded by LevelDB's block cache and write buffer,
 * not by what the node holds (docs/scale.md has the measurement that chose LevelDB over LMDB).
 *
 * Crash safety is LevelDB's: each write() is one WriteBatch appended to its log and fsynced before it
 * resolves, so a killed process keeps every committed batch and none of a torn one (the log's record
 * checksums drop a torn tail on reopen). Batches go through one queue, so the batch issued last is the
 * one that wins. A write that fails (disk full, I/O error) leaves LevelDB's log ending in a partial
 * record: the store reopens the database before anything else runs, which starts a new log, and a
 * full disk surfaces as StorageFullError with nothing of that batch written.
 *
 * A directory written by the former format (an append-only log `store.log`, replayed into memory) is
 * migrated on open: its live rows are copied into LevelDB, synced, and only then is the log deleted;
 * a crash in between copies them again next time (the copy is idempotent).
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ClassicLevel, type BatchOperation } from 'classic-level';
import { ownBytes } from '../core/bytes.ts';
import { decodeKey, encodeKey, tableEnd } from './level-keys.ts';
import {
	checkKey,
	checkRange,
	checkTable,
	checkWrites,
	StorageClosedError,
	StorageFullError,
	type Store,
	type StoreRange,
	type StoreWrite,
	type TableName
} from './store.ts';
import { replayLog } from './write-log.ts';

/** The former format's log file (migrated on open). */
export const LOG_FILE = 'store.log';
export const LEVEL_DIR = 'level';
const MIGRATE_BATCH_ROWS = 4096;

/** Another live process (or this one) has this store directory open. */
export class StoreLockedError extends Error {
	override readonly name = 'StoreLockedError';
	readonly code = 'store-locked';
}

export interface NodeStoreOptions {
	/** fsync every batch (default true). Off only for throwaway benchmarks. */
	sync?: boolean;
	/** LevelDB's block cache in bytes (default 16 MiB): the bound on what reads keep in memory. */
	cacheBytes?: number;
}

type Level = ClassicLevel<Uint8Array, Uint8Array>;
type Operation = BatchOperation<Level, Uint8Array, Uint8Array>;

export class NodeStore implements Store {
	/** Rows copied from a former-format log when this store opened (0 when there was none). */
	migratedRows = 0;
	private queue: Promise<void> = Promise.resolve();
	/** Set while the database is being reopened after a failed write; reads wait for it. */
	private reopening: Promise<void> | undefined;
	private closing = false;
	/** A reopen after a failed write failed too: the store is unusable until the node restarts. */
	private failed = false;

	private constructor(
		private db: Level,
		private readonly path: string,
		private readonly options: NodeStoreOptions
	) {}

	static async open(dir: string, options: NodeStoreOptions = {}): Promise<NodeStore> {
		const path = join(dir, LEVEL_DIR);
		const store = new NodeStore(await openLevel(path, options), path, options);
		try {
			await store.migrate(dir);
		} catch (error) {
			await store.db.close();
			throw error;
		}
		return store;
	}

	/**
	 * LevelDB hands each value over in a Buffer of its own: ownBytes returns it over the same memory
	 * and copies only a pooled slice (copying every read cost ~0.4 s of a 74 MB journal's restart).
	 */
	async get(table: TableName, key: string): Promise<Uint8Array | undefined> {
		this.ensureOpen();
		checkTable(table);
		checkKey(key);
		await this.reopening;
		this.ensureOpen();
		const value = await this.db.get(encodeKey(table, key));
		return value === undefined ? undefined : ownBytes(value);
	}

	async list(table: TableName, range?: StoreRange): Promise<Array<[string, Uint8Array]>> {
		this.ensureOpen();
		checkTable(table);
		checkRange(range);
		await this.reopening;
		this.ensureOpen();
		if (range?.limit === 0) return [];
		const rows = await this.db
			.iterator({
				gte: encodeKey(table, range?.from ?? ''),
				lt: range?.to !== undefined ? encodeKey(table, range.to) : tableEnd(table),
				...(range?.limit !== undefined ? { limit: range.limit } : {})
			})
			.all();
		return rows.map(([key, value]) => [decodeKey(key).key, ownBytes(value)]);
	}

	async write(writes: readonly StoreWrite[]): Promise<void> {
		this.ensureOpen();
		checkWrites(writes);
		const operations = writes.map((w): Operation =>
			w.value === null
				? { type: 'del' as const, key: encodeKey(w.table, w.key) }
				: { type: 'put' as const, key: encodeKey(w.table, w.key), value: copy(w.value) }
		);
		const run = this.queue.then(() => this.commit(operations));
		this.queue = run.catch(() => undefined);
		return run;
	}

	async close(): Promise<void> {
		if (this.closing) return;
		this.closing = true;
		await this.queue;
		await this.reopening;
		if (this.db.status === 'open' || this.db.status === 'opening') await this.db.close();
	}

	private ensureOpen(): void {
		if (this.closing) throw new StorageClosedError();
		if (this.failed) throw new StorageClosedError('The store (after a disk error)');
	}

	private async commit(operations: Operation[]): Promise<void> {
		if (this.failed) throw new StorageClosedError('The store (after a disk error)');
		try {
			await this.db.batch(operations, { sync: this.options.sync ?? true });
		} catch (error) {
			// LevelDB's log may now end in a partial record: reopen (a new log) before anything else runs.
			this.reopening = this.reopen();
			await this.reopening;
			this.reopening = undefined;
			throw diskError(error);
		}
	}

	private async reopen(): Promise<void> {
		try {
			await this.db.close();
			this.db = await openLevel(this.path, this.options);
		} catch {
			this.failed = true;
		}
	}

	/** Copies a former-format log's live rows into LevelDB, then deletes the log (see the header). */
	private async migrate(dir: string): Promise<void> {
		const logPath = join(dir, LOG_FILE);
		let file: Uint8Array;
		try {
			file = await readFile(logPath);
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
			throw error;
		}
		const live = new Map<string, StoreWrite>();
		for (const batch of replayLog(file, logPath).batches)
			for (const write of batch) live.set(`${write.table}\u0000${write.key}`, write);
		const rows = [...live.values()];
		for (let i = 0; i < rows.length; i += MIGRATE_BATCH_ROWS)
			await this.write(rows.slice(i, i + MIGRATE_BATCH_ROWS));
		this.migratedRows = rows.filter((row) => row.value !== null).length;
		await rm(logPath);
		await rm(join(dir, 'LOCK'), { force: true }); // the former format's lock file
	}
}

export function openStore(dir: string, options?: NodeStoreOptions): Promise<NodeStore> {
	return NodeStore.open(dir, options);
}

async function openLevel(path: string, options: NodeStoreOptions): Promise<Level> {
	const db: Level = new ClassicLevel<Uint8Array, Uint8Array>(path, {
		keyEncoding: 'view',
		valueEncoding: 'view',
		cacheSize: options.cacheBytes ?? 16 * 2 ** 20
	});
	try {
		await db.open();
	} catch (error) {
		const cause = (error as { cause?: { code?: string } }).cause;
		if (cause?.code === 'LEVEL_LOCKED') throw new StoreLockedError(`${path} is in use by another node`);
		throw diskError(cause ?? error);
	}
	return db;
}

/** LevelDB reports a full disk as an I/O error whose message carries the system's words. */
function diskError(error: unknown): Error {
	const code = (error as NodeJS.ErrnoException).code;
	const message = error instanceof Error ? error.message : String(error);
	if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return new StorageFullError(code);
	if (/No space left|Disk quota exceeded|File too large/i.test(message)) return new StorageFullError(message);
	return error instanceof Error ? error : new Error(message);
}

/** Values are copied in and out, as the other stores do, so no caller shares LevelDB's buffers. */
function copy(bytes: Uint8Array): Uint8Array {
	return new Uint8Array(bytes);
}
