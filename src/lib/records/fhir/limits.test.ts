import { describe, expect, it } from 'vitest';
import { FhirError } from './errors.ts';
import { MAX_DEPTH, MAX_ENTRIES, MAX_IMPORT_BYTES, parseFhirJson } from './limits.ts';
import { parseRecord } from './record.ts';
import { planImport } from './visit.ts';

const PATIENT = 'spp1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';
const obs = (extra: string) =>
	`{"resourceType":"Observation","status":"final","code":{"text":"Heart rate"}${extra}}`;

/** The message of the FhirError `fn` throws (it must throw one). */
async function refusal(fn: () => unknown): Promise<string> {
	try {
		await fn();
	} catch (error) {
		expect(error).toBeInstanceOf(FhirError);
		return (error as Error).message;
	}
	throw new Error('not refused');
}

describe('hostile inputs are refused up front, each with its reason', () => {
	it('inherited property names and prototype keys', async () => {
		for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
			const text = obs(`,"${name}":{"x":1}`);
			expect(await refusal(() => planImport(text, PATIENT))).toContain(`an element named "${name}"`);
			expect(await refusal(() => parseRecord(text))).toContain('a JavaScript built-in name');
		}
		// Deep inside a Bundle too.
		const nested = `{"resourceType":"Bundle","type":"collection","entry":[{"resource":${obs(',"code":{"coding":[{"toString":"x"}]}')}}]}`;
		expect(await refusal(() => planImport(nested, PATIENT))).toContain(
			'entry[0].resource.code.coding[0].toString'
		);
	});

	it('10,000-deep nesting, without reaching JSON.parse', async () => {
		const deep = `{"resourceType":"Basic","extension":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
		expect(await refusal(() => planImport(deep, PATIENT))).toContain(`nested more than ${MAX_DEPTH} levels`);
		// Brackets inside strings do not count.
		expect(() =>
			parseFhirJson(obs(`,"note":[{"text":"${'['.repeat(500)}"}]`), { what: 'x', maxBytes: 1e6 })
		).not.toThrow();
	});

	it('50,000 entries', async () => {
		const entry = `{"resource":${obs('')}}`;
		const text = `{"resourceType":"Bundle","type":"collection","entry":[${Array(50_000).fill(entry).join(',')}]}`;
		const message = await refusal(() => planImport(text, PATIENT));
		expect(message).toContain('50,000 entries');
		expect(message).toContain(`at most ${MAX_ENTRIES.toLocaleString('en')}`);
	});

	it('a 20 MB string, stating the limits', async () => {
		const text = obs(`,"valueString":"${'a'.repeat(20_000_000)}"`);
		expect(await refusal(() => planImport(text, PATIENT))).toContain(
			'as one record it is 20.0 MB, and a record holds at most 1.0 MB'
		);
		const huge = obs(`,"valueString":"${'a'.repeat(25_000_000)}"`);
		const message = await refusal(() => planImport(huge, PATIENT));
		expect(message).toContain('25.0 MB, more than the 24.0 MB allowed');
		expect(message).toContain('one record, a whole visit included, at most');
		expect(message).toContain('one attachment at most 10.0 MB');
		expect(MAX_IMPORT_BYTES).toBe(24_000_000);
	});

	it('nulls, non-JSON and non-resources', async () => {
		expect(await refusal(() => planImport(obs(',"issued":null'), PATIENT))).toContain('a null at issued');
		expect(await refusal(() => planImport('{"resourceType":', PATIENT))).toContain('not valid JSON');
		expect(await refusal(() => planImport('[1,2]', PATIENT))).toContain('not a FHIR resource');
		expect(await refusal(() => planImport('{"resourceType":"Observaton"}', PATIENT))).toContain(
			'"Observaton" is not an R4 resource type'
		);
	});
});
