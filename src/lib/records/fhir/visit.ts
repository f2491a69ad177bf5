/**
 * A visit is one record (paper §5.3 Upload): an imported file (a Bundle of any type a clinic's EHR exports,
 * or a single resource) becomes ONE record, so the patient reviews it once, signs once, and the clinic
 * proves and pins it once, however many observations it holds. `planImport` does every check before the
 * patient is asked: the limits (limits.ts), every resource by the R4 validator, the transaction requests,
 * the size of the record the visit makes, and it says, by name, what will be stored and what will not.
 *
 * The visit's content is a `collection` Bundle of the stored resources with their fullUrls (kept, or
 * `urn:uuid:` when the file had none), so references between them keep resolving. A Patient resource in
 * the file is not stored: the record belongs to the SPChain patient, and references to the file's
 * Patient are pointed at `Patient/<their address>`.
 */
import type { Bundle, BundleEntry, Reference, Resource } from '@medplum/fhirtypes';
import { extractAttachments, type PlannedAttachment } from './attachments.ts';
import { FhirError, type FhirProblem } from './errors.ts';
import { formatBytes, MAX_IMPORT_BYTES, MAX_RECORD_BYTES, parseFhirJson, utf8Length } from './limits.ts';
import { nameOf, summarize } from './names.ts';
import { isR4ResourceType } from './record.ts';
import { validateResource } from './validator.ts';

export interface ImportItem {
	/** The resource in words: `the Observation "Heart rate" of 1 Oct 2026`. */
	name: string;
	resourceType: string;
}

export interface ImportPlan {
	/** The record's content: the visit Bundle, or the single resource the file held. */
	record: Resource;
	/** The line the patient's signing request shows. */
	summary: string;
	/** Size of the record's JSON, against MAX_RECORD_BYTES. */
	bytes: number;
	stored: ImportItem[];
	notStored: (ImportItem & { reason: string })[];
	/** Attachments kept beside the record (over INLINE_ATTACHMENT_BYTES), sealed and stored with it. */
	attachments: PlannedAttachment[];
}

/** Bundle types whose entries are content to keep. */
const CONTENT_TYPES = new Set(['collection', 'document', 'transaction', 'batch', 'searchset', 'message']);
const REFUSED_TYPES: Record<string, string> = {
	history:
		'a history Bundle holds old versions and deletions of resources, not a visit: export the current resources instead',
	'transaction-response':
		"it is a server's answer to a transaction, not the clinical content: import the transaction itself",
	'batch-response': "it is a server's answer to a batch, not the clinical content: import the batch itself"
};

/** Why an entry's request means there is nothing to store, or undefined when its resource is content. */
function requestProblem(entry: BundleEntry, bundleType: string): string | undefined {
	const method = entry.request?.method;
	if (bundleType !== 'transaction' && bundleType !== 'batch') return undefined;
	if (!method) return undefined; // the validator reports the missing request (bdl-3)
	switch (method) {
		case 'POST':
		case 'PUT':
			return undefined;
		case 'DELETE':
			return `a DELETE of ${entry.request?.url ?? 'a resource'}: SPChain never deletes a record (correct it with a label instead)`;
		case 'PATCH':
			return `a PATCH of ${entry.request?.url ?? 'a resource'}: a change to a resource held elsewhere, which SPChain cannot apply`;
		default:
			return `a ${method} of ${entry.request?.url ?? 'a resource'}: a read, which carries nothing to store`;
	}
}

/** Refuses a record larger than one record may be, first (before the validator reads it). */
function checkSize(record: Resource, subject: string): void {
	const bytes = utf8Length(JSON.stringify(record));
	if (bytes > MAX_RECORD_BYTES)
		throw new FhirError([
			{
				subject,
				message:
					`as one record it is ${formatBytes(bytes)}, and a record holds at most ${formatBytes(MAX_RECORD_BYTES)} ` +
					'(it travels to the patient in one message; large attachments are kept beside it): split the file by visit'
			}
		]);
}

function newFullUrl(): string {
	return `urn:uuid:${crypto.randomUUID()}`;
}

/** Calls `visit` on every Reference-shaped object in `value` (an object with a string `reference`). */
export function eachReference(value: unknown, visit: (ref: Reference) => void): void {
	if (Array.isArray(value)) for (const item of value) eachReference(item, visit);
	else if (value && typeof value === 'object') {
		const o = value as Record<string, unknown>;
		if (typeof o.reference === 'string') visit(o as Reference);
		for (const child of Object.values(o)) eachReference(child, visit);
	}
}

/**
 * Reads an import file (JSON text) for `patient` (their spp1… address): every check before anything is
 * sent, every problem reported at once. Throws FhirError when anything must be fixed in the file.
 */
