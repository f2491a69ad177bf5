/**
 * How a resource is named in sentences and lists: its type, its code in words and its date, e.g.
 * `the Observation "Blood pressure panel" of 1 Oct 2026`, and the one-line summary a patient reads in a
 * signing request ("Visit of 1 Oct 2026 · 14 items: …"). Only the resource's own fields are used.
 */
import type { Bundle, CodeableConcept, Coding, Resource } from '@medplum/fhirtypes';
import { codingDisplay, unitText } from './vocabulary.ts';

type Loose = Record<string, unknown>;

/**
 * The words of a CodeableConcept: its text, else a coding's display, else the bundled display of a known
 * code (vocabulary.ts), else a code.
 */
export function conceptText(c: CodeableConcept | undefined): string | undefined {
	if (!c || typeof c !== 'object') return undefined;
	const coding = Array.isArray(c.coding) ? c.coding : [];
	return (
		c.text ??
		coding.find((x) => x?.display)?.display ??
		coding.map((x) => codingDisplay(x)).find(Boolean) ??
		coding.find((x) => x?.code)?.code
	);
}

/** The words of a lone Coding (an Encounter's class): its display, else the bundled one, else its code. */
function codingText(c: Coding | undefined): string | undefined {
	return c?.display ?? codingDisplay(c) ?? c?.code;
}

/**
 * The element that says what a resource is about, by the R4 name each type uses. A visit written from
 * the form says why (reasonCode) rather than its type; its class ("AMB") last.
 */
const CODE_ELEMENTS =
	'code vaccineCode medicationCodeableConcept type reasonCode class category relationship'.split(' ');

/** What the resource is about, in words (its code, vaccine, medication, type, or title/name). */
export function topicOf(resource: Resource): string | undefined {
	const r = resource as unknown as Loose;
	for (const key of CODE_ELEMENTS) {
		const value = r[key];
		const concept = (Array.isArray(value) ? value[0] : value) as CodeableConcept | undefined;
		const text = key === 'class' ? codingText(value as Coding | undefined) : conceptText(concept);
		if (typeof text === 'string' && text.trim()) return text.trim();
	}
	const names = r.name;
	if (Array.isArray(names) && names[0] && typeof names[0] === 'object') {
		const n = names[0] as { text?: string; given?: string[]; family?: string };
		const text = n.text ?? [...(n.given ?? []), n.family].filter(Boolean).join(' ');
		if (text) return text;
	}
	const ref = r.medicationReference as { display?: string } | undefined;
	if (ref?.display) return ref.display;
	for (const key of ['title', 'name', 'description']) if (typeof r[key] === 'string') return r[key] as string;
	return undefined;
}

/** Date elements in the order R4 resources use them for "when it happened". */
const DATE_ELEMENTS = `effectiveDateTime effectiveInstant effectivePeriod occurrenceDateTime occurrencePeriod
	performedDateTime performedPeriod onsetDateTime onsetPeriod period authoredOn recordedDate recorded date
	issued created timestamp`.split(/\s+/);

/** The FHIR date (or dateTime) a resource happened at, if it says. */
export function dateOf(resource: Resource): string | undefined {
	const r = resource as unknown as Loose;
	for (const key of DATE_ELEMENTS) {
		const value = r[key];
		if (typeof value === 'string') return value;
		if (value && typeof value === 'object' && typeof (value as Loose).start === 'string')
			return (value as Loose).start as string;
	}
	return undefined;
}

