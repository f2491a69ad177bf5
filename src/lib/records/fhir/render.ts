/**
 * The rendering model of records on the patient's phone (and in the clinic's views): every resource of
 * a record as a plain-language card (what kind of thing it is, what it is about, when, and the few fields
 * a patient reads), from the resource's own coded fields (display names before codes) and its narrative
 * (as plain text, never as HTML). Specific renderers cover the common types (Observation with blood-pressure
 * pairs, Condition, AllergyIntolerance, Immunization, MedicationRequest, Procedure, DocumentReference,
 * DiagnosticReport, Encounter); any other R4 type gets the generic one. Dates are shown in the reader's
 * locale at the precision the record gives ("October 2026" for 2026-10). Pure: no DOM.
 */
import type { Attachment, Bundle, CodeableConcept, Quantity, Reference, Resource } from '@medplum/fhirtypes';
import { conceptText, dateOf, topicOf, valueText } from './names.ts';
import { unitText } from './vocabulary.ts';

export interface RenderedAttachment {
	title: string;
	contentType: string;
	/** Bytes of the content, when the record carries it (base64 `data`). */
	size?: number;
	/** The base64 content carried in the record. */
	data?: string;
	/** Where the content is, when the record points elsewhere. */
	url?: string;
}

export interface RenderedItem {
	resourceType: string;
	/** What kind of thing it is, in words: "Vital sign", "Allergy", "Vaccination", … */
	kind: string;
	/** What it is about: "Blood pressure", "Penicillin", … */
	title: string;
	/** The main value, when there is one: "142/91 mmHg". */
	value?: string;
	/** When, in the reader's locale. */
	date?: string;
	fields: [label: string, value: string][];
	/** The resource's own narrative as plain text. */
	narrative?: string;
	attachments: RenderedAttachment[];
}

type Loose = Record<string, unknown>;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v : undefined);
const concept = (v: unknown) => conceptText(v as CodeableConcept | undefined);
const concepts = (v: unknown) =>
	Array.isArray(v) ? v.map(concept).filter(Boolean).join(', ') || undefined : concept(v);
const refText = (v: unknown) => str((v as Reference | undefined)?.display);

