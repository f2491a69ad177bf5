/**
 * Records a clinician writes in the app's form (Encounter, Observation, Condition, DiagnosticReport,
 * MedicationRequest): built from simple input, with the form's own fields checked here (a required field
 * left empty, a date that is not a FHIR date, a unit without a number) so the error names the field; the
 * clinic session then validates the resource in full (validator.ts) before the patient is asked.
 * Nothing typed is lost: a note goes to `note` where R4 has one and to the narrative where it has not
 * (Encounter, DiagnosticReport); a unit is kept with its UCUM code when one is known; a reading such as
 * "148/95" is a blood-pressure panel (LOINC 85354-9) with its systolic and diastolic components; a vital
 * sign named in words gets its LOINC coding (vocabulary.ts).
 */
import type {
	CodeableConcept,
	Narrative,
	Quantity,
	Condition,
	DiagnosticReport,
	Encounter,
	MedicationRequest,
	Observation,
	Patient,
	Reference
} from '@medplum/fhirtypes';
import { FhirError } from './errors.ts';
import { parseRecord, type RecordResource } from './record.ts';
import {
	BLOOD_PRESSURE,
	DIASTOLIC,
	LOINC,
	SYSTOLIC,
	UCUM,
	ucumOf,
	vitalSignNamed,
	type VitalSign
} from './vocabulary.ts';

export const RECORD_KINDS = [
	'Encounter',
	'Observation',
	'Condition',
	'DiagnosticReport',
	'MedicationRequest'
] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export function isRecordKind(value: unknown): value is RecordKind {
	return typeof value === 'string' && (RECORD_KINDS as readonly string[]).includes(value);
}

export const ENCOUNTER_STATUS = [
	'planned',
	'arrived',
	'triaged',
	'in-progress',
	'onleave',
	'finished',
	'cancelled',
	'entered-in-error',
	'unknown'
] as const;
export const OBSERVATION_STATUS = [
	'registered',
	'preliminary',
	'final',
	'amended',
	'corrected',
	'cancelled',
	'entered-in-error',
	'unknown'
] as const;
export const REPORT_STATUS = [
	'registered',
	'partial',
	'preliminary',
	'final',
	'amended',
	'corrected',
	'appended',
	'cancelled',
	'entered-in-error',
	'unknown'
] as const;
export const MEDICATION_STATUS = [
	'active',
	'on-hold',
	'cancelled',
	'completed',
	'entered-in-error',
	'stopped',
	'draft',
	'unknown'
] as const;
export const MEDICATION_INTENT = [
	'proposal',
	'plan',
	'order',
	'original-order',
	'reflex-order',
	'filler-order',
	'instance-order',
	'option'
] as const;
export const CONDITION_CLINICAL = [
	'active',
	'recurrence',
	'relapse',
	'inactive',
	'remission',
	'resolved'
] as const;
export const CONDITION_VERIFICATION = [
	'unconfirmed',
	'provisional',
	'differential',
	'confirmed',
	'refuted',
	'entered-in-error'
] as const;

/** FHIR R4 dateTime (a year, a month, a day, or a time with its zone). */
const DATE_TIME =
	/^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/;

/** A coded value from a form: free text, optionally with a code from a code system. */
export type CodeInput = string | { text: string; system?: string; code?: string };

interface CommonForm {
	/** Patient address (spp1…), becomes subject = Patient/<address>. */
	patient: string;
	/** When: FHIR date or dateTime; defaults to now. */
	date?: string;
	note?: string;
}

export interface FormFields {
	Encounter: CommonForm & {
		status?: (typeof ENCOUNTER_STATUS)[number];
		/** v3 ActCode: AMB ambulatory, EMER emergency, IMP inpatient, VR virtual, HH home health. */
		class?: 'AMB' | 'EMER' | 'IMP' | 'VR' | 'HH';
		type?: CodeInput;
		reason?: CodeInput;
		end?: string;
	};
	Observation: CommonForm & {
		code: CodeInput;
		status?: (typeof OBSERVATION_STATUS)[number];
		value?: number | string;
		unit?: string;
		category?: 'vital-signs' | 'laboratory' | 'exam' | 'social-history' | 'imaging' | 'survey';
	};
	Condition: CommonForm & {
		code: CodeInput;
		clinicalStatus?: (typeof CONDITION_CLINICAL)[number];
		verificationStatus?: (typeof CONDITION_VERIFICATION)[number];
		severity?: CodeInput;
	};
	DiagnosticReport: CommonForm & {
		code: CodeInput;
		status?: (typeof REPORT_STATUS)[number];
		conclusion?: string;
	};
	MedicationRequest: CommonForm & {
		medication: CodeInput;
		status?: (typeof MEDICATION_STATUS)[number];
		intent?: (typeof MEDICATION_INTENT)[number];
		dosage?: string;
		reason?: CodeInput;
	};
}

