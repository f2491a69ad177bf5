/**
 * The patient's history as one FHIR R4 `collection` Bundle that other tools accept (it validates with
 * zero errors in validator.ts): the Patient (identified by their SPChain address), every record's
 * resources (a visit's parts one by one) and every correction, with a Provenance saying who corrected
 * what, when and why (its `entity` is the original, role `revision`). Full URLs are `urn:uuid:`s derived
 * from the record's transaction id and the part's own URL, so the same history exports to the same URLs
 * every time, and references between a record's parts are rewritten to them (references to the patient
 * point at the exported Patient).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Bundle, BundleEntry, Provenance, Reference, Resource } from '@medplum/fhirtypes';
import { eachReference } from './visit.ts';

export interface ExportLabel {
	/** Transaction id (hex) of the label. */
	id: string;
	institution: string;
	/** When the correction was authored (ms). */
	at: number;
	reason: string;
	/** The corrected content, when the device could open it. */
	corrected?: Resource;
}

export interface ExportRecord {
	/** Transaction id (hex) of the medical record. */
	id: string;
	/** Name of the institution that wrote (and holds) it. */
	institution: string;
	resource: Resource;
	label?: ExportLabel;
}

const RECORD_TAG = 'urn:spchain:record';

/** A stable urn:uuid (RFC 9562 version 8, from SHA-256) for `key`. */
export function stableUuid(key: string): string {
	const h = bytesToHex(sha256(new TextEncoder().encode(`spchain/fhir-export/${key}`)))
		.slice(0, 32)
		.split('');
	h[12] = '8';
	h[16] = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
	const s = h.join('');
	return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** A record's parts: a visit Bundle's entries, or the one resource. */
function partsOf(resource: Resource): { url?: string; resource: Resource }[] {
	if (resource.resourceType !== 'Bundle') return [{ resource }];
	return (resource.entry ?? []).flatMap((e) =>
		e.resource ? [{ url: e.fullUrl, resource: e.resource }] : []
	);
}

/** The record's parts as export entries, re-identified under `recordId`, references rewritten. */
function exportParts(
	recordId: string,
	resource: Resource,
	patientUrl: string,
	tags: { code: string; display: string }[]
): BundleEntry[] {
	const parts = partsOf(resource).map((part, i) => {
		const uuid = stableUuid(`${recordId}/${part.url ?? i}`);
		return { ...part, uuid, copy: structuredClone(part.resource) };
	});
	const urls = new Map<string, string>();
	for (const p of parts) {
		if (p.url) urls.set(p.url, `urn:uuid:${p.uuid}`);
		if (p.resource.id) urls.set(`${p.resource.resourceType}/${p.resource.id}`, `urn:uuid:${p.uuid}`);
	}
	return parts.map(({ uuid, copy }) => {
		eachReference(copy, (ref: Reference) => {
			const target = urls.get(ref.reference!);
			if (target) ref.reference = target;
			else if (/^Patient\/[^/]+$/.test(ref.reference!)) ref.reference = patientUrl;
		});
		copy.id = uuid;
		copy.meta = {
			...copy.meta,
			tag: [...(copy.meta?.tag ?? []), ...tags.map((t) => ({ system: RECORD_TAG, ...t }))]
		};
		return { fullUrl: `urn:uuid:${uuid}`, resource: copy };
	});
}

/** The whole history of the patient `address` as a FHIR R4 collection Bundle. */
export function exportHistory(address: string, records: readonly ExportRecord[], now = new Date()): Bundle {
	const patientUuid = stableUuid(`patient/${address}`);
	const patientUrl = `urn:uuid:${patientUuid}`;
	const entries: BundleEntry[] = [
		{
			fullUrl: patientUrl,
			resource: {
				resourceType: 'Patient',
				id: patientUuid,
				identifier: [{ system: 'urn:spchain:patient', value: address }]
			}
		}
	];
	for (const record of records) {
		const original = exportParts(record.id, record.resource, patientUrl, [
			{ code: record.id, display: `SPChain record written by ${record.institution}` }
		]);
		entries.push(...original);
		const { label } = record;
		if (!label) continue;
		const corrected = label.corrected
			? exportParts(label.id, label.corrected, patientUrl, [
					{ code: label.id, display: `SPChain correction by ${label.institution} of record ${record.id}` }
				])
			: [];
		entries.push(...corrected);
		const provenance: Provenance = {
			resourceType: 'Provenance',
			id: stableUuid(`provenance/${label.id}`),
			target: (corrected.length > 0 ? corrected : original).map((e) => ({ reference: e.fullUrl })),
			recorded: new Date(label.at > 0 ? label.at : now.getTime()).toISOString(),
			activity: {
				coding: [
					{
						system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation',
						code: 'UPDATE',
						display: 'revise'
					}
				],
				text:
					corrected.length > 0
						? 'Correction (SPChain label)'
						: 'Labelled as wrong (SPChain label; the correction was not available)'
			},
			reason: [{ text: label.reason }],
			agent: [{ who: { display: label.institution } }],
			entity: original.map((e) => ({ role: 'revision' as const, what: { reference: e.fullUrl } }))
		};
		entries.push({ fullUrl: `urn:uuid:${provenance.id}`, resource: provenance });
	}
	return { resourceType: 'Bundle', type: 'collection', timestamp: now.toISOString(), entry: entries };
}

/** Resources alone (no Patient, no Provenance) as a collection Bundle, full URLs from their content. */
export function exportResources(resources: readonly Resource[], now = new Date()): Bundle {
	return {
		resourceType: 'Bundle',
		type: 'collection',
		timestamp: now.toISOString(),
		entry: resources.map((resource, i) => ({
			fullUrl: `urn:uuid:${stableUuid(`resource/${i}/${JSON.stringify(resource)}`)}`,
			resource
		}))
	};
}
