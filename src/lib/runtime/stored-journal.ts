/**
 * The journal a node keeps in its store (chain-state.ts), read back on open: its facts in the order
 * they were applied, the values derived from them, and whether it is the journal this node verified
 * (verified-journal.ts). A journal in another format is discarded here.
 */
import { equalBytes, type Bytes } from '../core/bytes.ts';
import type { Store, TableName } from '../store/store.ts';
import { FACT_TYPES, position, TABLE_OF, type ChainFact } from './chain-fact.ts';
import { decodeSegment, SEGMENT_TABLE, type JournalEntry } from './journal-segments.ts';
import {
	checkJournal,
	decodeHead,
	DERIVED_RANGE,
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

/** A fact stored as a single row: its journal position (zero-padded), table, kind and bytes. */
export interface StoredFact {
	at: string;
	table: TableName;
	type: ChainFact['type'];
	bytes: Bytes;
}

/** The facts stored as single rows (journal-segments.ts), from position `from`, in position order. */
async function listSingles(store: Store, from = 0): Promise<StoredFact[]> {
	// One read per table, all at once: a browser's IndexedDB serves them side by side.
	const tables = await Promise.all(
		FACT_TYPES.map(async (type) => {
			const listed = await store.list(TABLE_OF[type], { from: position(from) });
			return listed.map(([at, bytes]): StoredFact => ({ at, table: TABLE_OF[type], type, bytes }));
		})
	);
	return tables.flat().sort((a, b) => (a.at < b.at ? -1 : 1));
}

/** The journal kept in `store` from position `from` (segments and single rows), in the order applied. */
export async function listJournal(
	store: Store,
	from = 0
): Promise<Array<{ position: number; type: ChainFact['type']; bytes: Bytes }>> {
	const [segments, singles] = await Promise.all([
		store.list(SEGMENT_TABLE, { from: position(from) }),
		listSingles(store, from)
	]);
	return inOrder(
		segments,
		singles.map((fact) => singleEntry(fact))
	)
		.filter((fact) => fact.position >= from)
		.map(({ position, type, bytes }) => ({ position, type: FACT_TYPES[type]!, bytes }));
}

function singleEntry(fact: StoredFact, derived?: Bytes): JournalEntry {
	return { position: Number(fact.at), type: FACT_TYPES.indexOf(fact.type), bytes: fact.bytes, derived };
}

/** The facts of `segments` and of `singles`, in position order. */
function inOrder(segments: Array<[string, Bytes]>, singles: JournalEntry[]): JournalEntry[] {
	const sealed = segments.flatMap(([key, value]) => decodeSegment(key, value));
	return [...sealed, ...singles].sort((a, b) => a.position - b.position);
}

/** One fact of the stored journal, as open() replays it. */
export interface JournalRow extends JournalEntry {
	/** SHA-256 of `derived` (of nothing without one), computed by the head check. */
	derivedDigest?: Bytes;
}

export interface StoredJournal {
	journal: JournalRow[];
	/** The head the rows hash to, and why they are not the journal this node verified (if they are not). */
	head: VerifiedHead;
	distrust: JournalDistrust | undefined;
	/** The facts stored as single rows after the last segment (journal-segments.ts JournalTail). */
	tail: JournalRow[];
	/** Every key the journal was read from (deleted when the journal is laid out again). */
	storedKeys: Array<{ table: TableName; key: string }>;
	/** Facts of a journal in an older format, deleted (0 when the journal was current). */
	discarded: number;
}

/**
 * What open() reads of the store, before it checks or changes anything: a start-up may begin these
 * reads early, beside its other steps (browser-node.ts), as long as nothing writes the journal meanwhile.
 */
export interface JournalReads {
	segments: Array<[string, Bytes]>;
	singles: StoredFact[];
	format: Bytes | undefined;
	derivedRows: Array<[string, Bytes]>;
	head: Bytes | undefined;
}

export async function readJournalRows(store: Store): Promise<JournalReads> {
	const [segments, singles, format, derivedRows, head] = await Promise.all([
		store.list(SEGMENT_TABLE),
		listSingles(store),
		store.get('meta', JOURNAL_FORMAT_KEY),
		store.list('meta', DERIVED_RANGE),
		store.get('meta', VERIFIED_HEAD_KEY)
	]);
	return { segments, singles, format, derivedRows, head };
}

/**
 * Reads the journal kept in `store` (or takes `reads` begun earlier) and checks it against its head; one
 * in another format is deleted (see JOURNAL_FORMAT).
 */
export async function readStoredJournal(
	store: Store,
	reads: Promise<JournalReads> = readJournalRows(store)
): Promise<StoredJournal> {
	const read = await reads;
	let { segments, singles, derivedRows } = read;
	let storedKeys = [
		...segments.map(([key]) => ({ table: SEGMENT_TABLE, key })),
		...singles.map(({ table, at }) => ({ table, key: at })),
		...derivedRows.map(([key]) => ({ table: 'meta' as const, key }))
	];
	let discarded = 0;
	if (!read.format || !equalBytes(read.format, JOURNAL_FORMAT)) {
		await store.write([
			...storedKeys.map(({ table, key }) => ({ table, key, value: null })),
			{ table: 'meta', key: JOURNAL_FORMAT_KEY, value: JOURNAL_FORMAT }
		]);
		discarded = singles.length + segments.reduce((n, [key, value]) => n + countSegment(key, value), 0);
		[segments, singles, derivedRows, storedKeys] = [[], [], [], []];
	}
	const derived = new Map(derivedRows.map(([key, value]) => [positionOfDerived(key), value]));
	const tail: JournalRow[] = singles.map((fact) => singleEntry(fact, derived.get(Number(fact.at))));
	const journal: JournalRow[] = inOrder(segments, tail);
	const { head, distrust, derivedDigests } = await checkJournal(journal, decodeHead(read.head));
	journal.forEach((row, i) => (row.derivedDigest = derivedDigests[i]));
	return { journal, head, distrust, tail, storedKeys, discarded };
}

/** How many facts a discarded segment held (0 when it is damaged: it is deleted all the same). */
function countSegment(key: string, value: Bytes): number {
	try {
		return decodeSegment(key, value).length;
	} catch {
		return 0;
	}
}
