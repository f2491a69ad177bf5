import { describe, expect, it } from 'vitest';
import { renderCorrection } from './correction.ts';
import { recordFromForm } from './form.ts';

const PATIENT = 'spp1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';
const NOW = new Date(Date.UTC(2026, 10, 24, 9, 30));
const bp = (value: string, note?: string) =>
	recordFromForm('Observation', { patient: PATIENT, code: 'Blood pressure', value, unit: 'mmHg', note }, NOW);

describe('a correction in words', () => {
	it('says old → new values and the reason, never a hash', () => {
		const shown = renderCorrection(bp('148/95'), bp('138/88'), 'Re-measured seated', 'en-GB');
		expect(shown.changes).toEqual([
			{ what: 'Blood pressure', before: 'Blood pressure: 148/95 mmHg', after: 'Blood pressure: 138/88 mmHg' }
		]);
		expect(shown.text).toBe('Blood pressure: 148/95 mmHg → 138/88 mmHg. Reason: Re-measured seated');
	});

	it('names a changed field, a changed diagnosis and a removed note', () => {
		expect(renderCorrection(bp('148/95', 'Left arm'), bp('148/95'), 'Wrong patient note').text).toBe(
			'Blood pressure · Note: Left arm → (removed). Reason: Wrong patient note'
		);
		const flu = recordFromForm('Condition', { patient: PATIENT, code: 'Influenza A' }, NOW);
		const pneumonia = recordFromForm('Condition', { patient: PATIENT, code: 'Bacterial pneumonia' }, NOW);
		expect(renderCorrection(flu, pneumonia, 'Culture positive').text).toBe(
			'Influenza A → Bacterial pneumonia. Reason: Culture positive'
		);
		expect(renderCorrection(flu, flu, 'Re-signed').text).toBe('No visible change. Reason: Re-signed');
	});
});
