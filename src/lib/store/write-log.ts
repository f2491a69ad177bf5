/**
 * The former on-disk format of the Node store, read once to migrate a directory to LevelDB
 * (store.node.ts): an append-only log of write batches. The file starts with an 8-byte magic; each
 * batch is one frame `u32 length | u32 crc32 | CBOR [[table, key, value|null], …]` (big-endian). A
 * crash mid-append left at most one incomplete or mis-checksummed frame, and only at the end: replay
 * stops there. A bad frame with more data after it is damage, not a torn tail, and is reported rather
 * than silently dropped. encodeFrame writes the format for the migration tests.
 */
import { decode, encode } from 'cborg';
import { crc32 } from 'node:zlib';
import { checkWrites, StoreCorruptError, type StoreWrite } from './store.ts';

export const LOG_MAGIC = new Uint8Array([0x53, 0x50, 0x43, 0x4c, 0x4f, 0x47, 0x00, 0x01]); // "SPCLOG" v1
export const FRAME_HEADER_BYTES = 8;

export function encodeFrame(writes: readonly StoreWrite[]): Uint8Array {
	const payload = encode(writes.map((w) => [w.table, w.key, w.value]));
	const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
	const view = new DataView(frame.buffer);
	view.setUint32(0, payload.length);
	view.setUint32(4, crc32(payload));
	frame.set(payload, FRAME_HEADER_BYTES);
	return frame;
}

export interface ReplayResult {
	batches: StoreWrite[][];
	/** Length of the whole frames; anything after it is a torn tail to cut off. */
	validLength: number;
	tornBytes: number;
}

/** Parses a whole log file. Throws StoreCorruptError for damage that is not a torn tail. */
export function replayLog(file: Uint8Array, where = 'store log'): ReplayResult {
	if (file.length === 0) return { batches: [], validLength: 0, tornBytes: 0 };
	if (file.length < LOG_MAGIC.length || !LOG_MAGIC.every((b, i) => file[i] === b)) {
		// A crash while writing the magic of a brand-new log leaves a prefix of it.
		if (file.length < LOG_MAGIC.length && file.every((b, i) => b === LOG_MAGIC[i]))
			return { batches: [], validLength: 0, tornBytes: file.length };
		throw new StoreCorruptError(`${where} does not start with the SPChain log header`);
	}
	const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
	const batches: StoreWrite[][] = [];
	let at = LOG_MAGIC.length;
	while (at < file.length) {
		const end = file.length;
		if (end - at < FRAME_HEADER_BYTES) break;
		const length = view.getUint32(at);
		const frameEnd = at + FRAME_HEADER_BYTES + length;
		if (frameEnd > end) break;
		const payload = file.subarray(at + FRAME_HEADER_BYTES, frameEnd);
		const intact = crc32(payload) === view.getUint32(at + 4);
		const writes = intact ? decodeBatch(payload) : undefined;
		if (!writes) {
			if (frameEnd === end) break; // the last frame was torn inside its payload
			throw new StoreCorruptError(
				`${where} is damaged at byte ${at}: a frame fails its checksum and ${end - frameEnd} bytes follow it`
			);
		}
		batches.push(writes);
		at = frameEnd;
	}
	return { batches, validLength: at, tornBytes: file.length - at };
}

function decodeBatch(payload: Uint8Array): StoreWrite[] | undefined {
	try {
		const rows = decode(payload) as unknown;
		if (!Array.isArray(rows)) return undefined;
		const writes = rows.map((row: unknown) => {
			if (!Array.isArray(row) || row.length !== 3) throw new Error('bad row');
			return { table: row[0], key: row[1], value: row[2] } as StoreWrite;
		});
		checkWrites(writes);
		return writes;
	} catch {
		return undefined;
	}
}
