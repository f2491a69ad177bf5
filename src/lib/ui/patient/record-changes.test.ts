import { describe, expect, it } from 'vitest';
import { recordFromForm } from '../../records/fhir.ts';
import { recordChanges } from './record-changes.ts';

const patient = 'spp1qexample';
const now = new Date('2026-11-24T10:00:00Z');

describe('recordChanges', () => {
	it('lists the corrected diagnosis with its old and new value, and nothing that stayed', () => {
		const original = recordFromForm('Condition', { patient, code: 'Influenza A', date: '2026-11-20' }, now);
		const corrected = recordFromForm(
			'Condition',
			{ patient, code: 'Bacterial pneumonia', date: '2026-11-20' },
			now
		);
		const changes = recordChanges(original, corrected);
		expect(changes.length).toBeGreaterThan(0);
		expect(changes.every((c) => c.before !== c.after)).toBe(true);
		expect(changes).toContainEqual(
			expect.objectContaining({ before: 'Influenza A', after: 'Bacterial pneumonia' })
		);
		expect(JSON.stringify(changes)).not.toContain('2026');
	});

	it('is empty for the same record, and shows a value that appears or goes', () => {
		const bp = recordFromForm(
			'Observation',
			{ patient, code: 'Body temperature', value: 38.9, unit: 'Cel' },
			now
		);
		expect(recordChanges(bp, bp)).toEqual([]);
		const fixed = recordFromForm(
			'Observation',
			{ patient, code: 'Body temperature', value: 37.2, unit: 'Cel' },
			now
		);
		const changes = recordChanges(bp, fixed);
		expect(changes.some((c) => c.before?.includes('38.9') && c.after?.includes('37.2'))).toBe(true);
	});
});
