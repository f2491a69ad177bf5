import { describe, expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { visitBundle } from '../../../../tests/fixtures/fhir/visit.ts';
import { formatFhirDate, narrativeText, renderRecord } from './render.ts';
import { planImport } from './visit.ts';

const PATIENT = 'spp1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';

describe('records in plain language', () => {
	it('renders every part of a visit with its own words, values, dates and attachments', async () => {
		const record = (await planImport(JSON.stringify(visitBundle({ pdfBytes: 30_000 })), PATIENT))
			.record as Bundle;
		const items = renderRecord(record, 'en-GB');
		expect(items).toHaveLength(record.entry!.length);
		const find = (title: string) => items.find((i) => i.title === title)!;
		expect(find('Blood pressure')).toMatchObject({
			kind: 'Vital sign',
			value: '142/91 mmHg',
			date: expect.stringContaining('2026'),
			// The pair is the value; its components are not listed again.
			fields: [['Interpretation', 'High']]
		});
		expect(find('High blood pressure')).toMatchObject({ kind: 'Diagnosis', date: 'September 2026' });
		expect(find('Penicillin')).toMatchObject({
			kind: 'Allergy',
			value: 'High risk',
			fields: expect.arrayContaining([['Reactions', 'Skin rash (moderate)']])
		});
		expect(find('Flu vaccine')).toMatchObject({ kind: 'Vaccination', fields: [['Batch', 'FLU-2026-0815']] });
		expect(find('Tdap')).toMatchObject({ date: 'Summer 2019' });
		expect(find('lisinopril 10 MG Oral Tablet')).toMatchObject({
			kind: 'Prescription',
			value: 'One tablet every morning',
			fields: [['Prescribed by', 'Dr Ada Lovelace']]
		});
		expect(find('ECG')).toMatchObject({
			kind: 'Procedure',
			fields: [['Result', 'Sinus rhythm, no signs of ischaemia']]
		});
		expect(find('Check-up')).toMatchObject({
			kind: 'Visit',
			date: expect.stringContaining('1 Oct 2026'),
			fields: expect.arrayContaining([['Until', 'October 2026']])
		});
		const letter = find('Discharge letter');
		expect(letter.kind).toBe('Document');
		expect(letter.attachments).toEqual([
			expect.objectContaining({
				title: 'discharge-letter.pdf',
				contentType: 'application/pdf',
				size: expect.any(Number)
			})
		]);
		expect(Math.abs(letter.attachments[0]!.size! - 30_000)).toBeLessThan(700);
	});

	it('renders any other R4 type from its narrative and coded fields, never as HTML', () => {
		const [item] = renderRecord(
			{
				resourceType: 'FamilyMemberHistory',
				status: 'completed',
				patient: { reference: 'Patient/x' },
				relationship: { coding: [{ code: 'MTH', display: 'mother' }] },
				date: '2026-10-01',
				text: {
					status: 'generated',
					div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Mother: <b>breast cancer</b> at 52 &amp; <script>x</script></p></div>'
				},
				condition: [{ code: { text: 'Breast cancer' } }]
			} as never,
			'en-GB'
		);
		expect(item).toMatchObject({
			kind: 'Family member history',
			title: 'mother',
			date: '1 Oct 2026',
			narrative: 'Mother: breast cancer at 52 & x'
		});
		expect(item!.fields).toEqual(
			expect.arrayContaining([
				['Status', 'completed'],
				['Relationship', 'mother']
			])
		);
		expect(narrativeText('<p>a &lt;b&gt;</p>')).toBe('a <b>');
	});

	it('shows dates at the precision the record gives, in the locale', () => {
		expect(formatFhirDate('2026', 'en-GB')).toBe('2026');
		expect(formatFhirDate('2026-10', 'en-GB')).toBe('October 2026');
		expect(formatFhirDate('2026-10', 'de-DE')).toBe('Oktober 2026');
		expect(formatFhirDate('2026-10-01', 'en-US')).toBe('Oct 1, 2026');
	});
});
