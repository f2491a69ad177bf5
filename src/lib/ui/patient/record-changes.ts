/**
 * What a correction changes, as the patient reads it before consenting to a label: each line of the
 * record as the timeline renders it (records/fhir/render.ts: what it is, its value, date, fields, text),
 * the original's value beside the corrected one, for every line that differs. Lines are matched by the
 * part of the record they belong to and their name, so a changed diagnosis reads "Diagnosis: A → B".
 */
import type { Resource } from '@medplum/fhirtypes';
import { renderRecord } from '../../records/fhir/render.ts';

export interface RecordChange {
	/** The line's name, e.g. "Diagnosis", "Value". */
	what: string;
	/** Absent when the line is new in the correction. */
	before?: string;
	/** Absent when the correction removes the line. */
	after?: string;
}

function lines(resource: Resource): Map<string, { what: string; value: string }> {
	const out = new Map<string, { what: string; value: string }>();
	renderRecord(resource).forEach((item, i) => {
		const add = (name: string, value: string | undefined) => {
			if (value !== undefined) out.set(`${i}|${name}`, { what: name, value });
		};
		add(item.kind, item.title);
		add('Value', item.value);
		add('Date', item.date);
		for (const [name, value] of item.fields) add(name, value);
		add('Text', item.narrative);
	});
	return out;
}

export function recordChanges(original: Resource, corrected: Resource): RecordChange[] {
	const before = lines(original);
	const after = lines(corrected);
	const changes: RecordChange[] = [];
	for (const key of new Set([...before.keys(), ...after.keys()])) {
		const a = before.get(key);
		const b = after.get(key);
		if (a?.value === b?.value) continue;
		changes.push({ what: (a ?? b)!.what, before: a?.value, after: b?.value });
	}
	return changes;
}
