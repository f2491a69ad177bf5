/**
 * The patient's share picker lists records, not versions: a corrected record is one choice, titled by its
 * current value, whose consent covers both the original and its correction (so the receiving clinic gets
 * the whole chain, records/share.ts chainShared). Kept apart from app/views.ts so the page does not load
 * the chain modules before the session.
 */
import type { RecordView } from '../../app/types.ts';
import { summarize, type RecordResource } from '../../records/fhir.ts';

/** One choice of the patient's share picker: a record with all its versions, titled by its current one. */
export interface ShareChoice {
	/** The transaction ids the consent must cover: the record and its correction. */
	ids: string[];
	title: string;
}

export function shareChoices(records: readonly RecordView[]): ShareChoice[] {
	return records.map((r) => {
		const current = r.label?.corrected ?? r.resource;
		const what = current ? summarize(current as RecordResource) : 'Record';
		return {
			ids: r.label ? [r.id, r.label.id] : [r.id],
			title: `${what}${r.label ? ' (corrected)' : ''} · ${r.institution.name}`
		};
	});
}
