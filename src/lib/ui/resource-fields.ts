/**
 * The fields a clinician or patient reads first in each kind of record, as [label, value] pairs for a
 * definition list. Missing fields are left out; the full resource stays available beside it.
 */
import type { CodeableConcept, Resource } from '@medplum/fhirtypes';

function text(concept: CodeableConcept | undefined): string | undefined {
	return concept?.text ?? concept?.coding?.find((c) => c.display)?.display ?? concept?.coding?.[0]?.code;
}

export function resourceFields(resource: Resource): [string, string][] {
	const fields: [string, string | undefined][] = [];
	switch (resource.resourceType) {
		case 'Encounter':
			fields.push(
				['Visit', text(resource.type?.[0]) ?? resource.class?.code],
				['Reason', text(resource.reasonCode?.[0])],
				['Status', resource.status],
				['Date', resource.period?.start]
			);
			break;
		case 'Observation': {
			const q = resource.valueQuantity;
			fields.push(
				['Test', text(resource.code)],
				['Result', q ? `${q.value ?? ''} ${q.unit ?? ''}`.trim() : (resource.valueString ?? undefined)],
				['Status', resource.status],
				['Date', resource.effectiveDateTime]
			);
			break;
		}
		case 'Condition':
			fields.push(
				['Diagnosis', text(resource.code)],
				['Clinical status', text(resource.clinicalStatus)],
				['Verification', text(resource.verificationStatus)],
				['Recorded', resource.recordedDate]
			);
			break;
		case 'DiagnosticReport':
			fields.push(
				['Report', text(resource.code)],
				['Conclusion', resource.conclusion],
				['Status', resource.status],
				['Date', resource.effectiveDateTime ?? resource.effectivePeriod?.start]
			);
			break;
		case 'MedicationRequest':
			fields.push(
				['Medication', text(resource.medicationCodeableConcept) ?? resource.medicationReference?.display],
				['Dosage', resource.dosageInstruction?.[0]?.text],
				['Status', resource.status],
				['Written', resource.authoredOn]
			);
			break;
		default:
			fields.push(['Kind', resource.resourceType]);
	}
	const notes = 'note' in resource ? (resource.note as { text?: string }[] | undefined) : undefined;
	if (notes?.length) fields.push(['Note', notes.map((n) => n.text).join(' ')]);
	return fields.filter((f): f is [string, string] => f[1] !== undefined && f[1] !== '');
}
