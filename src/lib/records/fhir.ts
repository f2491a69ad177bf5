/**
 * Records are FHIR R4 resources (types from @medplum/fhirtypes): Encounter, Observation, Condition,
 * DiagnosticReport and MedicationRequest. This file validates them (a form's output, one resource, or a
 * Bundle imported from a file), builds them from simple form input, and exports a patient's history as a
 * `collection` Bundle.
 *
 * This is NOT a full FHIR validator. It checks, with precise rules, the subset SPChain uses (see the
 * RESOURCES table below and docs/privacy.md "Records"): JSON shape, required elements and cardinality, the
 * required code sets (status, intent), primitive formats (dateTime, instant, code, uri, id, decimal),
 * the data types we use (CodeableConcept, Coding, Reference, Quantity, Period, Annotation, Identifier,
 * Narrative, Dosage text) and choice types (value[x], medication[x], effective[x], onset[x]). A few
 * common elements are carried through with only a shape check (meta, extension, …: `CARRIED`); any other
 * element is rejected, naming its path, so nothing we do not understand is silently stored. Terminology
 * bindings (SNOMED, LOINC, RxNorm), invariants beyond the ones listed, profiles and contained resources
 * are not checked.
 *
 * Every problem is reported with its path, e.g. `entry[2].resource.status: required`.
 */
import type {
	Bundle,
	CodeableConcept,
	Condition,
	DiagnosticReport,
	Encounter,
	MedicationRequest,
	Observation,
	Patient,
	Reference,
	Resource
} from '@medplum/fhirtypes';
import { ValidationError } from '../core/errors.ts';

export const RECORD_KINDS = [
	'Encounter',
	'Observation',
	'Condition',
	'DiagnosticReport',
	'MedicationRequest'
] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];
export type RecordResource = Encounter | Observation | Condition | DiagnosticReport | MedicationRequest;

export interface FhirIssue {
	path: string;
	message: string;
}

/** A rejected resource or bundle; `issues` lists every problem found (at most MAX_ISSUES). */
export class FhirError extends ValidationError {
	constructor(readonly issues: FhirIssue[]) {
		super(
			'fhir',
			issues
				.slice(0, 5)
				.map((i) => `${i.path}: ${i.message}`)
				.join('; ') + (issues.length > 5 ? `; and ${issues.length - 5} more` : '')
		);
	}
}

const MAX_ISSUES = 100;
const MAX_STRING = 64 * 1024;
const MAX_ARRAY = 1000;
export const MAX_BUNDLE_JSON = 16 * 1024 * 1024;

// ---------------------------------------------------------------- primitives (FHIR R4 regexes)