function refuse(kind: string, message: string): never {
	throw new FhirError([{ subject: `the ${kind} of the form`, message }]);
}

function concept(input: CodeInput | undefined, kind: string, field: string): CodeableConcept {
	const text = (typeof input === 'string' ? input : (input?.text ?? '')).trim();
	if (!text && !(typeof input === 'object' && input.code?.trim())) refuse(kind, `the ${field} is required`);
	if (typeof input !== 'object' || !input.code) return { text };
	return drop({
		coding: [
			drop({ system: input.system?.trim() || undefined, code: input.code.trim(), display: text || undefined })
		],
		text: text || undefined
	});
}

function drop<T extends object>(o: T): T {
	return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;
}

const THC = 'http://terminology.hl7.org/CodeSystem';

/** The LOINC coding of a vital sign, with the words the clinician typed as its text. */
function vitalConcept(sign: VitalSign, text: string): CodeableConcept {
	return { coding: [{ system: LOINC, code: sign.code, display: sign.display }], text };
}

function escapeXml(text: string): string {
	return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A note where R4 has no `note` element: the narrative, line breaks kept as <br/>. */
function noteNarrative(note: string): Narrative {
	const body = note.split('\n').map(escapeXml).join('<br/>');
	return { status: 'additional', div: `<div xmlns="http://www.w3.org/1999/xhtml">${body}</div>` };
}

/** The note a form wrote to a narrative (noteNarrative), back as typed. */
export function noteOfNarrative(div: string | undefined): string | undefined {
	if (!div) return undefined;
	const text = div
		.replace(/<br\s*\/?>/gi, '\n')
		.replace(/<[^>]*>/g, '')
		.replace(/&lt;/g, '<')
		.replace(/&gt;/g, '>')
		.replace(/&quot;/g, '"')
		.replace(/&amp;/g, '&');
	return text || undefined;
}

const NUMBER = '(\\d+(?:\\.\\d+)?|\\.\\d+)';
const COMPARED = new RegExp(`^(<=|>=|<|>)?\\s*(-?${NUMBER.slice(1, -1)})$`);
const PAIR = new RegExp(`^${NUMBER}\\s*/\\s*${NUMBER}$`);

/** A quantity with its unit as typed and, when known, its UCUM code. */
function quantityOf(value: number, unit: string | undefined, comparator?: Quantity['comparator']): Quantity {
	const code = unit ? ucumOf(unit) : undefined;
	return drop<Quantity>({
		value,
		comparator,
		unit,
		system: code ? UCUM : undefined,
		code
	});
}

type ObservationValue = Pick<Observation, 'valueQuantity' | 'valueString' | 'component'>;

/** The value[x] (or components) of what the clinician typed in Value and Unit; refuses a unit with no number. */
function observationValue(
	kind: string,
	value: number | string | undefined,
	unitInput?: string
): ObservationValue {
	const unit = unitInput?.trim() || undefined;
	if (typeof value === 'number') {
		if (!Number.isFinite(value)) refuse(kind, 'the value must be a number, such as 7.2');
		return { valueQuantity: quantityOf(value, unit) };
	}
	const text = value?.trim() ?? '';
	if (!text) {
		if (unit) refuse(kind, `the unit "${unit}" has no value: type the value, or leave the unit empty`);
		return {};
	}
	const pair = PAIR.exec(text);
	if (pair) {
		const pairUnit = unit ?? 'mmHg';
		return {
			component: [
				{
					code: vitalConcept(SYSTOLIC, SYSTOLIC.display),
					valueQuantity: quantityOf(Number(pair[1]), pairUnit)
				},
				{
					code: vitalConcept(DIASTOLIC, DIASTOLIC.display),
					valueQuantity: quantityOf(Number(pair[2]), pairUnit)
				}
			]
		};
	}
	const compared = COMPARED.exec(text);
	if (compared)
		return {
			valueQuantity: quantityOf(Number(compared[2]), unit, compared[1] as Quantity['comparator'] | undefined)
		};
	if (unit)
		refuse(
			kind,
			`"${text.slice(0, 40)}" is not a number, so the unit "${unit}" cannot go with it: type a number ` +
				'(such as 7.2, <5 or 120/80), or leave the unit empty to keep the value as text'
		);
	return { valueString: text };
}

/** Builds a record resource from a clinic's form and validates it (throws FhirError naming the field). */
export function recordFromForm<K extends RecordKind>(
	kind: K,
	fields: FormFields[K],
	now = new Date()
): RecordResource {
	if (!fields.patient?.trim()) refuse(kind, 'the patient is required');
	const subject: Reference<Patient> = { reference: `Patient/${fields.patient.trim()}` };
	const date = fields.date?.trim() || now.toISOString();
	if (!DATE_TIME.test(date))
		refuse(kind, `"${date.slice(0, 40)}" is not a FHIR date (e.g. 2026-11-24 or 2026-11-24T09:30:00Z)`);
	const note = fields.note?.trim() ? [{ text: fields.note.trim(), time: now.toISOString() }] : undefined;
	let resource: RecordResource;
	switch (kind) {
		case 'Encounter': {
			const f = fields as FormFields['Encounter'];
			resource = drop<Encounter>({
				resourceType: 'Encounter',
				text: fields.note?.trim() ? noteNarrative(fields.note.trim()) : undefined,
				status: f.status ?? 'finished',
				class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: f.class ?? 'AMB' },
				type: f.type ? [concept(f.type, kind, 'visit type')] : undefined,
				subject,
				period: drop({ start: date, end: f.end?.trim() || undefined }),
				reasonCode: f.reason ? [concept(f.reason, kind, 'reason')] : undefined
			});
			break;
		}
		case 'Observation': {
			const f = fields as FormFields['Observation'];
			const value = observationValue(kind, f.value, f.unit);
			const typed = typeof f.code === 'string' ? f.code.trim() : '';
			// A vital sign named in words is coded; a pair of numbers is only ever a blood pressure.
			const sign = typed ? vitalSignNamed(typed) : undefined;
			if (value.component && typeof f.code !== 'object' && sign !== BLOOD_PRESSURE)
				refuse(
					kind,
					`a pair such as ${f.value as string} is a blood pressure: name the test "Blood pressure", ` +
						'or type a single number'
				);
			const category = f.category ?? (sign ? 'vital-signs' : undefined);
			resource = drop<Observation>({
				resourceType: 'Observation',
				status: f.status ?? 'final',
				category: category
					? [{ coding: [{ system: `${THC}/observation-category`, code: category }] }]
					: undefined,
				code:
					sign && typeof f.code !== 'object'
						? vitalConcept(sign, typed || sign.display)
						: concept(f.code, kind, 'test'),
				subject,
				effectiveDateTime: date,
				...value,
				note
			});
			break;
		}
		case 'Condition': {
			const f = fields as FormFields['Condition'];
			const verification = f.verificationStatus ?? 'confirmed';
			resource = drop<Condition>({
				resourceType: 'Condition',
				clinicalStatus:
					verification === 'entered-in-error'
						? undefined
						: { coding: [{ system: `${THC}/condition-clinical`, code: f.clinicalStatus ?? 'active' }] },
				verificationStatus: { coding: [{ system: `${THC}/condition-ver-status`, code: verification }] },
				severity: f.severity ? concept(f.severity, kind, 'severity') : undefined,
				code: concept(f.code, kind, 'code'),
				subject,
				onsetDateTime: date,
				recordedDate: now.toISOString(),
				note
			});
			break;
		}
		case 'DiagnosticReport': {
			const f = fields as FormFields['DiagnosticReport'];
			resource = drop<DiagnosticReport>({
				resourceType: 'DiagnosticReport',
				text: fields.note?.trim() ? noteNarrative(fields.note.trim()) : undefined,
				status: f.status ?? 'final',
				code: concept(f.code, kind, 'code'),
				subject,
				effectiveDateTime: date,
				issued: now.toISOString(),
				conclusion: f.conclusion?.trim() || undefined
			});
			break;
		}
		case 'MedicationRequest': {
			const f = fields as FormFields['MedicationRequest'];
			resource = drop<MedicationRequest>({
				resourceType: 'MedicationRequest',
				status: f.status ?? 'active',
				intent: f.intent ?? 'order',
				medicationCodeableConcept: concept(f.medication, kind, 'medication'),
				subject,
				authoredOn: date,
				reasonCode: f.reason ? [concept(f.reason, kind, 'reason')] : undefined,
				dosageInstruction: f.dosage?.trim() ? [{ text: f.dosage.trim() }] : undefined,
				note
			});
			break;
		}
		default:
			refuse(
				String(kind),
				'the form writes Encounter, Observation, Condition, DiagnosticReport or MedicationRequest'
			);
	}
	return parseRecord(resource, `the ${kind} of the form`);
}
