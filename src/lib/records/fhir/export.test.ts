import { describe, expect, it } from 'vitest';
import type { Bundle, Provenance, Resource } from '@medplum/fhirtypes';
import { visitBundle } from '../../../../tests/fixtures/fhir/visit.ts';
import { exportHistory, type ExportRecord } from './export.ts';
import { recordFromForm } from './form.ts';
import { validateResource } from './validator.ts';
import { eachReference, planImport } from './visit.ts';

const PATIENT = 'spp1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';
const OTHER = 'spp1pppppppppppppppppppppppppppppppppppppppppppppppppppppppp';
const NOW = new Date(Date.UTC(2026, 10, 24, 9, 30));
const id = (n: number) => n.toString(16).padStart(64, '0');

async function history(): Promise<ExportRecord[]> {
	const visit = (await planImport(JSON.stringify(visitBundle({ pdfBytes: 20_000 })), PATIENT)).record;
	const flu = recordFromForm('Condition', { patient: PATIENT, code: 'Influenza', date: '2026-11-20' }, NOW);
	const covid = recordFromForm('Condition', { patient: PATIENT, code: 'COVID-19', date: '2026-11-20' }, NOW);
	return [
		{ id: id(1), institution: 'Aster Clinic', resource: visit },
		{
			id: id(2),
			institution: 'Birch Hospital',
			resource: flu,
			label: {
				id: id(3),
				institution: 'Birch Hospital',
				at: NOW.getTime(),
				reason: 'PCR positive for SARS-CoV-2',
				corrected: covid
			}
		}
	];
}

describe('export as a FHIR R4 Bundle', () => {
	it('validates with zero errors, holds the Patient, every record and every correction with its Provenance', async () => {
		const bundle = exportHistory(PATIENT, await history(), NOW);
		expect(await validateResource(bundle)).toEqual([]);
		const resources = bundle.entry!.map((e) => e.resource!);
		expect(resources[0]).toMatchObject({
			resourceType: 'Patient',
			identifier: [{ system: 'urn:spchain:patient', value: PATIENT }]
		});
		const texts = JSON.stringify(resources);
		for (const what of [
			'85354-9',
			'Penicillin',
			'Flu vaccine',
			'lisinopril',
			'ECG',
			'Discharge letter',
			'Influenza',
			'COVID-19'
		])
			expect(texts).toContain(what);
		const provenance = resources.find((r): r is Provenance => r.resourceType === 'Provenance')!;
		expect(provenance).toMatchObject({
			reason: [{ text: 'PCR positive for SARS-CoV-2' }],
			agent: [{ who: { display: 'Birch Hospital' } }],
			activity: { coding: [{ code: 'UPDATE' }] }
		});
		const byUrl = new Map(bundle.entry!.map((e) => [e.fullUrl, e.resource as Resource]));
		expect(byUrl.get(provenance.target[0]!.reference)).toMatchObject({ code: { text: 'COVID-19' } });
		expect(byUrl.get(provenance.entity![0]!.what.reference)).toMatchObject({ code: { text: 'Influenza' } });
	});

	it('has stable fullUrls and references that resolve inside the Bundle', async () => {
		const records = await history();
		const a = exportHistory(PATIENT, records, NOW);
		const b = exportHistory(PATIENT, records, new Date(NOW.getTime() + 1000));
		expect(b.entry!.map((e) => e.fullUrl)).toEqual(a.entry!.map((e) => e.fullUrl));
		const urls = new Set(a.entry!.map((e) => e.fullUrl));
		expect(urls.size).toBe(a.entry!.length);
		const refs: string[] = [];
		for (const e of a.entry!) eachReference(e.resource, (r) => refs.push(r.reference!));
		const internal = refs.filter((r) => r.startsWith('urn:uuid:'));
		expect(internal.length).toBeGreaterThan(20);
		for (const r of internal) expect(urls.has(r)).toBe(true);
		// The patient's own references point at the exported Patient, and nothing else names Patient/….
		expect(refs.filter((r) => r.startsWith('Patient/'))).toEqual([]);
		// The visit's Encounter is referenced by its observations under its new URL.
		const encounter = a.entry!.find((e) => e.resource!.resourceType === 'Encounter')!;
		expect(refs.filter((r) => r === encounter.fullUrl).length).toBeGreaterThan(3);
	});

	it("imports at another clinic: the patient's export becomes one record there", async () => {
		const exported = exportHistory(PATIENT, await history(), NOW);
		const plan = await planImport(JSON.stringify(exported), OTHER);
		const record = plan.record as Bundle;
		expect(plan.notStored.map((n) => n.resourceType)).toEqual(['Patient']);
		expect(record.entry).toHaveLength(exported.entry!.length - 1);
		expect(record.entry!.map((e) => e.fullUrl)).toEqual(exported.entry!.slice(1).map((e) => e.fullUrl));
		expect(JSON.stringify(record)).toContain(`Patient/${OTHER}`);
	});
});
