/**
 * A correction in words, for everyone who must judge it: the patient asked to consent, the clinic that
 * receives a corrected record, the history. What changed is read from the two contents' rendering
 * (render.ts), part by part, as "before → after" pairs ("Blood pressure: 148/95 mmHg → 138/88 mmHg"),
 * with the reason; never as the hashes the label carries.
 */
import type { Resource } from '@medplum/fhirtypes';
import { renderRecord, type RenderedItem } from './render.ts';

export interface CorrectionChange {
	/** What changed, in words: "Blood pressure", "Blood pressure · Note". */
	what: string;
	/** The original's words ("" when the original did not say). */
	before: string;
	/** The correction's words ("" when the correction removes it). */
	after: string;
}

export interface RenderedCorrection {
	changes: CorrectionChange[];
	reason: string;
	/** One sentence: "Blood pressure: 148/95 mmHg → 138/88 mmHg. Reason: re-measured seated." */
	text: string;
}

/** The lines of one rendered part, by what they say: its headline, its date and each field. */
function lines(item: RenderedItem | undefined): Map<string, string> {
	const out = new Map<string, string>();
	if (!item) return out;
	out.set('', [item.title, item.value].filter(Boolean).join(': '));
	if (item.date) out.set('Date', item.date);
	for (const [label, value] of item.fields) out.set(label, value);
	if (item.narrative) out.set('Note', item.narrative);
	return out;
}

/** What a correction changes (old → new) and why, from the two contents. */
export function renderCorrection(
	original: Resource | undefined,
	corrected: Resource | undefined,
	reason: string,
	locale?: string
): RenderedCorrection {
	const before = original ? renderRecord(original, locale) : [];
	const after = corrected ? renderRecord(corrected, locale) : [];
	const changes: CorrectionChange[] = [];
	for (let i = 0; i < Math.max(before.length, after.length); i++) {
		const old = lines(before[i]);
		const now = lines(after[i]);
		const title = after[i]?.title ?? before[i]?.title ?? 'Record';
		for (const key of new Set([...old.keys(), ...now.keys()])) {
			const was = old.get(key) ?? '';
			const is = now.get(key) ?? '';
			if (was !== is) changes.push({ what: key ? `${title} · ${key}` : title, before: was, after: is });
		}
	}
	const change = (c: CorrectionChange) => {
		const head = `${c.what}: `;
		// A headline keeps its title once: "Blood pressure: 148/95 mmHg → 138/88 mmHg".
		if (c.before.startsWith(head) && c.after.startsWith(head))
			return `${c.before} → ${c.after.slice(head.length)}`;
		if (!c.what.includes(' · ')) return `${c.before || '(none)'} → ${c.after || '(removed)'}`;
		return `${c.what}: ${c.before || '(none)'} → ${c.after || '(removed)'}`;
	};
	const said = changes.length > 0 ? changes.map(change).join('; ') : 'No visible change';
	return { changes, reason, text: `${said}. Reason: ${reason}` };
}
