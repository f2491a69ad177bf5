/**
 * The patient's timeline as the screens show it: every record transaction of the patient's block, opened
 * where the device can (its sealed copy, or the holder removes its layer), joined by records/history.ts
 * (a label attaches to the record it corrects, the original kept and marked, with who, when and the
 * reason the corrected record carries under its author's signature), newest first.
 */
import { bytesToHex, type Bytes } from '../../core/bytes.ts';
import type { LeafEntry } from '../../core/patient-block.ts';
import { transactionId } from '../../core/transaction.ts';
import { buildHistory, type ChainRecord, type HistoryEntry } from '../../records/history.ts';
import type { RecordView } from '../types.ts';
import { institutionView, type Consortium } from '../views.ts';
import type { OpenedRecord } from './record-cache.ts';

export interface HistorySources {
	/** The genesis, or the registry the chain derives (admitted institutions too). */
	genesis: Consortium;
	/** The patient's attached entries (this node verified the pin, the record's proof, the leaf proof). */
	entries: readonly LeafEntry[];
	open(entry: LeafEntry): Promise<OpenedRecord>;
	/** The time of the keyblock a round was made for (shown when the content is not available). */
	timeOf(round: number): number;
	isPinned(id: Bytes): boolean;
}

export async function historyViews(sources: HistorySources): Promise<RecordView[]> {
	const { genesis, timeOf } = sources;
	const opened = new Map<string, OpenedRecord>();
	const problems = new Map<string, string>();
	const records: ChainRecord[] = [];
	for (const entry of sources.entries) {
		const id = transactionId(entry.tx.body);
		records.push({ id, body: entry.tx.body, round: entry.tx.body.round });
		try {
			opened.set(bytesToHex(id), await sources.open(entry));
		} catch (error) {
			problems.set(bytesToHex(id), error instanceof Error ? error.message : String(error));
		}
	}
	const { entries } = buildHistory(records, (id) => opened.get(bytesToHex(id)));
	return entries.map((e) => view(e)).sort((a, b) => b.at - a.at);

	function view(e: HistoryEntry): RecordView {
		const hex = bytesToHex(e.id);
		const out: RecordView = {
			id: hex,
			institution: institutionView(genesis, e.institution),
			round: e.round,
			at: e.authoredAt ?? timeOf(e.round),
			status: { pinned: sources.isPinned(e.id), proofVerified: true, attached: true },
			resource: e.resource,
			unavailable: e.resource ? undefined : (problems.get(hex) ?? e.unavailable)
		};
		const label = e.label;
		if (label) {
			const problem = problems.get(bytesToHex(label.id)) ?? label.problem;
			out.label = {
				id: bytesToHex(label.id),
				institution: institutionView(genesis, label.institution),
				at: label.authoredAt ?? timeOf(label.round),
				reason:
					label.reason ??
					`The reason is in the corrected record, not available yet: ${problem?.replace(/\.$/, '')}.`,
				corrected: problem ? undefined : label.corrected
			};
		}
		return out;
	}
}
