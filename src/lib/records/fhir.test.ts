import { describe, expect, it } from 'vitest';
import type { Condition, Observation } from '@medplum/fhirtypes';
import {
	checkResource,
	exportBundle,
	FhirError,
	parseBundle,
	parseResource,
	recordFromForm,
	RECORD_KINDS,
	summarize,
	type RecordResource
} from './fhir.ts';

const PATIENT = 'spp1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';
const NOW = new Date(Date.UTC(2026, 10, 24, 9, 30));

function issuesOf(fn: () => unknown): string[] {
	try {
		fn();
	} catch (error) {
		if (error instanceof FhirError) return error.issues.map((i) => `${i.path}: ${i.message}`);
		throw error;
	}
	return [];
}

const observation: Observation = {
	resourceType: 'Observation',
	status: 'final',
	code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
	subject: { reference: 'Patient/p1' },
	effectiveDateTime: '2026-11-24T09:30:00Z',
	valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' }
};

describe('FHIR subset: forms', () => {
	it('builds a valid resource of each kind from form input', () => {
		const built: RecordResource[] = [
			recordFromForm(
				'Encounter',
				{ patient: PATIENT, class: 'AMB', type: 'Consultation', reason: 'Fever' },
				NOW
			),
			recordFromForm(
				'Observation',
				{
					patient: PATIENT,
					code: { text: 'Body temperature', system: 'http://loinc.org', code: '8310-5' },
					value: 38.6,
					unit: 'Cel',
					category: 'vital-signs'
				},
				NOW
			),
			recordFromForm('Condition', { patient: PATIENT, code: 'Influenza', note: 'PCR positive' }, NOW),
			recordFromForm(
				'DiagnosticReport',
				{ patient: PATIENT, code: 'Chest X-ray', conclusion: 'No consolidation' },
				NOW
			),
			recordFromForm(
				'MedicationRequest',
				{ patient: PATIENT, medication: 'Oseltamivir 75 mg', dosage: 'twice daily for 5 days' },
				NOW
			)
		];
		expect(built.map((r) => r.resourceType)).toEqual([...RECORD_KINDS]);
		for (const r of built) expect(checkResource(JSON.parse(JSON.stringify(r)))).toEqual([]);
		expect(built[0]).toMatchObject({
			status: 'finished',
			subject: { reference: `Patient/${PATIENT}` },
			period: { start: NOW.toISOString() }
		});
		expect(built[1]).toMatchObject({
			valueQuantity: { value: 38.6, unit: 'Cel' },
			code: { coding: [{ system: 'http://loinc.org', code: '8310-5', display: 'Body temperature' }] }
		});
		expect((built[2] as Condition).clinicalStatus?.coding?.[0]?.code).toBe('active');
		expect(built.map(summarize)).toEqual([
			'Encounter · Consultation',
			'Observation · Body temperature: 38.6 Cel',
			'Condition · Influenza',
			'DiagnosticReport · Chest X-ray',
			'MedicationRequest · Oseltamivir 75 mg'
		]);
	});

	it('names the form field at fault', () => {
		expect(issuesOf(() => recordFromForm('Condition', { patient: PATIENT, code: '  ' }, NOW))).toEqual([
			'code.text: must not be empty'
		]);
		expect(
			issuesOf(() =>
				recordFromForm('Observation', { patient: PATIENT, code: 'Weight', date: '24/11/2026' }, NOW)
			)
		).toEqual([
			'effectiveDateTime: "24/11/2026" is not a valid FHIR dateTime (e.g. 2026-11-24 or 2026-11-24T09:30:00Z)'
		]);
		expect(
			issuesOf(() =>
				recordFromForm(
					'Encounter',
					{ patient: PATIENT, date: '2026-11-24T10:00:00Z', end: '2026-11-24T09:00:00Z' },
					NOW
				)
			)
		).toEqual(['period.end: ends before it starts']);
	});
});

