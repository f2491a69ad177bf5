/**
 * The clinic's record form: the few fields each kind of FHIR record needs, turned into a validated
 * resource by records/fhir.ts (recordFromForm), and read back from a resource to prefill a correction.
 */
import type { Resource } from '@medplum/fhirtypes';
import { RECORD_KINDS, recordFromForm, type RecordKind, type RecordResource } from '../../records/fhir.ts';
import { resourceFields } from '../resource-fields.ts';

export interface FieldSpec {
	/** Key in the form values. */
	name: string;
	/** The visible label (also the accessible name tests use). */
	label: string;
	required?: boolean;
	numeric?: boolean;
	/** Label of the same value in resourceFields(), for prefilling a correction. */
	shownAs?: string;
}

export const RECORD_FORMS: Record<RecordKind, FieldSpec[]> = {
	Encounter: [{ name: 'reason', label: 'Reason', required: true, shownAs: 'Reason' }],
	Observation: [
		{ name: 'code', label: 'Test', required: true, shownAs: 'Test' },
		{ name: 'value', label: 'Value', required: true, numeric: true },
		{ name: 'unit', label: 'Unit' }
	],
	Condition: [{ name: 'code', label: 'Diagnosis', required: true, shownAs: 'Diagnosis' }],
	DiagnosticReport: [
		{ name: 'code', label: 'Report', required: true, shownAs: 'Report' },
		{ name: 'conclusion', label: 'Conclusion', shownAs: 'Conclusion' }
	],
	MedicationRequest: [
		{ name: 'medication', label: 'Medication', required: true, shownAs: 'Medication' },
		{ name: 'dosage', label: 'Dosage', shownAs: 'Dosage' }
	]
};

export { RECORD_KINDS };

/** Builds the resource for `patient` (throws FhirError naming the field when something is wrong). */
export function resourceFromForm(
	kind: RecordKind,
	values: Record<string, string>,
	patient: string
): RecordResource {
	const value = (name: string) => values[name]?.trim() ?? '';
	const note = value('note') || undefined;
	switch (kind) {
		case 'Encounter':
			return recordFromForm('Encounter', { patient, reason: value('reason'), note });
		case 'Observation': {
			const raw = value('value');
			const numeric = Number(raw);
			return recordFromForm('Observation', {
				patient,
				code: value('code'),
				value: raw !== '' && Number.isFinite(numeric) ? numeric : raw,
				unit: value('unit') || undefined,
				note
			});
		}
		case 'Condition':
			return recordFromForm('Condition', { patient, code: value('code'), note });
		case 'DiagnosticReport':
			return recordFromForm('DiagnosticReport', {
				patient,
				code: value('code'),
				conclusion: value('conclusion') || undefined,
				note
			});
		case 'MedicationRequest':
			return recordFromForm('MedicationRequest', {
				patient,
				medication: value('medication'),
				dosage: value('dosage') || undefined,
				note
			});
	}
}

/** The form values of an existing record, to start a correction from what it says. */
export function formFromResource(resource: Resource): { kind: RecordKind; values: Record<string, string> } {
	const kind = resource.resourceType as RecordKind;
	const shown = new Map(resourceFields(resource));
	const values: Record<string, string> = {};
	for (const field of RECORD_FORMS[kind] ?? []) {
		if (field.shownAs && shown.has(field.shownAs)) values[field.name] = shown.get(field.shownAs)!;
	}
	if (kind === 'Observation' && resource.resourceType === 'Observation') {
		if (resource.valueQuantity?.value !== undefined) values.value = String(resource.valueQuantity.value);
		else if (resource.valueString) values.value = resource.valueString;
		if (resource.valueQuantity?.unit) values.unit = resource.valueQuantity.unit;
	}
	return { kind, values };
}
