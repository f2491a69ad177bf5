/**
 * The journal's facts packed into segments: runs of consecutive facts, with their derived values, kept
 * as one store value of about SEGMENT_BYTES in the `journal` table, under the position of their last
 * fact. Why: a restart reads the whole journal, and IndexedDB reads a few hundred values of half a
 * megabyte in about half the time it takes for thousands of small ones. On the 100,000-transaction
 * bench store (74 MB) in Chromium: 4,501 values (facts and derived rows) in 1.10–1.32 s; 143 segments
 * of 512 KiB in 0.65–0.67 s; 251 of 256 KiB in 0.83–0.86 s; 72 of 1 MiB in 0.75–0.87 s (docs/scale.md).
 *
 * A fact is first written alone, in the batch that applies it: its bytes in its table (chain-fact.ts
 * TABLE_OF) and its derived value in meta (verified-journal.ts derivedKey). Once the facts written
 * alone reach SEGMENT_BYTES, the batch that applies the next fact writes them and it as one segment
 * and deletes their single rows, atomically. A journal is thus a run of segments followed by fewer than
 * SEGMENT_BYTES of single rows, and a crash leaves either layout whole.
 *
 * A segment's value: a header's length (u32, big-endian), the header in canonical CBOR
 * [first position, [[type, bytes' length, derived value's length | null], …]] (type: the index in
 * FACT_TYPES), then each fact's bytes and derived value, in order. The bytes sit outside the CBOR
 * because cborg copies every byte string it decodes: with them inside, a Node restart of the bench
 * store copied all 74 MB (1.17–1.35 s and 390 MB of RSS, against 1.07–1.14 s and 310 MB).
 *
 * A segment is not trusted for being in the store: its rows are hashed against the journal's head like
 * single rows (verified-journal.ts checkJournal), so an edited segment makes the journal verified in
 * full again, and one that does not decode is refused by name (StoreCorruptError).
 */
import { concatBytes, type Bytes } from '../core/bytes.ts';
import { decodeCanonical, encodeCanonical, type Canonical } from '../core/encoding.ts';
import * as read from '../core/schema.ts';
import { StoreCorruptError, type StoreWrite, type TableName } from '../store/store.ts';
import { FACT_TYPES, position, TABLE_OF } from './chain-fact.ts';
import { derivedKey, derivedWrite } from './verified-journal.ts';

/** Bytes of facts and derived values a segment holds before it is sealed: the fastest size measured. */
export const SEGMENT_BYTES = 512 * 1024;
/** The table segments are kept in. */
export const SEGMENT_TABLE: TableName = 'journal';
/** Bound on one stored segment's decoding: a segment, plus one fact of the largest a message may be. */
const MAX_SEGMENT_BYTES = 64 * 1024 * 1024;

/** One fact of the journal with what the node derived from it. */
export interface JournalEntry {
	position: number;
	/** Index in FACT_TYPES. */
	type: number;
	bytes: Bytes;
	derived: Bytes | undefined;
}

export function encodeSegment(rows: readonly JournalEntry[]): Bytes {
	const first = rows[0];
	if (!first) throw new RangeError('a journal segment holds at least one fact');
	rows.forEach((row, i) => {
		if (row.position !== first.position + i)
			throw new RangeError(
				`a journal segment holds consecutive facts: ${row.position} follows ${first.position + i - 1}`
			);
	});
	const header = encodeCanonical([
		first.position,
		rows.map((row): Canonical => [row.type, row.bytes.length, row.derived?.length ?? null])
	]);
	const headerLength = new Uint8Array(4);
	new DataView(headerLength.buffer).setUint32(0, header.length);
	const parts = rows.flatMap((row) => (row.derived ? [row.bytes, row.derived] : [row.bytes]));
	return concatBytes(headerLength, header, ...parts);
}

/**
 * The facts of the segment stored under `key`; StoreCorruptError when it is not one. Their bytes are
 * views into `value`, not copies: the facts a restore keeps (attachments, encoded) are most of it.
 */
