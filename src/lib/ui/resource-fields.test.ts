import { describe, expect, it } from 'vitest';
import { recordFromForm } from '../records/fhir.ts';
import { resourceFields } from './resource-fields.ts';

const patient = 'spp1qexample';
const now = new Date('2026-11-24T10:00:00Z');

describe('resourceFields', () => {
	it('shows the diagnosis of a condition and leaves out what is missing', () => {
		const fields = resourceFields(recordFromForm('Condition', { patient, code: 'Influenza A' }, now));
		expect(fields).toContainEqual(['Diagnosis', 'Influenza A']);
		expect(fields.every(([, value]) => value !== '')).toBe(true);
	});

	it('joins an observation value with its unit', () => {
		const fields = resourceFields(
			recordFromForm('Observation', { patient, code: 'Body temperature', value: 38.9, unit: 'Cel' }, now)
		);
		expect(fields).toContainEqual(['Test', 'Body temperature']);
		expect(fields).toContainEqual(['Result', '38.9 Cel']);
	});

	it('names the medication and dosage of a prescription', () => {
		const fields = resourceFields(
			recordFromForm(
				'MedicationRequest',
				{ patient, medication: 'Amoxicillin 500 mg', dosage: '3× daily' },
				now
			)
		);
		expect(fields).toContainEqual(['Medication', 'Amoxicillin 500 mg']);
		expect(fields).toContainEqual(['Dosage', '3× daily']);
	});
});
