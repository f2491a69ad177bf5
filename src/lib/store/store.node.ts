/**
 * The Store for headless clinic nodes: an append-only log file (write-log.ts) replayed into memory on
 * open. Every batch is one frame appended and fsynced before write() resolves and before memory
 * changes, so a crash at any point keeps every committed batch and none of an uncommitted one; a torn
 * tail is cut off on the next open. A lock file keeps a second process off the same directory, and a
 * log that has grown to more than twice its live data (overwritten voting state, deleted mempool
 * entries) is rewritten as the live rows only (temp file, fsynced, renamed over the log) on open and
 * while running, checked each time the log doubles. Disk-full errors become StorageFullError with
 * the partial frame removed.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { MemoryStore, MemoryTables } from './memory-store.ts';
import { checkWrites, StorageClosedError, StorageFullError, TABLES, type StoreWrite } from './store.ts';
import { encodeFrame, LOG_MAGIC, replayLog } from './write-log.ts';

export const LOG_FILE = 'store.log';
const LOCK_FILE = 'LOCK';
const COMPACT_MIN_BYTES = 1 << 20;
const COMPACT_BATCH_ROWS = 4096;

/** Another live process has this store directory open. */
export class StoreLockedError extends Error {
	override readonly name = 'StoreLockedError';
	readonly code = 'store-locked';
}

export interface NodeStoreOptions {
	/** fsync every batch (default true). Off only for throwaway benchmarks. */
	sync?: boolean;
}

export class NodeStore extends MemoryStore {
	/** Bytes of torn tail cut off when this store was opened (0 after a clean shutdown). */
	readonly recoveredTornBytes: number;
	private queue: Promise<void> = Promise.resolve();
	/** Log length at which to look again at how much of it is live. */
	private nextCompactCheck = COMPACT_MIN_BYTES;
	/** close() was called: no new writes; those already queued still commit. */
	private closing = false;
	/** An fsync or a compaction's rename failed: the file's state is unknown, so nothing more is written. */
	private failed = false;

	private constructor(
		data: MemoryTables,
		private handle: FileHandle,
		private length: number,
		private readonly dir: string,
		private readonly sync: boolean,
		tornBytes: number
	) {
		super(data);
		this.recoveredTornBytes = tornBytes;
	}

	static async open(dir: string, options: NodeStoreOptions = {}): Promise<NodeStore> {
		await mkdir(dir, { recursive: true });
		await takeLock(dir);
		try {
			const path = join(dir, LOG_FILE);
			let file: Uint8Array;
			try {
				file = await readFile(path);
			} catch (error) {
				if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
				file = new Uint8Array(0);
			}
			const replay = replayLog(file, path);
			const data = new MemoryTables();
			for (const batch of replay.batches) data.apply(batch);
			const handle = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_APPEND, 0o600);
			let length = replay.validLength;
			if (replay.tornBytes > 0) {
				await handle.truncate(length);
				await handle.sync();
			}
			if (length === 0) {
				await handle.write(LOG_MAGIC);
				await handle.sync();
				await syncDir(dir);
				length = LOG_MAGIC.length;
			}
			const store = new NodeStore(data, handle, length, dir, options.sync ?? true, replay.tornBytes);
			await store.maybeCompact();
			return store;
		} catch (error) {
			await rm(join(dir, LOCK_FILE), { force: true });
			throw error;
		}
	}

	override async write(writes: readonly StoreWrite[]): Promise<void> {
		this.ensureOpen();
		checkWrites(writes);
		const frame = encodeFrame(writes);
		const run = this.queue.then(() => this.append(frame, writes));
		this.queue = run.catch(() => undefined);
		return run;
	}

	override async close(): Promise<void> {
		if (this.closing) return;
		this.closing = true;
		await super.close();
		await this.queue;
		if (!this.failed) await this.handle.close();
		await rm(join(this.dir, LOCK_FILE), { force: true });
	}

	protected override ensureOpen(): void {
		if (this.closing) throw new StorageClosedError();
		if (this.failed) throw new StorageClosedError('The store (after a disk error)');
	}

	/** Size of the log file in bytes. */
	get logBytes(): number {
		return this.length;
	}

	private async append(frame: Uint8Array, writes: readonly StoreWrite[]): Promise<void> {
		if (this.failed) throw new StorageClosedError('The store (after a disk error)');
		try {
			let written = 0;
			while (written < frame.length) {
				const { bytesWritten } = await this.handle.write(frame, written, frame.length - written);
				written += bytesWritten;
			}
		} catch (error) {
			// Remove whatever part of the frame reached the file, so the log ends on a whole batch.
			await this.handle.truncate(this.length).catch(() => undefined);
			throw diskError(error);
		}
		if (this.sync) {
			try {
				await this.handle.datasync();
			} catch (error) {
				// After a failed fsync the kernel may have dropped the pages: nothing is known any more.
				this.failed = true;
				await this.handle.close().catch(() => undefined);
				throw diskError(error);
			}
		}
		this.length += frame.length;
		this.data.apply(writes);
		// This batch is committed whatever happens to the compaction (a failure closes the store).
		if (this.length >= this.nextCompactCheck) await this.maybeCompact().catch(() => undefined);
	}

	/**
	 * Rewrites the log as its live rows when more than half of it is dead. Runs inside the write queue
	 * (or before the store is returned), so no append interleaves; the old log stays in place, and
	 * open, until the new one is complete and renamed over it. A failed compaction changes nothing.
	 */
	private async maybeCompact(): Promise<void> {
		const live = liveBytes(this.data);
		if (this.length >= COMPACT_MIN_BYTES && this.length > 2 * live) {
			const path = join(this.dir, LOG_FILE);
			let compacted: { temp: string; length: number } | undefined;
			try {
				compacted = await writeCompacted(this.dir, this.data);
			} catch {
				// Out of space for the copy, say: keep appending to the old log and try again later.
			}
			if (compacted) {
				try {
					await rename(compacted.temp, path);
					await syncDir(this.dir);
					const handle = await open(path, constants.O_RDWR | constants.O_APPEND);
					await this.handle.close();
					this.handle = handle;
					this.length = compacted.length;
				} catch (error) {
					// The log on disk may now be the new file while our handle writes the old one:
					// stop; reopening replays whichever log the rename left, both hold every batch.
					this.failed = true;
					await this.handle.close().catch(() => undefined);
					throw diskError(error);
				}
			}
		}
		this.nextCompactCheck = Math.max(COMPACT_MIN_BYTES, 2 * Math.max(this.length, live));
	}
}