export function decodeSegment(key: string, value: Bytes): JournalEntry[] {
	try {
		if (value.length < 4) throw new Error('it is shorter than its header');
		const headerEnd = 4 + new DataView(value.buffer, value.byteOffset, 4).getUint32(0);
		if (headerEnd > value.length) throw new Error('its header runs past its end');
		const header = decodeCanonical(value.subarray(4, headerEnd), MAX_SEGMENT_BYTES);
		const [first, rows] = tuple(header, 'segment', 2);
		const from = read.uint(first, 'segment.first');
		let at = headerEnd;
		const take = (length: number, where: string): Bytes => {
			if (at + length > value.length) throw new Error(`${where} runs past the segment's end`);
			at += length;
			return value.subarray(at - length, at);
		};
		const entries = read.array(rows, 'segment.rows', MAX_SEGMENT_BYTES, (row, where): JournalEntry => {
			const [type, length, derived] = tuple(row, where, 3);
			return {
				position: 0,
				type: read.uint(type, `${where}.type`, FACT_TYPES.length - 1),
				bytes: take(read.uint(length, `${where}.bytes`), `${where}.bytes`),
				derived:
					derived === null ? undefined : take(read.uint(derived, `${where}.derived`), `${where}.derived`)
			};
		});
		if (at !== value.length) throw new Error(`${value.length - at} bytes follow its last fact`);
		entries.forEach((entry, i) => (entry.position = from + i));
		const last = entries[entries.length - 1];
		if (!last || position(last.position) !== key)
			throw new Error(`it ends at ${last ? position(last.position) : 'no fact'}`);
		return entries;
	} catch (error) {
		throw new StoreCorruptError(
			`the journal segment stored under ${key} cannot be read (${(error as Error).message}): ` +
				"the store was damaged; delete this node's data to sync the chain again"
		);
	}
}

function tuple(value: unknown, where: string, length: number): unknown[] {
	if (!Array.isArray(value) || value.length !== length)
		throw new Error(`${where}: expected a list of ${length}`);
	return value;
}

/** The writes that keep `entry` as a single row (its table, and its derived value in meta). */
export function singleWrites(entry: JournalEntry): StoreWrite[] {
	const table = TABLE_OF[FACT_TYPES[entry.type]!];
	const writes: StoreWrite[] = [{ table, key: position(entry.position), value: entry.bytes }];
	if (entry.derived) writes.push(derivedWrite(entry.position, entry.derived));
	return writes;
}

function deleteSingle(entry: JournalEntry): StoreWrite[] {
	return [
		{ table: TABLE_OF[FACT_TYPES[entry.type]!], key: position(entry.position), value: null },
		{ table: 'meta', key: derivedKey(entry.position), value: null }
	];
}

function segmentWrite(entries: readonly JournalEntry[]): StoreWrite {
	return {
		table: SEGMENT_TABLE,
		key: position(entries[entries.length - 1]!.position),
		value: encodeSegment(entries)
	};
}

const sizeOf = (entry: JournalEntry) => entry.bytes.length + (entry.derived?.length ?? 0);

/** The single rows at the journal's end, and when they become a segment. */
export class JournalTail {
	private entries: JournalEntry[];
	private size: number;

	/** `entries`: the facts stored as single rows after the last segment, in order. */
	constructor(
		entries: readonly JournalEntry[] = [],
		private readonly segmentBytes = SEGMENT_BYTES
	) {
		this.entries = [...entries];
		this.size = entries.reduce((sum, entry) => sum + sizeOf(entry), 0);
	}

	/** The single rows kept now (those not sealed into a segment yet). */
	get singles(): readonly JournalEntry[] {
		return this.entries;
	}

	/** The writes that add `entry` to the journal: as a single row, or sealing a segment with it. */
	append(entry: JournalEntry): StoreWrite[] {
		const sealed = this.add(entry);
		if (!sealed) return singleWrites(entry);
		return [...sealed.slice(0, -1).flatMap(deleteSingle), segmentWrite(sealed)];
	}

	/** Adds `entry`; returns the entries to seal into a segment once they reach the segment size. */
	add(entry: JournalEntry): JournalEntry[] | undefined {
		this.entries.push(entry);
		this.size += sizeOf(entry);
		if (this.size < this.segmentBytes) return undefined;
		const sealed = this.entries;
		this.entries = [];
		this.size = 0;
		return sealed;
	}
}

/**
 * A whole journal laid out afresh (as appending each entry to an empty JournalTail would leave it), its
 * writes and the tail they leave: for a journal verified again on open, and for bench stores.
 */
export function layOutJournal(
	entries: readonly JournalEntry[],
	segmentBytes = SEGMENT_BYTES
): { writes: StoreWrite[]; tail: JournalTail } {
	const tail = new JournalTail([], segmentBytes);
	const writes: StoreWrite[] = [];
	for (const entry of entries) {
		const sealed = tail.add(entry);
		if (sealed) writes.push(segmentWrite(sealed));
	}
	writes.push(...tail.singles.flatMap(singleWrites));
	return { writes, tail };
}
