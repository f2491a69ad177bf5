import { describe, expect, it } from 'vitest';
import { FhirError, type RecordKind } from '../../records/fhir.ts';
import { renderRecord } from '../../records/fhir/render.ts';
import { formFromResource, localInputOf, RECORD_FORMS, resourceFromForm } from './record-form.ts';

const patient = 'spp1qexample';
const NOW = new Date(Date.UTC(2026, 10, 24, 9, 30));
const TAKEN = localInputOf('2026-11-20T07:15:00Z');

/** Every field each form shows, filled as a clinician would, with a multi-line note and a time. */
const FILLED: Record<RecordKind, Record<string, string>> = {
	Encounter: { reason: 'Cough for a week', note: 'Seen with mother\nno fever', when: TAKEN },
	Observation: {
		code: 'Blood pressure',
		value: '148/95',
		unit: 'mmHg',
		note: 'Left arm, seated',
		when: TAKEN
	},
	Condition: { code: 'Asthma', note: 'Mild, intermittent', when: TAKEN },
	DiagnosticReport: { code: 'Chest X-ray', conclusion: 'No consolidation', note: 'PA view', when: TAKEN },
	MedicationRequest: {
		medication: 'Salbutamol inhaler',
		dosage: '2 puffs as needed',
		note: 'Spacer',
		when: TAKEN
	}
};

describe('the clinic record form', () => {
	it('gives back every field typed, for every kind: form → FHIR → form', () => {
		for (const kind of Object.keys(RECORD_FORMS) as RecordKind[]) {
			const resource = resourceFromForm(kind, FILLED[kind], patient, NOW);
			expect(resource.resourceType).toBe(kind);
			const back = formFromResource(resource);
			const { whenExact, ...values } = back.values;
			expect(back.kind).toBe(kind);
			expect(values, kind).toEqual(FILLED[kind]);
			// The time of the reading or visit, not of the writing.
			expect(new Date(whenExact!).toISOString(), kind).toBe('2026-11-20T07:15:00.000Z');
			// Every field the form shows has an input there.
			for (const name of Object.keys(FILLED[kind]).filter((n) => n !== 'note' && n !== 'when'))
				expect(
					RECORD_FORMS[kind].map((f) => f.name),
					kind
				).toContain(name);
		}
	});

	it('shows back every field typed, for every kind: form → FHIR → rendered text', () => {
		for (const kind of Object.keys(RECORD_FORMS) as RecordKind[]) {
			const [item] = renderRecord(resourceFromForm(kind, FILLED[kind], patient, NOW), 'en-GB');
			const text = [item!.title, item!.value, item!.date, item!.narrative, ...item!.fields.flat()].join(
				' | '
			);
			for (const [name, typed] of Object.entries(FILLED[kind])) {
				if (name === 'when') expect(text, kind).toContain('20 Nov 2026');
				else if (name === 'unit') expect(text, kind).toContain('148/95 mmHg');
				else expect(text.replace(/\s+/g, ' '), `${kind} ${name}`).toContain(typed.replace(/\s+/g, ' '));
			}
		}
	});

	it('keeps the original time of a corrected reading unless the clinician changes it', () => {
		const original = resourceFromForm('Observation', FILLED.Observation, patient, NOW);
		const start = formFromResource(original);
		const corrected = resourceFromForm(
			'Observation',
			{ ...start.values, value: '138/88' },
			patient,
			new Date(Date.UTC(2026, 11, 1))
		);
		expect(corrected).toMatchObject({ effectiveDateTime: start.values.whenExact });
		expect(formFromResource(corrected).values).toMatchObject({
			value: '138/88',
			unit: 'mmHg',
			note: 'Left arm, seated'
		});
		const moved = resourceFromForm(
			'Observation',
			{ ...start.values, when: localInputOf('2026-11-21T08:00:00Z') },
			patient,
			NOW
		);
		expect(moved).toMatchObject({ effectiveDateTime: '2026-11-21T08:00:00.000Z' });
	});

	it('writes now when no time is given, and keeps a date-only original as it was', () => {
		const now = resourceFromForm('Condition', { code: 'Asthma' }, patient, NOW);
		expect(now).toMatchObject({ onsetDateTime: NOW.toISOString() });
		const dated = { ...now, onsetDateTime: '2019-05' };
		const back = formFromResource(dated);
		expect(resourceFromForm('Condition', back.values, patient, NOW)).toMatchObject({
			onsetDateTime: '2019-05'
		});
	});

	it('refuses a record without its required field, naming it', () => {
		expect(() => resourceFromForm('Condition', { code: '' }, patient)).toThrow(FhirError);
	});
});