const DATE_TIME =
	/^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01])(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?$/;
const INSTANT =
	/^([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$/;
const CODE = /^[^\s]+( [^\s]+)*$/;
const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const URI = /^\S+$/;

type Check = (value: unknown, path: string, issues: FhirIssue[]) => void;

function issue(issues: FhirIssue[], path: string, message: string): void {
	if (issues.length < MAX_ISSUES) issues.push({ path, message });
}

function describe(value: unknown): string {
	if (value === null) return 'null';
	if (Array.isArray(value)) return 'a list';
	return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)?.slice(0, 40)}`;
}

const str: Check = (v, p, is) => {
	if (typeof v !== 'string') return issue(is, p, `expected text, got ${describe(v)}`);
	if (v.trim() === '') issue(is, p, 'must not be empty');
	else if (v.length > MAX_STRING) issue(is, p, `text longer than ${MAX_STRING} characters`);
};
const pattern =
	(re: RegExp, what: string): Check =>
	(v, p, is) => {
		if (typeof v !== 'string') return issue(is, p, `expected ${what}, got ${describe(v)}`);
		if (!re.test(v)) issue(is, p, `"${v.slice(0, 40)}" is not a valid ${what}`);
	};
const dateTime = pattern(DATE_TIME, 'FHIR dateTime (e.g. 2026-11-24 or 2026-11-24T09:30:00Z)');
const instant = pattern(INSTANT, 'FHIR instant (e.g. 2026-11-24T09:30:00Z)');
const uri = pattern(URI, 'URI');
const id = pattern(ID, 'FHIR id (1-64 letters, digits, "-" or ".")');
const code = (values?: readonly string[]): Check =>
	values
		? (v, p, is) => {
				if (typeof v !== 'string' || !values.includes(v))
					issue(is, p, `expected one of ${values.join(', ')}, got ${describe(v)}`);
			}
		: pattern(CODE, 'code');
const bool: Check = (v, p, is) => {
	if (typeof v !== 'boolean') issue(is, p, `expected true or false, got ${describe(v)}`);
};
const decimal: Check = (v, p, is) => {
	if (typeof v !== 'number' || !Number.isFinite(v)) issue(is, p, `expected a number, got ${describe(v)}`);
};
const integer: Check = (v, p, is) => {
	if (typeof v !== 'number' || !Number.isInteger(v) || Math.abs(v) > 2 ** 31)
		issue(is, p, `expected a whole number, got ${describe(v)}`);
};
/** Carried through unchecked beyond being a JSON object (or a list of them for `many`). */
const anyObject: Check = (v, p, is) => {
	if (v === null || typeof v !== 'object' || Array.isArray(v))
		issue(is, p, `expected an object, got ${describe(v)}`);
};

// ---------------------------------------------------------------- complex types

type Cardinality = '1' | '0..1' | '0..*' | '1..*';
type Field = [Check, Cardinality];
type Spec = Record<string, Field>;

/** Elements every resource may carry: shape-checked only (FHIR "may ignore" metadata). */
const CARRIED: Spec = {
	meta: [anyObject, '0..1'],
	implicitRules: [uri, '0..1'],
	language: [code(), '0..1'],
	extension: [anyObject, '0..*']
};

function object(
	spec: Spec,
	extra?: (o: Record<string, unknown>, path: string, issues: FhirIssue[]) => void
): Check {
	return (v, p, is) => {
		if (v === null || typeof v !== 'object' || Array.isArray(v))
			return issue(is, p, `expected an object, got ${describe(v)}`);
		const o = v as Record<string, unknown>;
		for (const key of Object.keys(o)) {
			if (key === 'resourceType') continue;
			if (!(key in spec)) {
				if (key.startsWith('_')) issue(is, join(p, key), 'primitive extensions are not supported by SPChain');
				else issue(is, join(p, key), 'element not supported by SPChain (see docs/privacy.md, Records)');
			}
		}
		for (const [key, [check, card]] of Object.entries(spec)) {
			const value = o[key];
			const path = join(p, key);
			if (value === undefined || value === null) {
				if (value === null) issue(is, path, 'null is not allowed in FHIR JSON; omit the element');
				else if (card === '1' || card === '1..*') issue(is, path, 'required');
				continue;
			}
			if (card === '0..*' || card === '1..*') {
				if (!Array.isArray(value)) {
					issue(is, path, `expected a list, got ${describe(value)}`);
					continue;
				}
				if (value.length === 0)
					issue(is, path, 'an empty list is not allowed in FHIR JSON; omit the element');
				if (value.length > MAX_ARRAY) issue(is, path, `more than ${MAX_ARRAY} items`);
				value.slice(0, MAX_ARRAY).forEach((item, i) => check(item, `${path}[${i}]`, is));
			} else if (Array.isArray(value)) {
				issue(is, path, 'expected a single value, got a list');
			} else {
				check(value, path, is);
			}
		}
		extra?.(o, p, is);
	};
}

function join(path: string, key: string): string {
	return path === '' ? key : `${path}.${key}`;
}

function atLeastOne(keys: string[], what: string) {
	return (o: Record<string, unknown>, p: string, is: FhirIssue[]) => {
		if (!keys.some((k) => o[k] !== undefined))
			issue(is, p || '(resource)', `${what}: needs at least one of ${keys.join(', ')}`);
	};
}

/** A choice element name[x]: at most one (or exactly one when required) of the given variants. */
function choice(name: string, variants: Record<string, Check>, required: boolean) {
	const spec: Spec = Object.fromEntries(
		Object.entries(variants).map(([type, check]) => [`${name}${type}`, [check, '0..1'] as Field])
	);
	const check = (o: Record<string, unknown>, p: string, is: FhirIssue[]) => {
		const present = Object.keys(spec).filter((k) => o[k] !== undefined);
		if (present.length > 1)
			issue(is, join(p, `${name}[x]`), `only one of ${present.join(', ')} may be given`);
		if (required && present.length === 0)
			issue(is, join(p, `${name}[x]`), `required (one of ${Object.keys(spec).join(', ')})`);
	};
	return { spec, check };
}

const coding = object(
	{
		system: [uri, '0..1'],
		version: [str, '0..1'],
		code: [code(), '0..1'],
		display: [str, '0..1'],
		userSelected: [bool, '0..1']
	},
	atLeastOne(['code', 'display'], 'a coding')
);
const codeableConcept = object(
	{ coding: [coding, '0..*'], text: [str, '0..1'] },
	atLeastOne(['coding', 'text'], 'a codeable concept')
);
const identifier = object(
	{
		use: [code(['usual', 'official', 'temp', 'secondary', 'old']), '0..1'],
		system: [uri, '0..1'],
		value: [str, '0..1']
	},
	atLeastOne(['system', 'value'], 'an identifier')
);
const reference = object(
	{ reference: [str, '0..1'], type: [uri, '0..1'], identifier: [identifier, '0..1'], display: [str, '0..1'] },
	atLeastOne(['reference', 'identifier', 'display'], 'a reference')
);
const period = object({ start: [dateTime, '0..1'], end: [dateTime, '0..1'] }, (o, p, is) => {
	if (
		typeof o.start === 'string' &&
		typeof o.end === 'string' &&
		DATE_TIME.test(o.start) &&
		DATE_TIME.test(o.end)
	)
		if (Date.parse(o.end) < Date.parse(o.start)) issue(is, join(p, 'end'), 'ends before it starts');
});
const quantity = object({
	value: [decimal, '0..1'],
	comparator: [code(['<', '<=', '>=', '>']), '0..1'],
	unit: [str, '0..1'],
	system: [uri, '0..1'],
	code: [code(), '0..1']
});
const annotation = object({
	authorString: [str, '0..1'],
	authorReference: [reference, '0..1'],
	time: [dateTime, '0..1'],
	text: [str, '1']
});
const narrative = object({
	status: [code(['generated', 'extensions', 'additional', 'empty']), '1'],
	div: [str, '1']
});
const dosage = object({
	sequence: [integer, '0..1'],
	text: [str, '0..1'],
	patientInstruction: [str, '0..1'],
	timing: [anyObject, '0..1'],
	asNeededBoolean: [bool, '0..1'],
	route: [codeableConcept, '0..1'],
	doseAndRate: [anyObject, '0..*']
});

const DOMAIN: Spec = {
	...CARRIED,
	id: [id, '0..1'],
	text: [narrative, '0..1'],
	identifier: [identifier, '0..*']
};

// ---------------------------------------------------------------- the five resources

export const ENCOUNTER_STATUS = [
	'planned',
	'arrived',
	'triaged',
	'in-progress',
	'onleave',
	'finished',
	'cancelled',
	'entered-in-error',
	'unknown'
] as const;
export const OBSERVATION_STATUS = [
	'registered',
	'preliminary',
	'final',
	'amended',
	'corrected',
	'cancelled',
	'entered-in-error',
	'unknown'
] as const;
export const REPORT_STATUS = [
	'registered',
	'partial',
	'preliminary',
	'final',
	'amended',
	'corrected',
	'appended',
	'cancelled',
	'entered-in-error',
	'unknown'
] as const;
export const MEDICATION_STATUS = [
	'active',
	'on-hold',
	'cancelled',
	'completed',
	'entered-in-error',
	'stopped',
	'draft',
	'unknown'
] as const;
export const MEDICATION_INTENT = [
	'proposal',
	'plan',
	'order',
	'original-order',
	'reflex-order',
	'filler-order',
	'instance-order',
	'option'
] as const;
export const CONDITION_CLINICAL = [
	'active',
	'recurrence',
	'relapse',
	'inactive',
	'remission',
	'resolved'
] as const;
export const CONDITION_VERIFICATION = [
	'unconfirmed',
	'provisional',
	'differential',
	'confirmed',
	'refuted',
	'entered-in-error'
] as const;

const effective = choice('effective', { DateTime: dateTime, Period: period, Instant: instant }, false);
const obsValue = choice(
	'value',
	{
		Quantity: quantity,
		CodeableConcept: codeableConcept,
		String: str,
		Boolean: bool,
		Integer: integer,
		DateTime: dateTime,
		Period: period
	},
	false
);
const onset = choice('onset', { DateTime: dateTime, Period: period, String: str }, false);
const abatement = choice('abatement', { DateTime: dateTime, Period: period, String: str }, false);
const medication = choice('medication', { CodeableConcept: codeableConcept, Reference: reference }, true);
const reportEffective = choice('effective', { DateTime: dateTime, Period: period }, false);

/** The elements Observation and DiagnosticReport share (both are FHIR "event" resources about a code). */
function eventSpec(statuses: readonly string[], when: { spec: Spec }): Spec {
	return {
		...DOMAIN,
		status: [code(statuses), '1'],
		category: [codeableConcept, '0..*'],
		code: [codeableConcept, '1'],
		subject: [reference, '0..1'],
		encounter: [reference, '0..1'],
		...when.spec,
		issued: [instant, '0..1'],
		performer: [reference, '0..*']
	};
}

const RESOURCES: Record<RecordKind, Check> = {
	Encounter: object({
		...DOMAIN,
		status: [code(ENCOUNTER_STATUS), '1'],
		class: [coding, '1'],
		type: [codeableConcept, '0..*'],
		serviceType: [codeableConcept, '0..1'],
		priority: [codeableConcept, '0..1'],
		subject: [reference, '0..1'],
		participant: [anyObject, '0..*'],
		period: [period, '0..1'],
		reasonCode: [codeableConcept, '0..*'],
		reasonReference: [reference, '0..*'],
		serviceProvider: [reference, '0..1'],
		location: [anyObject, '0..*']
	}),
	Observation: object(
		{
			...eventSpec(OBSERVATION_STATUS, effective),
			...obsValue.spec,
			dataAbsentReason: [codeableConcept, '0..1'],
			interpretation: [codeableConcept, '0..*'],
			note: [annotation, '0..*'],
			bodySite: [codeableConcept, '0..1'],
			method: [codeableConcept, '0..1'],
			referenceRange: [anyObject, '0..*']
		},
		(o, p, is) => {
			effective.check(o, p, is);
			obsValue.check(o, p, is);
			// obs-6: dataAbsentReason only when there is no value.
			if (o.dataAbsentReason !== undefined && Object.keys(obsValue.spec).some((k) => o[k] !== undefined))
				issue(is, join(p, 'dataAbsentReason'), 'only allowed when there is no value[x] (obs-6)');
		}
	),
	Condition: object(
		{
			...DOMAIN,
			clinicalStatus: [codeableConcept, '0..1'],
			verificationStatus: [codeableConcept, '0..1'],
			category: [codeableConcept, '0..*'],
			severity: [codeableConcept, '0..1'],
			code: [codeableConcept, '0..1'],
			bodySite: [codeableConcept, '0..*'],
			subject: [reference, '1'],
			encounter: [reference, '0..1'],
			...onset.spec,
			...abatement.spec,
			recordedDate: [dateTime, '0..1'],
			recorder: [reference, '0..1'],
			asserter: [reference, '0..1'],
			note: [annotation, '0..*']
		},
		(o, p, is) => {
			onset.check(o, p, is);
			abatement.check(o, p, is);
			const verification = statusCode(o.verificationStatus);
			// con-5 / con-4 (R4): no clinical status when entered in error; otherwise one is expected.
			if (verification === 'entered-in-error' && o.clinicalStatus !== undefined)
				issue(
					is,
					join(p, 'clinicalStatus'),
					'must be absent when verificationStatus is entered-in-error (con-5)'
				);
			if (
				verification !== 'entered-in-error' &&
				o.clinicalStatus === undefined &&
				o.verificationStatus !== undefined
			)
				issue(
					is,
					join(p, 'clinicalStatus'),
					'required unless verificationStatus is entered-in-error (con-5)'
				);
			checkStatusConcept(o.clinicalStatus, CONDITION_CLINICAL, join(p, 'clinicalStatus'), is);
			checkStatusConcept(o.verificationStatus, CONDITION_VERIFICATION, join(p, 'verificationStatus'), is);
		}
	),
	DiagnosticReport: object(
		{
			...eventSpec(REPORT_STATUS, reportEffective),
			result: [reference, '0..*'],
			conclusion: [str, '0..1'],
			conclusionCode: [codeableConcept, '0..*']
		},
		(o, p, is) => reportEffective.check(o, p, is)
	),
	MedicationRequest: object(
		{
			...DOMAIN,
			status: [code(MEDICATION_STATUS), '1'],
			intent: [code(MEDICATION_INTENT), '1'],
			category: [codeableConcept, '0..*'],
			priority: [code(['routine', 'urgent', 'asap', 'stat']), '0..1'],
			...medication.spec,
			subject: [reference, '1'],
			encounter: [reference, '0..1'],
			authoredOn: [dateTime, '0..1'],
			requester: [reference, '0..1'],
			reasonCode: [codeableConcept, '0..*'],
			reasonReference: [reference, '0..*'],
			note: [annotation, '0..*'],
			dosageInstruction: [dosage, '0..*']
		},
		(o, p, is) => medication.check(o, p, is)
	)
};

/** The code of a status CodeableConcept's first coding, if any (Condition's statuses). */
function statusCode(value: unknown): string | undefined {
	const c = (value as CodeableConcept | undefined)?.coding?.[0]?.code;
	return typeof c === 'string' ? c : undefined;
}

function checkStatusConcept(value: unknown, allowed: readonly string[], path: string, is: FhirIssue[]): void {
	if (value === undefined) return;
	const c = statusCode(value);
	if (c === undefined) issue(is, join(path, 'coding[0].code'), `required (one of ${allowed.join(', ')})`);
	else if (!allowed.includes(c))
		issue(is, join(path, 'coding[0].code'), `expected one of ${allowed.join(', ')}, got "${c}"`);
}

// ---------------------------------------------------------------- public API

export function isRecordKind(value: unknown): value is RecordKind {
	return typeof value === 'string' && (RECORD_KINDS as readonly string[]).includes(value);
}

/** Every problem with `value` as one of the five record resources; [] when it is valid. */
export function checkResource(value: unknown, path = ''): FhirIssue[] {
	const issues: FhirIssue[] = [];
	const kind = (value as { resourceType?: unknown } | null)?.resourceType;
	if (value === null || typeof value !== 'object' || Array.isArray(value)) {
		issue(issues, path || '(resource)', `expected a FHIR resource object, got ${describe(value)}`);
	} else if (kind === undefined) {
		issue(issues, join(path, 'resourceType'), 'required');
	} else if (!isRecordKind(kind)) {
		issue(
			issues,
			join(path, 'resourceType'),
			`expected one of ${RECORD_KINDS.join(', ')}, got ${describe(kind)}`
		);
	} else {
		RESOURCES[kind](value, path, issues);
	}
	return issues;
}

function parseJson(json: string | unknown): unknown {
	if (typeof json !== 'string') return json;
	if (json.length > MAX_BUNDLE_JSON)
		throw new FhirError([{ path: '(file)', message: 'the file is too large' }]);
	try {
		return JSON.parse(json);
	} catch (error) {
		throw new FhirError([{ path: '(file)', message: `not valid JSON: ${(error as Error).message}` }]);
	}
}

/** Parses and validates one record resource (JSON text or a parsed value); throws FhirError. */
export function parseResource(json: string | unknown): RecordResource {
	const value = parseJson(json);
	const issues = checkResource(value);
	if (issues.length > 0) throw new FhirError(issues);
	return value as RecordResource;
}

export interface ImportResult {
	records: RecordResource[];
	/** Entries of other resource types (Patient, Practitioner, Claim, …), left out of the import. */
	skipped: { path: string; resourceType: string }[];
}

const BUNDLE_TYPES = [
	'document',
	'message',
	'transaction',
	'transaction-response',
	'batch',
	'batch-response',
	'history',
	'searchset',
	'collection'
];

/**
 * Imports a FHIR Bundle (JSON text): every entry of the five record types must be valid, and all their
 * problems are reported together (`entry[2].resource.status: required`); entries of other types are
 * skipped and listed. A single record resource (not a Bundle) is accepted too. Throws FhirError.
 */
export function parseBundle(json: string | unknown): ImportResult {
	const value = parseJson(json);
	if ((value as { resourceType?: unknown } | null)?.resourceType !== 'Bundle')
		return { records: [parseResource(value)], skipped: [] };
	const issues: FhirIssue[] = [];
	const records: RecordResource[] = [];
	const skipped: ImportResult['skipped'] = [];
	const bundle = value as Record<string, unknown>;
	if (!BUNDLE_TYPES.includes(bundle.type as string))
		issue(
			issues,
			'type',
			`expected a Bundle type (${BUNDLE_TYPES.join(', ')}), got ${describe(bundle.type)}`
		);
	const entries = bundle.entry;
	if (!Array.isArray(entries)) {
		issue(
			issues,
			'entry',
			entries === undefined ? 'the Bundle has no entries' : `expected a list, got ${describe(entries)}`
		);
		throw new FhirError(issues);
	}
	entries.forEach((entry, i) => {
		const path = `entry[${i}]`;
		const resource = (entry as { resource?: unknown } | null)?.resource;
		if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
			return issue(issues, path, `expected an object, got ${describe(entry)}`);
		if (resource === undefined) return issue(issues, `${path}.resource`, 'required');
		const kind = (resource as { resourceType?: unknown } | null)?.resourceType;
		if (typeof kind === 'string' && !isRecordKind(kind))
			return skipped.push({ path: `${path}.resource`, resourceType: kind });
		const found = checkResource(resource, `${path}.resource`);
		for (const f of found) issue(issues, f.path, f.message);
		if (found.length === 0) records.push(resource as RecordResource);
	});
	if (issues.length > 0) throw new FhirError(issues);
	if (records.length === 0)
		throw new FhirError([{ path: 'entry', message: `no ${RECORD_KINDS.join(', ')} entries to import` }]);
	return { records, skipped };
}

// ---------------------------------------------------------------- form input

/** A coded value from a form: free text, optionally with a code from a code system. */
export type CodeInput = string | { text: string; system?: string; code?: string };

interface CommonForm {
	/** Patient address (spp1…), becomes subject = Patient/<address>. */
	patient: string;
	/** When: FHIR date or dateTime; defaults to now. */
	date?: string;
	note?: string;
}

export interface FormFields {
	Encounter: CommonForm & {
		status?: (typeof ENCOUNTER_STATUS)[number];
		/** v3 ActCode: AMB ambulatory, EMER emergency, IMP inpatient, VR virtual, HH home health. */
		class?: 'AMB' | 'EMER' | 'IMP' | 'VR' | 'HH';
		type?: CodeInput;
		reason?: CodeInput;
		end?: string;
	};
	Observation: CommonForm & {
		code: CodeInput;
		status?: (typeof OBSERVATION_STATUS)[number];
		value?: number | string;
		unit?: string;
		category?: 'vital-signs' | 'laboratory' | 'exam' | 'social-history' | 'imaging' | 'survey';
	};
	Condition: CommonForm & {
		code: CodeInput;
		clinicalStatus?: (typeof CONDITION_CLINICAL)[number];
		verificationStatus?: (typeof CONDITION_VERIFICATION)[number];
		severity?: CodeInput;
	};
	DiagnosticReport: CommonForm & {
		code: CodeInput;
		status?: (typeof REPORT_STATUS)[number];
		conclusion?: string;
	};
	MedicationRequest: CommonForm & {
		medication: CodeInput;
		status?: (typeof MEDICATION_STATUS)[number];
		intent?: (typeof MEDICATION_INTENT)[number];
		dosage?: string;
		reason?: CodeInput;
	};
}

function concept(input: CodeInput): CodeableConcept {
	if (typeof input === 'string') return { text: input.trim() };
	const text = input.text.trim();
	if (!input.code) return { text };
	return drop({
		coding: [
			drop({ system: input.system?.trim() || undefined, code: input.code.trim(), display: text || undefined })
		],
		text: text || undefined
	});
}

function drop<T extends object>(o: T): T {
	return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as T;
}

const THC = 'http://terminology.hl7.org/CodeSystem';

/** Builds a record resource from a clinic's form and validates it (throws FhirError naming the field). */
export function recordFromForm<K extends RecordKind>(
	kind: K,
	fields: FormFields[K],
	now = new Date()
): RecordResource {
	const subject: Reference<Patient> = { reference: `Patient/${fields.patient.trim()}` };
	const date = fields.date?.trim() || now.toISOString();
	const note = fields.note?.trim() ? [{ text: fields.note.trim(), time: now.toISOString() }] : undefined;
	let resource: RecordResource;
	switch (kind) {
		case 'Encounter': {
			const f = fields as FormFields['Encounter'];
			resource = drop<Encounter>({
				resourceType: 'Encounter',
				status: f.status ?? 'finished',
				class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: f.class ?? 'AMB' },
				type: f.type ? [concept(f.type)] : undefined,
				subject,
				period: drop({ start: date, end: f.end?.trim() || undefined }),
				reasonCode: f.reason ? [concept(f.reason)] : undefined
			});
			break;
		}
		case 'Observation': {
			const f = fields as FormFields['Observation'];
			const numeric = typeof f.value === 'number';
			resource = drop<Observation>({
				resourceType: 'Observation',
				status: f.status ?? 'final',
				category: f.category
					? [{ coding: [{ system: `${THC}/observation-category`, code: f.category }] }]
					: undefined,
				code: concept(f.code),
				subject,
				effectiveDateTime: date,
				valueQuantity: numeric
					? drop({ value: f.value as number, unit: f.unit?.trim() || undefined })
					: undefined,
				valueString: typeof f.value === 'string' && f.value.trim() ? f.value.trim() : undefined,
				note
			});
			break;
		}
		case 'Condition': {
			const f = fields as FormFields['Condition'];
			const verification = f.verificationStatus ?? 'confirmed';
			resource = drop<Condition>({
				resourceType: 'Condition',
				clinicalStatus:
					verification === 'entered-in-error'
						? undefined
						: { coding: [{ system: `${THC}/condition-clinical`, code: f.clinicalStatus ?? 'active' }] },
				verificationStatus: { coding: [{ system: `${THC}/condition-ver-status`, code: verification }] },
				severity: f.severity ? concept(f.severity) : undefined,
				code: concept(f.code),
				subject,
				onsetDateTime: date,
				recordedDate: now.toISOString(),
				note
			});
			break;
		}
		case 'DiagnosticReport': {
			const f = fields as FormFields['DiagnosticReport'];
			resource = drop<DiagnosticReport>({
				resourceType: 'DiagnosticReport',
				status: f.status ?? 'final',
				code: concept(f.code),
				subject,
				effectiveDateTime: date,
				issued: now.toISOString(),
				conclusion: f.conclusion?.trim() || undefined
			});
			break;
		}
		case 'MedicationRequest': {
			const f = fields as FormFields['MedicationRequest'];
			resource = drop<MedicationRequest>({
				resourceType: 'MedicationRequest',
				status: f.status ?? 'active',
				intent: f.intent ?? 'order',
				medicationCodeableConcept: concept(f.medication),
				subject,
				authoredOn: date,
				reasonCode: f.reason ? [concept(f.reason)] : undefined,
				dosageInstruction: f.dosage?.trim() ? [{ text: f.dosage.trim() }] : undefined,
				note
			});
			break;
		}
		default:
			throw new FhirError([{ path: 'resourceType', message: `unknown record kind ${String(kind)}` }]);
	}
	return parseResource(resource);
}

// ---------------------------------------------------------------- export and display

/** The patient's whole history as a FHIR `collection` Bundle (each record validated on the way out). */
export function exportBundle(records: readonly Resource[], now = new Date()): Bundle<RecordResource> {
	return {
		resourceType: 'Bundle',
		type: 'collection',
		timestamp: now.toISOString(),
		entry: records.map((r) => ({ fullUrl: `urn:uuid:${crypto.randomUUID()}`, resource: parseResource(r) }))
	};
}

function conceptText(c: CodeableConcept | undefined): string | undefined {
	return c?.text ?? c?.coding?.find((x) => x.display)?.display ?? c?.coding?.[0]?.code;
}

/** One line for lists and signing requests, e.g. "Condition · Influenza". */
export function summarize(resource: RecordResource): string {
	const what = (() => {
		switch (resource.resourceType) {
			case 'Encounter':
				return (
					conceptText(resource.type?.[0]) ?? conceptText(resource.reasonCode?.[0]) ?? resource.class.code
				);
			case 'Observation': {
				const q = resource.valueQuantity;
				const value = q
					? `${q.value ?? ''} ${q.unit ?? ''}`.trim()
					: (resource.valueString ?? conceptText(resource.valueCodeableConcept));
				return [conceptText(resource.code), value].filter(Boolean).join(': ');
			}
			case 'MedicationRequest':
				return conceptText(resource.medicationCodeableConcept) ?? resource.medicationReference?.display;
			default:
				return conceptText(resource.code);
		}
	})();
	return what ? `${resource.resourceType} · ${what}` : resource.resourceType;
}
