import { describe, expect, it } from 'vitest';
import type { RecordView } from '../../app/types.ts';
import { shareChoices } from './share-choices.ts';

const NOW = Date.UTC(2026, 11, 6, 21);

function bloodPressure(systolic: number, diastolic: number) {
	return {
		resourceType: 'Observation',
		status: 'final',
		code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }], text: 'Blood pressure' },
		subject: { reference: 'Patient/a' },
		effectiveDateTime: new Date(NOW).toISOString(),
		valueString: `${systolic}/${diastolic} mmHg`
	} as RecordView['resource'];
}

describe("the patient's share picker", () => {
	const base = {
		institution: { id: '00', address: 'spi1', name: 'Dogwood' },
		round: 1,
		at: NOW,
		status: { pinned: true, proofVerified: true, attached: true }
	};
	it('lists records, not versions: a corrected record is one choice covering both versions', () => {
		const records: RecordView[] = [
			{
				...base,
				id: 'aa',
				resource: bloodPressure(148, 95),
				label: {
					id: 'bb',
					institution: base.institution,
					at: NOW,
					reason: 'r',
					corrected: bloodPressure(138, 88)
				}
			},
			{ ...base, id: 'cc', resource: bloodPressure(120, 80) }
		];
		const choices = shareChoices(records);
		expect(choices.map((c) => c.ids)).toEqual([['aa', 'bb'], ['cc']]);
		expect(choices[0]!.title).toContain('(corrected)');
		expect(choices[0]!.title).toContain('138/88');
		expect(choices[0]!.title).not.toContain('148/95');
	});
});
