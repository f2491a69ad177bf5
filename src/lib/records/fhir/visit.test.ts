import { describe, expect, it } from 'vitest';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import { visitBundle } from '../../../../tests/fixtures/fhir/visit.ts';
import { FhirError, problemText } from './errors.ts';
import { MAX_RECORD_BYTES } from './limits.ts';
import { planImport } from './visit.ts';

const PATIENT = 'spp1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';

async function problems(bundle: unknown): Promise<string[]> {
	try {
		await planImport(JSON.stringify(bundle), PATIENT);
	} catch (error) {
		if (error instanceof FhirError) return error.problems.map(problemText);
		throw error;
	}
	return [];
}

describe('a visit is one record', () => {
	it('imports a whole EHR visit (vitals with blood pressure, condition, allergies, immunizations, medications, procedure) as one Bundle', async () => {
		const plan = await planImport(JSON.stringify(visitBundle()), PATIENT);
		const record = plan.record as Bundle;
		expect(record).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
		const types = record.entry!.map((e) => e.resource!.resourceType);
		expect(types).toEqual(plan.stored.map((s) => s.resourceType));
		for (const t of [
			'Encounter',
			'Observation',
			'Condition',
			'AllergyIntolerance',
			'Immunization',
			'MedicationRequest',
			'Procedure'
		])
			expect(types).toContain(t);
		// The blood-pressure panel is kept with its two components.
		const bp = record
			.entry!.map((e) => e.resource as Observation)
			.find((r) => r.code?.coding?.[0]?.code === '85354-9')!;
		expect(bp.component).toHaveLength(2);
		// The Patient is not stored, says so, and references to it point at the SPChain patient.
		expect(plan.notStored).toEqual([
			expect.objectContaining({ name: 'the Patient "Jane Doe"', resourceType: 'Patient' })
		]);
		expect(bp.subject?.reference).toBe(`Patient/${PATIENT}`);
		// References between the visit's parts keep resolving to fullUrls in the record.
		const urls = new Set(record.entry!.map((e) => e.fullUrl));
		expect(urls.has(bp.encounter!.reference!)).toBe(true);
		expect(plan.summary).toMatch(/^Visit of 1 Oct 2026 · 15 items: Encounter, Practitioner, 5 Observation/);
		expect(plan.summary.length).toBeLessThanOrEqual(300);
		expect(plan.bytes).toBeLessThan(MAX_RECORD_BYTES);
	});

	it('500 observations are still one record (one review, one signature, one proof)', async () => {
		const plan = await planImport(JSON.stringify(visitBundle({ observations: 500 })), PATIENT);
		expect((plan.record as Bundle).entry).toHaveLength(515);
		expect(plan.stored).toHaveLength(515);
	});

	it('transaction requests: a DELETE or a GET is not stored, and the clinician is told why', async () => {
		const bundle = visitBundle();
		bundle.entry!.push(
			{ request: { method: 'DELETE', url: 'Observation/old-1' } },
			{ request: { method: 'GET', url: 'Patient?name=doe' } }
		);
		const plan = await planImport(JSON.stringify(bundle), PATIENT);
		expect(plan.notStored.map((n) => n.reason)).toEqual([
			expect.stringContaining('the record belongs to the SPChain patient'),
			'a DELETE of Observation/old-1: SPChain never deletes a record (correct it with a label instead)',
			'a GET of Patient?name=doe: a read, which carries nothing to store'
		]);
	});

	it('accepts partial dates in a Period, refuses a period that really ends before it starts', async () => {
		const ok = visitBundle();
		expect((ok.entry![1]!.resource as { period: unknown }).period).toEqual({
			start: '2026-10-01T09:00:00+02:00',
			end: '2026-10'
		});
		expect(await problems(ok)).toEqual([]);
		const bad = visitBundle();
		(bad.entry![1]!.resource as { period: unknown }).period = { start: '2026-10-15', end: '2026-09' };
		expect(await problems(bad)).toEqual([
			'The Encounter "Check-up" of 15 Oct 2026 (at period): R4 rule per-1 is not met: the period ends before it starts'
		]);
	});

	it('refuses invalid content naming each resource by type and code or date, never a JSON path alone', async () => {
		const bundle = visitBundle();
		const bp = bundle.entry![3]!.resource as Observation & Record<string, unknown>;
		bp.effectiveDateTime = '1 Oct 2026';
		(bundle.entry![4]!.resource as unknown as Record<string, unknown>).modifierExtension = [
			{ valueString: 'no url' }
		];
		(bundle.entry![5]!.resource as unknown as Record<string, unknown>).valu = 3;
		bundle.entry!.push({ resource: { resourceType: 'Observaton' } as never });
		expect(await problems(bundle)).toEqual([
			'Entry 17 of the file: "Observaton" is not an R4 resource type (misspelt?)'
		]);
		bundle.entry!.pop();
		expect(await problems(bundle)).toEqual([
			'The Observation "Blood pressure" of 1 Oct 2026 (at effective[x]): the value is not a FHIR dateTime such as 2026-10-01, 2026-10 or 2026-10-01T09:30:00Z',
			'The Observation "Heart rate" of 1 Oct 2026 (at modifierExtension[0].url): modifierExtension[0].url is required and missing',
			'The Observation "Body temperature" of 1 Oct 2026 (at valu): "valu" is not an element of an R4 Observation here (misspelt, or from another FHIR version?)'
		]);
	});

	it('refuses codes outside the value sets R4 requires (status, gender, category, …)', async () => {
		const bundle = visitBundle();
		(bundle.entry![3]!.resource as Observation).status = 'done' as never;
		(bundle.entry![9]!.resource as unknown as Record<string, unknown>).category = ['medicine'];
		const found = await problems(bundle);
		expect(found).toEqual([
			expect.stringMatching(
				/^The Observation "Blood pressure" of 1 Oct 2026 \(at status\): "done" is not a code R4 allows here \(one of registered, preliminary, final, amended/
			),
			expect.stringMatching(
				/^The AllergyIntolerance "Penicillin" \(at category\[0\]\): "medicine" is not a code R4 allows here \(one of food, medication, environment, biologic\)/
			)
		]);
	});

	it('refuses a visit too large for one record before the patient is asked, stating the limit', async () => {
		const message = await planImport(JSON.stringify(visitBundle({ observations: 1800 })), PATIENT).then(
			() => '',
			(e: Error) => e.message
		);
		expect(message).toMatch(/^The visit: as one record it is 1\.\d MB, and a record holds at most 1\.0 MB/);
	});

	it('refuses history and response Bundles, and empty ones, with the reason', async () => {
		expect(await problems({ resourceType: 'Bundle', type: 'history', entry: [] })).toEqual([
			expect.stringContaining('it is a history Bundle')
		]);
		expect(await problems({ resourceType: 'Bundle', type: 'collection' })).toEqual([
			'The file: the Bundle has no entries: there is nothing to import'
		]);
	});
});
