/**
 * Records a clinician writes in the app's form (Encounter, Observation, Condition, DiagnosticReport,
 * MedicationRequest): built from simple input, with the form's own fields checked here (a required field
 * left empty, a date that is not a FHIR date) so the error names the field; the clinic session then
 * validates the resource in full (validator.ts) before the patient is asked.
 */
import type {
	CodeableConcept,
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
			const numeric = typeof f.value === 'number';
			resource = drop<Observation>({
				resourceType: 'Observation',
				status: f.status ?? 'final',
				category: f.category
					? [{ coding: [{ system: `${THC}/observation-category`, code: f.category }] }]
					: undefined,
				code: concept(f.code, kind, 'code'),
				subject,
				effectiveDateTime: date,
				valueQuantity: numeric
					? drop({ value: f.value as number, unit: f.unit?.trim() || undefined })
					: undefined,
				valueString: typeof f.value === 'string' && f.value.trim() ? f.value.trim() : undefined,
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