/** A FHIR date, dateTime or instant in the reader's locale, no more precise than it is. */
export function formatFhirDate(date: string | undefined, locale?: string): string | undefined {
	if (!date) return undefined;
	const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(date);
	if (m) {
		const [, y, mo, d] = m;
		const utc = new Date(Date.UTC(Number(y), mo ? Number(mo) - 1 : 0, d ? Number(d) : 1));
		if (!mo) return y;
		const options: Intl.DateTimeFormatOptions = d
			? { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' }
			: { month: 'long', year: 'numeric', timeZone: 'UTC' };
		return new Intl.DateTimeFormat(locale, options).format(utc);
	}
	const t = Date.parse(date);
	if (Number.isNaN(t)) return date;
	return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' }).format(t);
}

function quantity(q: Quantity | undefined): string | undefined {
	if (!q || typeof q.value !== 'number') return undefined;
	return `${q.comparator ?? ''}${q.value} ${unitText(q.unit, q.code)}`.trim();
}

/** The narrative's text: tags dropped, entities decoded, whitespace collapsed. Never rendered as HTML. */
export function narrativeText(div: unknown): string | undefined {
	if (typeof div !== 'string') return undefined;
	const text = div
		.replace(/<(br|p|div|li|tr|h\d)\b[^>]*>/gi, ' ')
		.replace(/<[^>]*>/g, '')
		.replace(/&lt;/g, '<')
		.replace(/&gt;/g, '>')
		.replace(/&quot;/g, '"')
		.replace(/&#39;|&apos;/g, "'")
		.replace(/&nbsp;/g, ' ')
		.replace(/&amp;/g, '&')
		.replace(/\s+/g, ' ')
		.trim();
	return text || undefined;
}

function attachment(a: Attachment | undefined, fallback: string): RenderedAttachment[] {
	if (!a || typeof a !== 'object') return [];
	const data = str(a.data);
	return [
		{
			title: str(a.title) ?? fallback,
			contentType: str(a.contentType) ?? 'application/octet-stream',
			size: data ? Math.floor((data.replace(/=+$/, '').length * 3) / 4) : a.size,
			data,
			url: str(a.url)
		}
	];
}

const STATUS_SHOWN_UNLESS = new Set([
	'final',
	'completed',
	'active',
	'finished',
	'current',
	'amended',
	'corrected'
]);

function statusField(r: Loose): [string, string | undefined] {
	const s = str(r.status);
	return ['Status', s && !STATUS_SHOWN_UNLESS.has(s) ? s.replace(/-/g, ' ') : undefined];
}

function notes(r: Loose): [string, string | undefined] {
	const list = Array.isArray(r.note) ? (r.note as { text?: string }[]) : [];
	return [
		'Note',
		list
			.map((n) => n?.text)
			.filter(Boolean)
			.join(' ') || undefined
	];
}

/** "FamilyMemberHistory" → "Family member history". */
function words(type: string): string {
	const spaced = type.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
	return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

type Specific = (r: Loose, locale?: string) => Omit<RenderedItem, 'resourceType' | 'narrative'>;

const observation: Specific = (r, locale) => {
	const category = concepts(r.category)?.toLowerCase() ?? '';
	const value = valueText(r);
	// When the value is the components read together ("148/95 mmHg"), they are not listed again.
	const ownValue = Object.keys(r).some((k) => k.startsWith('value'));
	const components = Array.isArray(r.component) && (ownValue || !value) ? (r.component as Loose[]) : [];
	return {
		kind: category.includes('vital')
			? 'Vital sign'
			: category.includes('lab')
				? 'Test result'
				: 'Observation',
		title: topicOf(r as unknown as Resource) ?? 'Observation',
		value: value ?? concept(r.dataAbsentReason),
		date: formatFhirDate(dateOf(r as unknown as Resource), locale),
		fields: [
			...components.map((c): [string, string | undefined] => [
				concept(c.code) ?? 'Part',
				quantity(c.valueQuantity as Quantity) ?? str(c.valueString) ?? concept(c.valueCodeableConcept)
			]),
			['Interpretation', concepts(r.interpretation)],
			[
				'Normal range',
				Array.isArray(r.referenceRange)
					? (r.referenceRange as Loose[])
							.map(
								(x) =>
									str(x.text) ??
									[quantity(x.low as Quantity), quantity(x.high as Quantity)].filter(Boolean).join(' – ')
							)
							.filter(Boolean)
							.join('; ') || undefined
					: undefined
			],
			statusField(r),
			notes(r)
		].filter((f): f is [string, string] => f[1] !== undefined),
		attachments: []
	};
};

const SPECIFIC: Partial<Record<string, Specific>> = {
	Observation: observation,
	Condition: (r, locale) => ({
		kind: 'Diagnosis',
		title: concept(r.code) ?? 'Health problem',
		date: formatFhirDate(
			str(r.onsetDateTime) ?? str((r.onsetPeriod as Loose)?.start) ?? str(r.recordedDate),
			locale
		),
		fields: pick([
			['Status', concept(r.clinicalStatus)],
			['Confirmed', concept(r.verificationStatus)],
			['Severity', concept(r.severity)],
			['Where', concepts(r.bodySite)],
			['Since', str(r.onsetString)],
			['Ended', formatFhirDate(str(r.abatementDateTime), locale) ?? str(r.abatementString)],
			notes(r)
		]),
		attachments: []
	}),
	AllergyIntolerance: (r, locale) => ({
		kind: r.type === 'intolerance' ? 'Intolerance' : 'Allergy',
		title: concept(r.code) ?? 'Allergy',
		value: r.criticality === 'high' ? 'High risk' : undefined,
		date: formatFhirDate(str(r.recordedDate) ?? str(r.onsetDateTime), locale),
		fields: pick([
			['Type', Array.isArray(r.category) ? (r.category as string[]).join(', ') : undefined],
			[
				'Reactions',
				Array.isArray(r.reaction)
					? (r.reaction as Loose[])
							.map((x) =>
								[concepts(x.manifestation), str(x.severity) && `(${x.severity as string})`]
									.filter(Boolean)
									.join(' ')
							)
							.join('; ') || undefined
					: undefined
			],
			['Status', concept(r.clinicalStatus)],
			['Confirmed', concept(r.verificationStatus)],
			notes(r)
		]),
		attachments: []
	}),
	Immunization: (r, locale) => ({
		kind: 'Vaccination',
		title: concept(r.vaccineCode) ?? 'Vaccine',
		date: formatFhirDate(str(r.occurrenceDateTime), locale) ?? str(r.occurrenceString),
		fields: pick([
			statusField(r),
			['Batch', str(r.lotNumber)],
			['Where on the body', concept(r.site)],
			['Reported by you or another source', r.primarySource === false ? 'yes' : undefined],
			notes(r)
		]),
		attachments: []
	}),
	MedicationRequest: (r, locale) => ({
		kind: 'Prescription',
		title: concept(r.medicationCodeableConcept) ?? refText(r.medicationReference) ?? 'Medication',
		value: Array.isArray(r.dosageInstruction)
			? (r.dosageInstruction as Loose[])
					.map((d) => str(d.text) ?? str(d.patientInstruction))
					.filter(Boolean)
					.join('; ') || undefined
			: undefined,
		date: formatFhirDate(str(r.authoredOn), locale),
		fields: pick([
			['Prescribed by', refText(r.requester)],
			['For', concepts(r.reasonCode)],
			statusField(r),
			notes(r)
		]),
		attachments: []
	}),
	Procedure: (r, locale) => ({
		kind: 'Procedure',
		title: concept(r.code) ?? 'Procedure',
		date: formatFhirDate(str(r.performedDateTime) ?? str((r.performedPeriod as Loose)?.start), locale),
		fields: pick([
			['Result', concept(r.outcome)],
			['Where on the body', concepts(r.bodySite)],
			['Why', concepts(r.reasonCode)],
			statusField(r),
			notes(r)
		]),
		attachments: []
	}),
	DocumentReference: (r, locale) => {
		const title = str(r.description) ?? concept(r.type) ?? 'Document';
		return {
			kind: 'Document',
			title,
			date: formatFhirDate(str(r.date), locale),
			fields: pick([
				['Type', concept(r.type)],
				[
					'Author',
					Array.isArray(r.author)
						? (r.author as Reference[]).map(refText).filter(Boolean).join(', ') || undefined
						: undefined
				],
				statusField(r)
			]),
			attachments: Array.isArray(r.content)
				? (r.content as Loose[]).flatMap((c) => attachment(c.attachment as Attachment, title))
				: []
		};
	},
	DiagnosticReport: (r, locale) => {
		const title = concept(r.code) ?? 'Report';
		return {
			kind: 'Report',
			title,
			value: str(r.conclusion),
			date: formatFhirDate(dateOf(r as unknown as Resource), locale),
			fields: pick([['Findings', concepts(r.conclusionCode)], statusField(r)]),
			attachments: Array.isArray(r.presentedForm)
				? (r.presentedForm as Attachment[]).flatMap((a) => attachment(a, title))
				: []
		};
	},
	Encounter: (r, locale) => ({
		kind: 'Visit',
		title:
			concepts(r.type) ??
			concept(r.serviceType) ??
			topicOf({ resourceType: 'Encounter', class: r.class } as Resource) ??
			'Visit',
		date: formatFhirDate(str((r.period as Loose)?.start), locale),
		fields: pick([
			['Reason', concepts(r.reasonCode)],
			['Until', formatFhirDate(str((r.period as Loose)?.end), locale)],
			[
				'Seen by',
				Array.isArray(r.participant)
					? (r.participant as Loose[])
							.map((p) => refText(p.individual))
							.filter(Boolean)
							.join(', ') || undefined
					: undefined
			],
			statusField(r)
		]),
		attachments: []
	})
};

function pick(fields: [string, string | undefined][]): [string, string][] {
	return fields.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '');
}

/** Elements the generic renderer leaves out: bookkeeping, not content. */
const SKIPPED = new Set([
	'resourceType',
	'id',
	'meta',
	'text',
	'extension',
	'modifierExtension',
	'identifier',
	'contained',
	'implicitRules',
	'language',
	'subject',
	'patient'
]);

/** Any other R4 resource: its coded and simple fields, by element name in words. */
function generic(r: Loose, locale?: string): Omit<RenderedItem, 'resourceType' | 'narrative'> {
	const type = String(r.resourceType);
	const fields: [string, string | undefined][] = [];
	const attachments: RenderedAttachment[] = [];
	for (const [key, value] of Object.entries(r)) {
		if (SKIPPED.has(key) || key.startsWith('_')) continue;
		const label = words(
			key.replace(/(DateTime|Period|String|CodeableConcept|Quantity|Reference|Boolean)$/, '')
		);
		if (typeof value === 'string')
			fields.push([
				label,
				/^\d{4}(-\d{2})?(-\d{2})?(T.*)?$/.test(value) ? formatFhirDate(value, locale) : value
			]);
		else if (typeof value === 'number') fields.push([label, String(value)]);
		else if (typeof value === 'boolean') fields.push([label, value ? 'yes' : 'no']);
		else if (value && typeof value === 'object') {
			const v = value as Loose;
			const list = Array.isArray(value) ? (value as Loose[]) : [v];
			if (list.some((x) => x && typeof x === 'object' && 'contentType' in x)) {
				for (const a of list) attachments.push(...attachment(a as Attachment, words(type)));
				continue;
			}
			const text =
				list
					.map(
						(x) =>
							concept(x) ??
							refText(x) ??
							quantity(x as Quantity) ??
							formatFhirDate(str(x?.start), locale) ??
							str(x?.text)
					)
					.filter(Boolean)
					.join(', ') || undefined;
			fields.push([label, text]);
		}
	}
	return {
		kind: words(type),
		title: topicOf(r as unknown as Resource) ?? words(type),
		date: formatFhirDate(dateOf(r as unknown as Resource), locale),
		fields: pick(fields).slice(0, 12),
		attachments
	};
}

/** Every resource of a record as plain-language items (a visit Bundle: one per entry, in order). */
export function renderRecord(resource: Resource, locale?: string): RenderedItem[] {
	const parts =
		resource.resourceType === 'Bundle'
			? ((resource as Bundle).entry ?? []).flatMap((e) => (e?.resource ? [e.resource] : []))
			: [resource];
	return parts.map((part) => {
		const r = part as unknown as Loose;
		const specific = SPECIFIC[part.resourceType];
		const body = specific ? specific(r, locale) : generic(r, locale);
		const narrative = narrativeText((r.text as Loose | undefined)?.div);
		return { resourceType: part.resourceType, ...body, ...(narrative ? { narrative } : {}) };
	});
}
