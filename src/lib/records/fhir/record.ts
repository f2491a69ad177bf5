/**
 * What every holder of a record checks before using its content, cheaply and without the R4 validator
 * (the patient's phone runs this on every record it opens): the limits of limits.ts, and that it is an
 * R4 resource type (for a visit Bundle, every entry's resource too). The clinic validated it in full before
 * the patient was asked (validator.ts); the phone renders any valid element defensively (render.ts).
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { FhirError, type FhirProblem } from './errors.ts';
import { checkFhirValue, MAX_RECORD_BYTES, parseFhirJson, utf8Length, formatBytes } from './limits.ts';
import { R4_RESOURCE_TYPES } from './resource-types.ts';

/** A record's content: any R4 resource; a visit is a `collection` Bundle of its resources. */
export type RecordResource = Resource;

export function isR4ResourceType(value: unknown): value is Resource['resourceType'] {
	return typeof value === 'string' && R4_RESOURCE_TYPES.has(value);
}

/** Problems with the resourceType of `value` (and of its entries when it is a Bundle). */
function typeProblems(value: Record<string, unknown>, what: string): FhirProblem[] {
	const problems: FhirProblem[] = [];
	const kind = value.resourceType;
	if (!isR4ResourceType(kind)) {
		problems.push({
			subject: what,
			message:
				kind === undefined
					? 'it has no resourceType, so it is not a FHIR resource'
					: `"${String(kind)}" is not an R4 resource type`
		});
		return problems;
	}
	if (kind === 'Bundle') {
		const entries = (value as unknown as Bundle).entry ?? [];
		if (!Array.isArray(entries)) problems.push({ subject: what, message: 'its entry is not a list' });
		else
			entries.forEach((entry, i) => {
				const inner = entry?.resource as unknown;
				if (inner === undefined) return;
				if (!inner || typeof inner !== 'object' || Array.isArray(inner))
					problems.push({ subject: `entry ${i + 1} of ${what}`, message: 'its resource is not an object' });
				else problems.push(...typeProblems(inner as Record<string, unknown>, `entry ${i + 1} of ${what}`));
			});
	}
	return problems;
}

/**
 * Parses (JSON text) or checks (a value) one record's content: within the record limit, no hostile
 * element names, an R4 resource type throughout. Throws FhirError.
 */
export function parseRecord(json: string | unknown, what = 'the record'): RecordResource {
	let value: unknown;
	if (typeof json === 'string') value = parseFhirJson(json, { what, maxBytes: MAX_RECORD_BYTES });
	else {
		checkFhirValue(json, what);
		const bytes = utf8Length(JSON.stringify(json));
		if (bytes > MAX_RECORD_BYTES)
			throw new FhirError([
				{
					subject: what,
					message: `it is ${formatBytes(bytes)}; a record holds at most ${formatBytes(MAX_RECORD_BYTES)}`
				}
			]);
		value = json;
	}
	const problems = typeProblems(value as Record<string, unknown>, what);
	if (problems.length > 0) throw new FhirError(problems);
	return value as RecordResource;
}
