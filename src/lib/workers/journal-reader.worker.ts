/**
 * Reads a profile's stored journal and checks it against its verified head (runtime/stored-journal.ts)
 * off the page's main thread, while the page starts its other parts and restores the pieces already
 * read: IndexedDB's values are deserialized, and 70+ MB of facts hashed, here instead of in the page
 * (issue 17). It only reads: a journal in another format is reported (`current: false`) and the page
 * discards it. Each piece's buffers are transferred, not copied.
 */
/// <reference lib="webworker" />
import { webBulkSha256 } from '../crypto/sha256.browser.ts';
import { streamJournal, type JournalRow, type JournalVerdict } from '../runtime/stored-journal.ts';
import { useJournalSha256 } from '../runtime/verified-journal.ts';
import { openStore } from '../store/store.browser.ts';

export interface JournalReaderRequest {
	profile: string;
}

export type JournalReaderReply =
	| { kind: 'rows'; rows: JournalRow[] }
	| { kind: 'verdict'; verdict: JournalVerdict }
	| { kind: 'error'; name: string; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;
useJournalSha256(webBulkSha256);

scope.onmessage = async ({ data }: MessageEvent<JournalReaderRequest>) => {
	try {
		const store = await openStore(data.profile);
		try {
			const verdict = await streamJournal(store, (rows) => send({ kind: 'rows', rows }, buffersOf(rows)));
			send({ kind: 'verdict', verdict }, [verdict.head.hash.buffer as ArrayBuffer]);
		} finally {
			await store.close();
		}
	} catch (error) {
		const { name, message } = error instanceof Error ? error : new Error(String(error));
		send({ kind: 'error', name, message }, []);
	}
};

function send(reply: JournalReaderReply, transfer: ArrayBuffer[]): void {
	scope.postMessage(reply, transfer);
}

/** Every buffer the rows' bytes live in, once each (a buffer listed twice cannot be transferred). */
function buffersOf(rows: readonly JournalRow[]): ArrayBuffer[] {
	const buffers = new Set<ArrayBuffer>();
	for (const row of rows)
		for (const bytes of [row.bytes, row.derived, row.derivedDigest])
			if (bytes) buffers.add(bytes.buffer as ArrayBuffer);
	return [...buffers];
}
