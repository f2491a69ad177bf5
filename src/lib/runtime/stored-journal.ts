/**
 * The journal a node keeps in its store (chain-state.ts), read back on open: its facts in the order
 * they were applied, the values derived from them, and whether it is the journal this node verified
 * (verified-journal.ts). A journal in another format is discarded here.
 */
import { pushable } from 'it-pushable';
import { equalBytes, type Bytes } from '../core/bytes.ts';
import type { Store, TableName } from '../store/store.ts';
import { FACT_TYPES, position, TABLE_OF, type ChainFact } from './chain-fact.ts';
import {
	decodeHead,
	DERIVED_RANGE,
	derivedKey,
	JournalHasher,
	positionOfDerived,
	VERIFIED_HEAD_KEY,
	type JournalDistrust,
	type VerifiedHead
} from './verified-journal.ts';

/**
 * The journal's format, kept in the store's meta table. Bump it when stored facts stop replaying under
 * the current rules. 2: leaf entries name the pinned batch (pinning.ts pinnedBatchId), not a certificate.
 * 3: hand-overs must match the node's own ranking (lifetime R, presence) and fees are debited.
 */
export const JOURNAL_FORMAT = new TextEncoder().encode('spchain-journal/3');
const JOURNAL_FORMAT_KEY = 'journal-format';

/** A stored fact: its journal position (zero-padded), table, kind and bytes. */
export interface StoredFact {
	at: string;
	table: TableName;
	type: ChainFact['type'];
	bytes: Bytes;
}

/** The journal kept in `store` from position `from` (up to `to`, excluded), in the order it was applied. */
export async function listJournal(store: Store, from = 0, to?: number): Promise<StoredFact[]> {
	const range = { from: position(from), to: to === undefined ? undefined : position(to) };
	// One read per table, all at once: a browser's IndexedDB serves them side by side.
	const tables = await Promise.all(
		FACT_TYPES.map(async (type) => {
			const listed = await store.list(TABLE_OF[type], range);
			return listed.map(([at, bytes]): StoredFact => ({ at, table: TABLE_OF[type], type, bytes }));
		})
	);
	return tables.flat().sort((a, b) => (a.at < b.at ? -1 : 1));
}

/** One fact of the stored journal, as open() replays it. */
export interface JournalRow {
	position: number;
	/** Index in FACT_TYPES. */
	type: number;
	bytes: Bytes;
	derived: Bytes | undefined;
	/** SHA-256 of `derived` (of nothing without one), computed by the head check. */
	derivedDigest?: Bytes;
}

export interface StoredJournal {
	journal: JournalRow[];
	/** The head the rows hash to, and why they are not the journal this node verified (if they are not). */
	head: VerifiedHead;
	distrust: JournalDistrust | undefined;
	/** The meta keys of the derived rows read (rewritten when the journal is verified again). */
	derivedKeys: string[];
	/** Facts of a journal in an older format, deleted (0 when the journal was current). */
	discarded: number;
}

/** Positions per piece when a journal is read in pieces (~3–8 MB of the 100,000-transaction chain). */
export const JOURNAL_PIECE = 128;

/** What the head check says of a stored journal once all of it was read (streamJournal). */
export interface JournalVerdict {
	/** Whether the journal is in this code's format (JOURNAL_FORMAT); if not, none of it was read. */
	current: boolean;
	/** The head its rows hash to, and why they are not the journal this node verified (if they are not). */
	head: VerifiedHead;
	distrust?: JournalDistrust;
	/** The meta keys of the derived rows read (rewritten when the journal is verified again). */
	derivedKeys: string[];
}

/**
 * Reads the journal kept in `store` in pieces of `piece` positions, checking it as it goes: each piece's
 * rows (in position order, with their derived values and digests) go to `onRows` before the next piece
 * is read, and the verdict comes after the last piece. Only reads. Up to the length its stored head
 * names the journal is read in pieces; whatever lies beyond (nothing, in a whole journal) at the end.
 */
