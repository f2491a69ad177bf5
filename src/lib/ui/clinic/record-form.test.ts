import { describe, expect, it } from 'vitest';
import { FhirError } from '../../records/fhir.ts';
import { formFromResource, RECORD_FORMS, resourceFromForm } from './record-form.ts';

const patient = 'spp1qexample';

describe('the clinic record form', () => {
	it('builds a valid resource of every kind from its fields', () => {
		const values: Record<string, string> = {
			reason: 'Cough',
			code: 'Influenza',
			value: '38.5',
			unit: 'Cel',
			conclusion: 'Normal',
			medication: 'Paracetamol',
			dosage: '1 g as needed'
		};
		for (const kind of Object.keys(RECORD_FORMS) as (keyof typeof RECORD_FORMS)[]) {
			const resource = resourceFromForm(kind, values, patient);
			expect(resource.resourceType).toBe(kind);
		}
	});

	it('reads a record back into the same form values (the start of a correction)', () => {
		const observation = resourceFromForm(
			'Observation',
			{ code: 'Heart rate', value: '72', unit: '/min' },
			patient
		);
		expect(formFromResource(observation)).toEqual({
			kind: 'Observation',
			values: { code: 'Heart rate', value: '72', unit: '/min' }
		});
		const condition = resourceFromForm('Condition', { code: 'Asthma' }, patient);
		expect(formFromResource(condition).values).toEqual({ code: 'Asthma' });
	});

	it('refuses a record without its required field, naming it', () => {
		expect(() => resourceFromForm('Condition', { code: '' }, patient)).toThrow(FhirError);
	});
});
