import { describe, expect, it } from 'vitest';
import type { Condition } from '@medplum/fhirtypes';
import { FhirError, problemText } from './errors.ts';
import { RECORD_KINDS, recordFromForm } from './form.ts';
import { summarize } from './names.ts';
import type { RecordResource } from './record.ts';
import { validateResource } from './validator.ts';

const PATIENT = 'spp1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';
const NOW = new Date(Date.UTC(2026, 10, 24, 9, 30));

function problemsOf(fn: () => unknown): string[] {
	try {
		fn();
	} catch (error) {
		if (error instanceof FhirError) return error.problems.map(problemText);
		throw error;
	}
	return [];
}

describe('records from the clinic form', () => {
	it('builds an R4-valid resource of each kind from form input', async () => {
		const built: RecordResource[] = [
			recordFromForm(
				'Encounter',
				{ patient: PATIENT, class: 'AMB', type: 'Consultation', reason: 'Fever' },
				NOW
			),
			recordFromForm(
				'Observation',
				{
					patient: PATIENT,
					code: { text: 'Body temperature', system: 'http://loinc.org', code: '8310-5' },
					value: 38.6,
					unit: 'Cel',
					category: 'vital-signs'
				},
				NOW
			),
			recordFromForm('Condition', { patient: PATIENT, code: 'Influenza', note: 'PCR positive' }, NOW),
			recordFromForm(
				'DiagnosticReport',
				{ patient: PATIENT, code: 'Chest X-ray', conclusion: 'No consolidation' },
				NOW
			),
			recordFromForm(
				'MedicationRequest',
				{ patient: PATIENT, medication: 'Oseltamivir 75 mg', dosage: 'twice daily for 5 days' },
				NOW
			)
		];
		expect(built.map((r) => r.resourceType)).toEqual([...RECORD_KINDS]);
		for (const r of built) expect(await validateResource(r)).toEqual([]);
		expect(built[0]).toMatchObject({
			status: 'finished',
			subject: { reference: `Patient/${PATIENT}` },
			period: { start: NOW.toISOString() }
		});
		expect((built[2] as Condition).clinicalStatus?.coding?.[0]?.code).toBe('active');
		expect(
			summarize(recordFromForm('Encounter', { patient: PATIENT, reason: 'Follow-up for cough' }, NOW))
		).toBe('Encounter · Follow-up for cough');
		expect(built.map(summarize)).toEqual([
			'Encounter · Consultation',
			'Observation · Body temperature: 38.6 °C',
			'Condition · Influenza',
			'DiagnosticReport · Chest X-ray',
			'MedicationRequest · Oseltamivir 75 mg'
		]);
	});

	it('names the form field at fault, and the validator catches what the form cannot', async () => {
		expect(problemsOf(() => recordFromForm('Condition', { patient: PATIENT, code: '  ' }, NOW))).toEqual([
			'The Condition of the form: the code is required'
		]);
		expect(
			problemsOf(() =>
				recordFromForm('Observation', { patient: PATIENT, code: 'Weight', date: '24/11/2026' }, NOW)
			)
		).toEqual([
			'The Observation of the form: "24/11/2026" is not a FHIR date (e.g. 2026-11-24 or 2026-11-24T09:30:00Z)'
		]);
		const backwards = recordFromForm(
			'Encounter',
			{ patient: PATIENT, date: '2026-11-24T10:00:00Z', end: '2026-11-24T09:00:00Z' },
			NOW
		);
		const problems = await validateResource(backwards);
		expect(problems.map(problemText)).toEqual([
			expect.stringMatching(
				/^The Encounter "Outpatient visit" of 24 Nov 2026 \(at period\): R4 rule per-1 is not met/
			)
		]);
	});
});