export function openStore(dir: string, options?: NodeStoreOptions): Promise<NodeStore> {
	return NodeStore.open(dir, options);
}

function diskError(error: unknown): Error {
	const code = (error as NodeJS.ErrnoException).code;
	if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') return new StorageFullError(code);
	return error as Error;
}

async function takeLock(dir: string): Promise<void> {
	const path = join(dir, LOCK_FILE);
	for (let attempt = 0; attempt < 2; attempt++) {
		try {
			await writeFile(path, String(process.pid), { flag: 'wx' });
			return;
		} catch (error) {
			if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
		}
		const pid = Number(await readFile(path, 'utf8').catch(() => ''));
		if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid))
			throw new StoreLockedError(`${dir} is in use by process ${pid}`);
		if (pid === process.pid) throw new StoreLockedError(`${dir} is already open in this process`);
		await rm(path, { force: true }); // left by a process that died
	}
	throw new StoreLockedError(`could not lock ${dir}`);
}

function processAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return (error as NodeJS.ErrnoException).code === 'EPERM';
	}
}

async function syncDir(dir: string): Promise<void> {
	const handle = await open(dir, constants.O_RDONLY);
	try {
		await handle.sync();
	} finally {
		await handle.close();
	}
}

function liveBytes(data: MemoryTables): number {
	let total = LOG_MAGIC.length;
	for (const table of data.tables.values())
		for (const [key, value] of table.entries()) total += key.length + value.length + 16;
	return total;
}

/** Writes the live rows as a complete new log in a temp file, fsynced; the caller renames it. */
async function writeCompacted(dir: string, data: MemoryTables): Promise<{ temp: string; length: number }> {
	const temp = join(dir, `${LOG_FILE}.compact`);
	const handle = await open(temp, 'w', 0o600);
	let length = 0;
	try {
		await handle.writeFile(LOG_MAGIC);
		length += LOG_MAGIC.length;
		for (const table of TABLES) {
			let batch: StoreWrite[] = [];
			const flush = async () => {
				if (batch.length === 0) return;
				const frame = encodeFrame(batch);
				await handle.writeFile(frame);
				length += frame.length;
				batch = [];
			};
			for (const [key, value] of data.table(table).entries()) {
				batch.push({ table, key, value });
				if (batch.length >= COMPACT_BATCH_ROWS) await flush();
			}
			await flush();
		}
		await handle.sync();
	} catch (error) {
		await handle.close();
		await rm(temp, { force: true });
		throw diskError(error);
	}
	await handle.close();
	return { temp, length };
}
