/**
 * The patient's history as the app shows it: every record transaction on the chain for the patient
 * (medical and label, from the patient block's leaves), joined with the records the device could open.
 * A label (paper §5.3 Label) does not replace its target: the original stays, marked as labelled, with
 * who (the label's institution), when (its round) and why (the reason the corrected record carries under
 * its author's signature). Pure: the caller supplies chain data and opened records.
 */
import { bytesToHex, equalBytes, type Bytes } from '../core/bytes.ts';
import type { PublicKey } from '../core/identity.ts';
import type { RecordBody } from '../core/transaction.ts';
import type { RecordContent, RecordHeader } from './envelope.ts';
import { parseResource, type RecordResource } from './fhir.ts';

/** One pinned record transaction of the patient (medical or label). */
export interface ChainRecord {
	id: Bytes;
	body: RecordBody;
	/** Keyblock height the transaction was made for. */
	round: number;
}

/** A record the device opened (share.openAccessResponse, upload.openUploadReview, its sealed copy). */
export interface OpenedRecord {
	header: RecordHeader;
	content: RecordContent;
}

export interface LabelEntry {
	id: Bytes;
	institution: PublicKey;
	round: number;
	reason?: string;
	corrected?: RecordResource;
	authoredAt?: number;
	/** Why the corrected record is not shown or not trusted, in a sentence. */
	problem?: string;
}

export interface HistoryEntry {
	id: Bytes;
	institution: PublicKey;
	round: number;
	authoredAt?: number;
	resource?: RecordResource;
	/** Why the content is not shown, in a sentence. */
	unavailable?: string;
	/** The latest correction of this record, if it was labelled. */
	label?: LabelEntry;
}

function open(
	record: ChainRecord,
	opened: (id: Bytes) => OpenedRecord | undefined
): { resource?: RecordResource; content?: RecordContent; problem?: string } {
	const o = opened(record.id);
	if (!o) return { problem: 'not fetched from the holding institution yet' };
	if (!equalBytes(o.header.holder, record.body.record.pointer.holder))
		return { problem: 'the opened record is held by another institution than the chain says' };
	if (!equalBytes(o.header.patient, record.body.patient))
		return { problem: 'the opened record belongs to another patient' };
	try {
		return { resource: parseResource(o.content.resource), content: o.content };
	} catch (error) {
		return { problem: `the record is not a valid FHIR resource (${(error as Error).message})` };
	}
}

/**
 * Builds the timeline, oldest first (by round, then authoring time). A label attaches to the record it
 * targets (following labels of labels to the original); the newest label wins. A label whose corrected
 * record does not name its target, or whose target is unknown, is reported rather than hidden.
 */
export function buildHistory(
	records: readonly ChainRecord[],
	opened: (id: Bytes) => OpenedRecord | undefined
): { entries: HistoryEntry[]; orphanLabels: LabelEntry[] } {
	const byId = new Map(records.map((r) => [bytesToHex(r.id), r]));
	const entries = new Map<string, HistoryEntry>();
	for (const r of records) {
		if (r.body.kind !== 'medical') continue;
		const o = open(r, opened);
		entries.set(bytesToHex(r.id), {
			id: r.id,
			institution: r.body.institution,
			round: r.round,
			authoredAt: o.content?.authoredAt,
			resource: o.resource,
			unavailable: o.problem
		});
	}
	const orphanLabels: LabelEntry[] = [];
	const labels = records.filter((r) => r.body.kind === 'label').sort((a, b) => a.round - b.round);
	for (const r of labels) {
		if (r.body.kind !== 'label') continue;
		const o = open(r, opened);
		const label: LabelEntry = {
			id: r.id,
			institution: r.body.institution,
			round: r.round,
			reason: o.content?.correction?.reason,
			corrected: o.resource,
			authoredAt: o.content?.authoredAt,
			problem: o.problem
		};
		if (o.content && !o.content.correction)
			label.problem = 'the corrected record does not say what it corrects';
		else if (o.content?.correction && !equalBytes(o.content.correction.target, r.body.target))
			label.problem = 'the corrected record names another record than the label transaction';
		// Follow labels of labels back to the original medical record.
		let target = byId.get(bytesToHex(r.body.target));
		const visited = new Set<string>();
		while (target && target.body.kind === 'label' && !visited.has(bytesToHex(target.id))) {
			visited.add(bytesToHex(target.id));
			target = byId.get(bytesToHex(target.body.target));
		}
		const entry = target ? entries.get(bytesToHex(target.id)) : undefined;
		if (entry) entry.label = label;
		else orphanLabels.push(label);
	}
	const sorted = [...entries.values()].sort(
		(a, b) => a.round - b.round || (a.authoredAt ?? 0) - (b.authoredAt ?? 0)
	);
	return { entries: sorted, orphanLabels };
}