describe('FHIR subset: validation', () => {
	it('accepts a typical resource and rejects each kind of mistake with its path', () => {
		expect(checkResource(observation)).toEqual([]);
		const bad = {
			...observation,
			status: 'done',
			code: {},
			valueString: 'also',
			effectiveDateTime: '2026-13-01',
			subject: { reference: 42 },
			colour: 'blue',
			note: []
		};
		expect(checkResource(bad).map((i) => `${i.path}: ${i.message}`)).toEqual([
			'colour: element not supported by SPChain (see docs/privacy.md, Records)',
			expect.stringMatching(/^status: expected one of registered, .*got string "done"$/),
			'code: a codeable concept: needs at least one of coding, text',
			'subject.reference: expected text, got number 42',
			'effectiveDateTime: "2026-13-01" is not a valid FHIR dateTime (e.g. 2026-11-24 or 2026-11-24T09:30:00Z)',
			'note: an empty list is not allowed in FHIR JSON; omit the element',
			'value[x]: only one of valueQuantity, valueString may be given'
		]);
	});

	it('required elements, choice types, invariants', () => {
		expect(checkResource({ resourceType: 'Observation' }).map((i) => i.path)).toEqual(['status', 'code']);
		expect(
			checkResource({
				resourceType: 'MedicationRequest',
				status: 'active',
				intent: 'order',
				subject: { display: 'x' }
			})
		).toEqual([
			{ path: 'medication[x]', message: 'required (one of medicationCodeableConcept, medicationReference)' }
		]);
		expect(checkResource({ resourceType: 'Encounter', status: 'finished' })).toEqual([
			{ path: 'class', message: 'required' }
		]);
		expect(
			checkResource({ ...observation, dataAbsentReason: { text: 'not asked' } }).map((i) => i.path)
		).toEqual(['dataAbsentReason']);
		const condition = {
			resourceType: 'Condition',
			subject: { reference: 'Patient/p' },
			clinicalStatus: { coding: [{ code: 'active' }] },
			verificationStatus: { coding: [{ code: 'entered-in-error' }] }
		};
		expect(checkResource(condition).map((i) => i.message)).toEqual([
			'must be absent when verificationStatus is entered-in-error (con-5)'
		]);
		expect(
			checkResource({
				...condition,
				clinicalStatus: { coding: [{ code: 'cured' }] },
				verificationStatus: { coding: [{ code: 'confirmed' }] }
			}).map((i) => i.path)
		).toEqual(['clinicalStatus.coding[0].code']);
		expect(checkResource({ ...observation, status: null }).map((i) => i.message)).toEqual([
			'null is not allowed in FHIR JSON; omit the element'
		]);
		expect(checkResource({ ...observation, _status: { extension: [] } }).map((i) => i.path)).toEqual([
			'_status'
		]);
		expect(checkResource({ ...observation, id: 'has spaces' }).map((i) => i.path)).toEqual(['id']);
		expect(checkResource({ ...observation, category: { text: 'not a list' } }).map((i) => i.message)).toEqual(
			['expected a list, got an object']
		);
		const report = { resourceType: 'DiagnosticReport', status: 'final', code: { text: 'CBC' } };
		expect(checkResource({ ...report, effectiveDateTime: '2026-11-24' })).toEqual([]);
		expect(checkResource({ ...report, effectiveInstant: '2026-11-24T09:30:00Z' }).map((i) => i.path)).toEqual(
			['effectiveInstant']
		);
		expect(checkResource({ resourceType: 'Patient' }).map((i) => i.path)).toEqual(['resourceType']);
		expect(checkResource([]).map((i) => i.path)).toEqual(['(resource)']);
	});
});

describe('FHIR Bundle import and export', () => {
	it('imports the record entries, skips other resource types, and reports every bad entry by path', () => {
		const bundle = {
			resourceType: 'Bundle',
			type: 'transaction',
			entry: [
				{ fullUrl: 'urn:uuid:1', resource: { resourceType: 'Patient', id: 'p1' } },
				{ resource: observation },
				{ resource: { ...observation, status: undefined } },
				{ resource: { resourceType: 'Condition', code: { text: 'Asthma' } } },
				{ request: { method: 'POST' } }
			]
		};
		expect(issuesOf(() => parseBundle(JSON.stringify(bundle)))).toEqual([
			'entry[2].resource.status: required',
			'entry[3].resource.subject: required',
			'entry[4].resource: required'
		]);
		const good = { ...bundle, entry: bundle.entry.slice(0, 2) };
		const result = parseBundle(JSON.stringify(good));
		expect(result.records).toEqual([observation]);
		expect(result.skipped).toEqual([{ path: 'entry[0].resource', resourceType: 'Patient' }]);
	});

	it('clear errors for a file that is not a Bundle of records', () => {
		expect(issuesOf(() => parseBundle('{"resourceType": "Bundle",'))[0]).toMatch(/^\(file\): not valid JSON/);
		expect(issuesOf(() => parseBundle('{"resourceType":"Bundle","type":"collection"}'))).toEqual([
			'entry: the Bundle has no entries'
		]);
		expect(issuesOf(() => parseBundle('{"resourceType":"Bundle","type":"pile","entry":[]}'))).toEqual([
			expect.stringMatching(/^type: expected a Bundle type/)
		]);
		expect(
			issuesOf(() =>
				parseBundle(
					JSON.stringify({
						resourceType: 'Bundle',
						type: 'collection',
						entry: [{ resource: { resourceType: 'Patient' } }]
					})
				)
			)
		).toEqual([
			'entry: no Encounter, Observation, Condition, DiagnosticReport, MedicationRequest entries to import'
		]);
		// A bare resource is accepted as a one-record import.
		expect(parseBundle(JSON.stringify(observation)).records).toHaveLength(1);
		expect(() => parseResource('{"resourceType":"Observation"}')).toThrow(
			expect.objectContaining({ code: 'fhir' })
		);
	});

	it('exports a collection Bundle that imports back to the same records', () => {
		const records = [
			observation,
			recordFromForm('Condition', { patient: PATIENT, code: 'Influenza' }, NOW),
			recordFromForm('MedicationRequest', { patient: PATIENT, medication: 'Oseltamivir' }, NOW)
		];
		const bundle = exportBundle(records, NOW);
		expect(bundle).toMatchObject({
			resourceType: 'Bundle',
			type: 'collection',
			timestamp: NOW.toISOString()
		});
		expect(new Set(bundle.entry!.map((e) => e.fullUrl)).size).toBe(3);
		expect(bundle.entry![0]!.fullUrl).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
		const back = parseBundle(JSON.stringify(bundle));
		expect(back.records).toEqual(JSON.parse(JSON.stringify(records)));
		expect(() => exportBundle([{ resourceType: 'Observation' } as Observation])).toThrow(FhirError);
	});
});