export async function planImport(json: string, patient: string): Promise<ImportPlan> {
	const value = parseFhirJson(json, { what: 'the file', maxBytes: MAX_IMPORT_BYTES }) as Record<
		string,
		unknown
	>;
	const problems: FhirProblem[] = [];
	const stored: ImportItem[] = [];
	const notStored: ImportPlan['notStored'] = [];
	const attachments: PlannedAttachment[] = [];
	if (!isR4ResourceType(value.resourceType))
		throw new FhirError([
			{
				subject: 'the file',
				message:
					value.resourceType === undefined
						? 'it has no resourceType: a FHIR Bundle or resource was expected'
						: `"${String(value.resourceType)}" is not an R4 resource type`
			}
		]);
	let record: Resource;
	if (value.resourceType !== 'Bundle') {
		const resource = value as unknown as Resource;
		attachments.push(...extractAttachments(resource, nameOf(resource), problems));
		if (problems.length > 0) throw new FhirError(problems);
		checkSize(resource, nameOf(resource));
		problems.push(...(await validateResource(resource)));
		if (resource.resourceType === 'Patient')
			problems.push({
				subject: nameOf(resource),
				message: 'a Patient alone is no record: SPChain already knows the patient'
			});
		stored.push({ name: nameOf(resource), resourceType: resource.resourceType });
		record = resource;
	} else {
		const bundle = value as unknown as Bundle;
		const type = String(bundle.type);
		if (REFUSED_TYPES[type])
			throw new FhirError([
				{ subject: 'the file', message: `it is a ${type} Bundle: ${REFUSED_TYPES[type]}` }
			]);
		if (!CONTENT_TYPES.has(type))
			throw new FhirError([{ subject: 'the file', message: `"${type}" is not an R4 Bundle type` }]);
		if (!Array.isArray(bundle.entry) || bundle.entry.length === 0)
			throw new FhirError([
				{ subject: 'the file', message: 'the Bundle has no entries: there is nothing to import' }
			]);
		const entries: BundleEntry[] = [];
		const patientUrls = new Set<string>();
		const names: string[] = [];
		for (const [i, entry] of bundle.entry.entries()) {
			const resource = entry?.resource as Resource | undefined;
			const name = resource ? nameOf(resource, `entry ${i + 1}`) : `entry ${i + 1}`;
			const skip = requestProblem(entry, type);
			if (skip) {
				notStored.push({ name, resourceType: resource?.resourceType ?? 'request', reason: skip });
				continue;
			}
			if (!resource || typeof resource !== 'object') {
				problems.push({ subject: `entry ${i + 1} of the file`, message: 'it has no resource' });
				continue;
			}
			if (!isR4ResourceType(resource.resourceType)) {
				problems.push({
					subject: `entry ${i + 1} of the file`,
					message: `"${String(resource.resourceType)}" is not an R4 resource type (misspelt?)`
				});
				continue;
			}
			if (type === 'searchset' && resource.resourceType === 'OperationOutcome') {
				notStored.push({
					name,
					resourceType: 'OperationOutcome',
					reason: "the search server's remarks, not clinical content"
				});
				continue;
			}
			if (resource.resourceType === 'Patient') {
				for (const url of [entry.fullUrl, resource.id && `Patient/${resource.id}`])
					if (url) patientUrls.add(url);
				notStored.push({
					name,
					resourceType: 'Patient',
					reason:
						'the record belongs to the SPChain patient; references to this Patient now point to their address'
				});
				continue;
			}
			attachments.push(...extractAttachments(resource, name, problems));
			stored.push({ name, resourceType: resource.resourceType });
			entries.push({ fullUrl: entry.fullUrl ?? newFullUrl(), resource });
			names.push(name);
		}
		if (problems.length > 0) throw new FhirError(problems);
		if (entries.length === 0)
			throw new FhirError([
				{ subject: 'the file', message: 'no entry holds content to store (see what is not stored)' }
			]);
		for (const entry of entries)
			eachReference(entry.resource, (ref) => {
				if (patientUrls.has(ref.reference!)) ref.reference = `Patient/${patient}`;
			});
		record = { resourceType: 'Bundle', type: 'collection', entry: entries } satisfies Bundle;
		checkSize(record, 'the visit');
		// One validator run over the whole visit (its entries and the Bundle's own rules, such as unique
		// fullUrls); each finding is put back on the entry it concerns, named.
		problems.push(
			...(await validateResource(record, 'the visit', (element) => {
				const at = /^entry\[(\d+)\]\.resource\.?(.*)$/.exec(element);
				const entry = at ? entries[Number(at[1])] : undefined;
				if (!at || !entry?.resource) return undefined;
				const { resourceType } = entry.resource;
				const inner = at[2]!.startsWith(`${resourceType}.`) ? at[2]!.slice(resourceType.length + 1) : at[2]!;
				return { subject: names[Number(at[1])]!, resourceType, element: inner };
			}))
		);
	}
	if (problems.length > 0) throw new FhirError(problems);
	const bytes = utf8Length(JSON.stringify(record));
	return { record, summary: summarize(record), bytes, stored, notStored, attachments };
}