/** When a record's content happened: its own date, or for a visit Bundle its Encounter's (else any part's). */
export function recordDateOf(resource: Resource): string | undefined {
	if (resource.resourceType !== 'Bundle') return dateOf(resource);
	const parts = ((resource as Bundle).entry ?? []).flatMap((e) => (e?.resource ? [e.resource] : []));
	const encounter = parts.find((p) => p.resourceType === 'Encounter');
	return (encounter && dateOf(encounter)) ?? parts.map(dateOf).find(Boolean);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A FHIR date in words, as precise as it is: "2026", "Oct 2026", "1 Oct 2026" (no time zone games). */
export function dateWords(date: string): string {
	const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(date);
	if (!m) return date;
	const [, year, month, day] = m;
	if (!month) return year!;
	const name = MONTHS[Number(month) - 1] ?? month;
	return day ? `${Number(day)} ${name} ${year}` : `${name} ${year}`;
}

/** `the Observation "Blood pressure panel" of 1 Oct 2026` (or less when the resource says less). */
export function nameOf(resource: unknown, fallback = 'the resource'): string {
	if (!resource || typeof resource !== 'object') return fallback;
	const r = resource as Resource;
	if (typeof r.resourceType !== 'string') return fallback;
	const topic = topicOf(r);
	const date = dateOf(r);
	return [
		`the ${r.resourceType}`,
		topic ? ` "${topic.length > 60 ? `${topic.slice(0, 57)}…` : topic}"` : '',
		date ? ` of ${dateWords(date)}` : ''
	].join('');
}

/** An Observation's value[x] (or its components, "120/80 mmHg" style) in words. */
export function valueText(o: Loose): string | undefined {
	const q = o.valueQuantity as
		{ value?: number; unit?: string; code?: string; comparator?: string } | undefined;
	if (q) return `${q.comparator ?? ''}${q.value ?? ''} ${unitText(q.unit, q.code)}`.trim();
	if (typeof o.valueString === 'string') return o.valueString;
	if (typeof o.valueBoolean === 'boolean') return o.valueBoolean ? 'yes' : 'no';
	if (typeof o.valueInteger === 'number') return String(o.valueInteger);
	if (typeof o.valueDateTime === 'string') return dateWords(o.valueDateTime);
	const concept = conceptText(o.valueCodeableConcept as CodeableConcept | undefined);
	if (concept) return concept;
	const components = Array.isArray(o.component) ? (o.component as Loose[]) : [];
	const quantities = components.map(
		(c) => c.valueQuantity as { value?: number; unit?: string; code?: string } | undefined
	);
	if (quantities.length > 0 && quantities.every((x) => typeof x?.value === 'number')) {
		const units = new Set(quantities.map((x) => unitText(x!.unit, x!.code)));
		const values = quantities.map((x) => x!.value).join('/');
		return units.size === 1
			? `${values} ${[...units][0]}`.trim()
			: quantities.map((x) => `${x!.value} ${unitText(x!.unit, x!.code)}`.trim()).join(', ');
	}
	return undefined;
}

/** Longest summary a signing request carries (app/wire.ts). */
export const MAX_SUMMARY = 300;

function clip(text: string, max: number): string {
	return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** One line for lists and signing requests, e.g. "Condition · Influenza" or "Visit of 1 Oct 2026 · 14 items: …". */
export function summarize(resource: Resource): string {
	if (resource.resourceType === 'Bundle') {
		const parts = ((resource as Bundle).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
		const date = recordDateOf(resource);
		const counts = new Map<string, number>();
		for (const p of parts) counts.set(p.resourceType, (counts.get(p.resourceType) ?? 0) + 1);
		const list = [...counts].map(([type, n]) => (n > 1 ? `${n} ${type}` : type)).join(', ');
		const head = `Visit${date ? ` of ${dateWords(date)}` : ''} · ${parts.length} item${parts.length === 1 ? '' : 's'}`;
		return clip(`${head}: ${list}`, MAX_SUMMARY);
	}
	const topic = topicOf(resource);
	const value = resource.resourceType === 'Observation' ? valueText(resource as unknown as Loose) : undefined;
	const what = [topic, value].filter(Boolean).join(': ');
	return clip(what ? `${resource.resourceType} · ${what}` : resource.resourceType, MAX_SUMMARY);
}