export async function streamJournal(
	store: Store,
	onRows: (rows: JournalRow[]) => void,
	piece = JOURNAL_PIECE
): Promise<JournalVerdict> {
	const [format, storedHead] = await Promise.all([
		store.get('meta', JOURNAL_FORMAT_KEY),
		store.get('meta', VERIFIED_HEAD_KEY)
	]);
	const stored = decodeHead(storedHead);
	const current = format !== undefined && equalBytes(format, JOURNAL_FORMAT);
	const hasher = new JournalHasher();
	const derivedKeys: string[] = [];
	const readPiece = async (from: number, to: number | undefined): Promise<JournalRow[]> => {
		const derivedRange = {
			from: from === 0 ? DERIVED_RANGE.from : derivedKey(from),
			to: to === undefined ? DERIVED_RANGE.to : derivedKey(to)
		};
		const [facts, derivedRows] = await Promise.all([
			listJournal(store, from, to),
			store.list('meta', derivedRange)
		]);
		const derived = new Map(derivedRows.map(([key, value]) => [positionOfDerived(key), value]));
		derivedKeys.push(...derivedRows.map(([key]) => key));
		return facts.map((r) => ({
			position: Number(r.at),
			type: FACT_TYPES.indexOf(r.type),
			bytes: r.bytes,
			derived: derived.get(Number(r.at))
		}));
	};
	const emit = async (rows: JournalRow[]) => {
		const digests = await hasher.add(rows);
		rows.forEach((row, i) => (row.derivedDigest = digests[i]));
		if (rows.length > 0) onRows(rows);
	};
	if (current) {
		const end = stored?.length ?? 0;
		let from = 0;
		// The next piece is read while this one is hashed (and, in a page, restored).
		let reading = from < end ? readPiece(from, Math.min(from + piece, end)) : undefined;
		while (reading) {
			const rows = await reading;
			// A piece with nothing in it (a damaged journal, or a head that names more than is stored):
			// the rest is read in one go from there.
			if (rows.length === 0) break;
			from += piece;
			reading = from < end ? readPiece(from, Math.min(from + piece, end)) : undefined;
			reading?.catch(() => undefined); // awaited on the next turn, unless emit throws first
			await emit(rows);
		}
		await emit(await readPiece(Math.min(from, end), undefined));
	}
	return { current, ...hasher.verdict(current ? stored : undefined), derivedKeys };
}

/** A stored journal as open() takes it: its rows piece by piece, then the head check's verdict. */
export interface JournalSource {
	pieces: AsyncIterable<JournalRow[]>;
	/** Settles once the last piece has been handed over; rejects as `pieces` does, if a read failed. */
	verdict: Promise<JournalVerdict>;
}

/** The journal of `store`, read here (a page may read it in a worker instead: journal-reader.ts). */
export function journalSource(store: Store, piece = JOURNAL_PIECE): JournalSource {
	const pieces = pushable<JournalRow[]>({ objectMode: true });
	const verdict = streamJournal(store, (rows) => pieces.push(rows), piece);
	verdict.then(
		() => pieces.end(),
		(error: unknown) => pieces.end(error instanceof Error ? error : new Error(String(error)))
	);
	return { pieces, verdict };
}

/** Deletes a journal of another format (JOURNAL_FORMAT) and marks the store current; how many facts. */
export async function discardJournal(store: Store): Promise<number> {
	const rows = await listJournal(store);
	await store.write([
		...rows.map(({ table, at }) => ({ table, key: at, value: null })),
		{ table: 'meta', key: JOURNAL_FORMAT_KEY, value: JOURNAL_FORMAT }
	]);
	return rows.length;
}

/** The journal kept in `store`, all of it, checked; one in another format is deleted (JOURNAL_FORMAT). */
export async function readStoredJournal(store: Store): Promise<StoredJournal> {
	const journal: JournalRow[] = [];
	const verdict = await streamJournal(store, (rows) => journal.push(...rows));
	const { current, head, distrust, derivedKeys } = verdict;
	const discarded = current ? 0 : await discardJournal(store);
	return { journal, head, distrust, derivedKeys, discarded };
}
