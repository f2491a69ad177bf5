import { describe, expect, it } from 'vitest';
import type { Encounter, Observation } from '@medplum/fhirtypes';
import { FhirError, problemText } from './errors.ts';
import { recordFromForm } from './form.ts';
import { summarize } from './names.ts';
import { renderRecord } from './render.ts';
import { validateResource } from './validator.ts';

const PATIENT = 'spp1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';
const NOW = new Date(Date.UTC(2026, 10, 24, 9, 30));

function refusal(fn: () => unknown): string {
	try {
		fn();
	} catch (error) {
		if (error instanceof FhirError) return error.problems.map(problemText).join('; ');
		throw error;
	}
	return 'accepted';
}

describe('the values a clinician types in the form', () => {
	it('makes "148/95 mmHg" a blood-pressure panel with its systolic and diastolic components', async () => {
		const bp = recordFromForm(
			'Observation',
			{ patient: PATIENT, code: 'Blood pressure', value: '148/95', unit: 'mmHg' },
			NOW
		) as Observation;
		expect(bp.code.coding).toEqual([
			{ system: 'http://loinc.org', code: '85354-9', display: 'Blood pressure' }
		]);
		expect(bp.category?.[0]?.coding?.[0]?.code).toBe('vital-signs');
		expect(bp.component?.map((c) => [c.code.coding?.[0]?.code, c.valueQuantity])).toEqual([
			['8480-6', { value: 148, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }],
			['8462-4', { value: 95, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }]
		]);
		expect(bp.valueString).toBeUndefined();
		expect(await validateResource(bp)).toEqual([]);
		expect(renderRecord(bp)[0]).toMatchObject({ title: 'Blood pressure', value: '148/95 mmHg' });
		expect(summarize(bp)).toBe('Observation · Blood pressure: 148/95 mmHg');
	});

	it('keeps a unit with its UCUM code, a comparator, and a vital sign named in words gets its LOINC code', async () => {
		const pulse = recordFromForm(
			'Observation',
			{ patient: PATIENT, code: 'Heart rate', value: 83, unit: 'bpm' },
			NOW
		) as Observation;
		expect(pulse.code.coding?.[0]).toEqual({
			system: 'http://loinc.org',
			code: '8867-4',
			display: 'Heart rate'
		});
		expect(pulse.valueQuantity).toEqual({
			value: 83,
			unit: 'bpm',
			system: 'http://unitsofmeasure.org',
			code: '/min'
		});
		const crp = recordFromForm(
			'Observation',
			{ patient: PATIENT, code: 'C-reactive protein', value: '<5', unit: 'mg/L' },
			NOW
		) as Observation;
		expect(crp.valueQuantity).toMatchObject({ comparator: '<', value: 5, code: 'mg/L' });
		expect(renderRecord(crp)[0]?.value).toBe('<5 mg/L');
		const odd = recordFromForm(
			'Observation',
			{ patient: PATIENT, code: 'Glow', value: 3, unit: 'furlongs' },
			NOW
		) as Observation;
		// No UCUM code is invented for a unit the table does not know; the unit stays as typed.
		expect(odd.valueQuantity).toEqual({ value: 3, unit: 'furlongs' });
		for (const r of [pulse, crp, odd]) expect(await validateResource(r)).toEqual([]);
	});

	it('refuses a unit that cannot go with the value, and a pair that is not a blood pressure', () => {
		expect(
			refusal(() =>
				recordFromForm('Observation', { patient: PATIENT, code: 'Urine', value: 'cloudy', unit: 'mg' }, NOW)
			)
		).toMatch(/"cloudy" is not a number, so the unit "mg" cannot go with it/);
		expect(
			refusal(() =>
				recordFromForm('Observation', { patient: PATIENT, code: 'Heart rate', value: '80/60' }, NOW)
			)
		).toMatch(/is a blood pressure: name the test "Blood pressure"/);
		expect(
			refusal(() => recordFromForm('Observation', { patient: PATIENT, code: 'Urine', value: 'cloudy' }, NOW))
		).toBe('accepted');
	});

	it('keeps the note of a visit and of a report, which R4 gives no note element, in the narrative', async () => {
		const visit = recordFromForm(
			'Encounter',
			{ patient: PATIENT, reason: 'Cough', note: 'Seen with <mother>\nfollow up in 2 weeks & call' },
			NOW
		) as Encounter;
		expect(visit.text?.div).toBe(
			'<div xmlns="http://www.w3.org/1999/xhtml">Seen with &lt;mother&gt;<br/>follow up in 2 weeks &amp; call</div>'
		);
		expect(await validateResource(visit)).toEqual([]);
		expect(renderRecord(visit)[0]?.narrative).toBe('Seen with <mother> follow up in 2 weeks & call');
		const report = recordFromForm(
			'DiagnosticReport',
			{ patient: PATIENT, code: 'Chest X-ray', note: 'Compare with 2025 film' },
			NOW
		);
		expect(await validateResource(report)).toEqual([]);
		expect(renderRecord(report)[0]?.narrative).toBe('Compare with 2025 film');
	});
});
