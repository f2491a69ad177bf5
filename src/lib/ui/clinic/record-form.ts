/**
 * The clinic's record form: the fields each kind of FHIR record takes, turned into a validated resource by
 * records/fhir (recordFromForm), and read back from a resource to start a correction from what the record
 * says. Every field the form shows is one the resource keeps, so form → record → form gives the same values.
 * "When" is the time of the reading or visit in the clinician's time zone (a datetime-local input); a
 * correction that leaves it as it was keeps the original's exact FHIR time.
 */
import type { Resource } from '@medplum/fhirtypes';
import { recordFromForm, type RecordKind, type RecordResource } from '../../records/fhir.ts';
import { noteOfNarrative } from '../../records/fhir/form.ts';
import { conceptText } from '../../records/fhir/names.ts';

export { RECORD_KINDS } from '../../records/fhir.ts';

export interface FieldSpec {
	/** Key in the form values. */
	name: string;
	/** The visible label (also the accessible name tests use). */
	label: string;
	required?: boolean;
	/** What to type, shown in the empty field. */
	placeholder?: string;
}

export const RECORD_FORMS: Record<RecordKind, FieldSpec[]> = {
	Encounter: [{ name: 'reason', label: 'Reason', required: true }],
	Observation: [
		{ name: 'code', label: 'Test', required: true, placeholder: 'e.g. Blood pressure, Heart rate' },
		{ name: 'value', label: 'Value', required: true, placeholder: 'e.g. 72, <5 or 120/80' },
		{ name: 'unit', label: 'Unit', placeholder: 'e.g. mmHg, /min, Cel, mg/dL' }
	],
	Condition: [{ name: 'code', label: 'Diagnosis', required: true }],
	DiagnosticReport: [
		{ name: 'code', label: 'Report', required: true },
		{ name: 'conclusion', label: 'Conclusion' }
	],
	MedicationRequest: [
		{ name: 'medication', label: 'Medication', required: true },
		{ name: 'dosage', label: 'Dosage' }
	]
};

/** The "When" label of each kind: what the time is the time of. */
export const WHEN_LABEL: Record<RecordKind, string> = {
	Encounter: 'Visit time',
	Observation: 'Taken at',
	Condition: 'Onset',
	DiagnosticReport: 'Report time',
	MedicationRequest: 'Prescribed at'
};

const pad = (n: number) => String(n).padStart(2, '0');

/** A FHIR date or dateTime as a datetime-local value in this device's time zone ('' when it has none). */
export function localInputOf(fhir: string | undefined): string {
	if (!fhir) return '';
	const dateOnly = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(fhir);
	if (dateOnly) return `${dateOnly[1]}-${dateOnly[2] ?? '01'}-${dateOnly[3] ?? '01'}T00:00`;
	const t = new Date(fhir);
	if (Number.isNaN(t.getTime())) return '';
	return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}:${pad(t.getMinutes())}`;
}

/** The FHIR dateTime of the form's When: the original's exact time when unchanged, else the typed local time. */
function whenOf(values: Record<string, string>): string | undefined {
	const typed = values.when?.trim();
	if (!typed) return undefined;
	if (values.whenExact && localInputOf(values.whenExact) === typed) return values.whenExact;
	const t = new Date(typed);
	// An unreadable time goes on as typed, so recordFromForm names the field in its refusal.
	return Number.isNaN(t.getTime()) ? typed : t.toISOString();
}

/** Builds the resource for `patient` (throws FhirError naming the field when something is wrong). */
export function resourceFromForm(
	kind: RecordKind,
	values: Record<string, string>,
	patient: string,
	now = new Date()
): RecordResource {
	const value = (name: string) => values[name]?.trim() ?? '';
	const common = { patient, date: whenOf(values), note: value('note') || undefined };
	switch (kind) {
		case 'Encounter':
			return recordFromForm('Encounter', { ...common, reason: value('reason') }, now);
		case 'Observation': {
			const raw = value('value');
			const numeric = Number(raw);
			return recordFromForm(
				'Observation',
				{
					...common,
					code: value('code'),
					value: raw !== '' && Number.isFinite(numeric) ? numeric : raw,
					unit: value('unit') || undefined
				},
				now
			);
		}
		case 'Condition':
			return recordFromForm('Condition', { ...common, code: value('code') }, now);
		case 'DiagnosticReport':
			return recordFromForm(
				'DiagnosticReport',
				{ ...common, code: value('code'), conclusion: value('conclusion') || undefined },
				now
			);
		case 'MedicationRequest':
			return recordFromForm(
				'MedicationRequest',
				{ ...common, medication: value('medication'), dosage: value('dosage') || undefined },
				now
			);
	}
}

function notesText(notes: { text?: string }[] | undefined): string | undefined {
	return notes?.map((n) => n.text ?? '').join('\n') || undefined;
}

/** The form values of an existing record, to start a correction from what it says. */
export function formFromResource(resource: Resource): { kind: RecordKind; values: Record<string, string> } {
	const values: Record<string, string | undefined> = {};
	let when: string | undefined;
	switch (resource.resourceType) {
		case 'Encounter':
			values.reason = conceptText(resource.reasonCode?.[0]);
			values.note = noteOfNarrative(resource.text?.div);
			when = resource.period?.start;
			break;
		case 'Observation': {
			values.code = conceptText(resource.code);
			const q = resource.valueQuantity;
			const parts = resource.component?.map((c) => c.valueQuantity);
			if (q?.value !== undefined) {
				values.value = `${q.comparator ?? ''}${q.value}`;
				values.unit = q.unit ?? q.code;
			} else if (parts?.length === 2 && parts.every((p) => p?.value !== undefined)) {
				values.value = `${parts[0]!.value}/${parts[1]!.value}`;
				values.unit = parts[0]!.unit ?? parts[0]!.code;
			} else values.value = resource.valueString;
			values.note = notesText(resource.note);
			when = resource.effectiveDateTime;
			break;
		}
		case 'Condition':
			values.code = conceptText(resource.code);
			values.note = notesText(resource.note);
			when = resource.onsetDateTime;
			break;
		case 'DiagnosticReport':
			values.code = conceptText(resource.code);
			values.conclusion = resource.conclusion;
			values.note = noteOfNarrative(resource.text?.div);
			when = resource.effectiveDateTime;
			break;
		case 'MedicationRequest':
			values.medication = conceptText(resource.medicationCodeableConcept);
			values.dosage = resource.dosageInstruction?.map((d) => d.text ?? '').join('; ');
			values.note = notesText(resource.note);
			when = resource.authoredOn;
			break;
	}
	if (when) {
		values.when = localInputOf(when);
		values.whenExact = when;
	}
	const kept = Object.entries(values).filter((e): e is [string, string] => !!e[1]);
	return { kind: resource.resourceType as RecordKind, values: Object.fromEntries(kept) };
}
