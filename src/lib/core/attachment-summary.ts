/**
 * What a restart needs of an attachment it verified before, read without decoding it: the patient,
 * the institution, the leaf proof and each entry's kind and fees (for the balances). A walk over the
 * canonical CBOR that builds no object for the 100 transactions an attachment carries; decoding them
 * all (gossip.ts decodeAttachment) was the largest cost of restoring 100,000 records.
 *
 * Only for bytes from the node's own verified journal (runtime/verified-journal.ts): they were decoded
 * in full and checked when the node applied them, and their hash chain says they are unchanged. It
 * still throws a ValidationError on anything it does not expect; the caller then decodes in full.
 */
import type { Bytes } from './bytes.ts';
import { CborWalker, mapKeys, MAJOR_ARRAY, MAJOR_UINT } from './cbor-walk.ts';
import type { Fees, RecordBody } from './transaction.ts';

export interface AttachmentSummary {
	patient: Bytes;
	institution: Bytes;
	leafProof: Bytes;
	entries: { kind: RecordBody['kind']; fees: Fees }[];
}

// Each map's keys, matched as bytes (index order is what the walk below switches on).
const ATTACHMENT = mapKeys('patient', 'institution', 'leafProof', 'entries');
const ENTRY = mapKeys('tx');
const TX = mapKeys('body');
const BODY = mapKeys('kind', 'fees');
const FEES = mapKeys('service', 'transaction');
const KINDS = mapKeys('medical', 'label');
const KIND_NAMES = ['medical', 'label'] as const;

export function readAttachmentSummary(bytes: Bytes): AttachmentSummary {
	const walk = new CborWalker(bytes, 'attachment summary');
	const fail: (message: string) => never = (message) => walk.fail(message);
	let patient: Bytes | undefined;
	let institution: Bytes | undefined;
	let leafProof: Bytes | undefined;
	let entries: AttachmentSummary['entries'] | undefined;
	walk.map(ATTACHMENT, (key) => {
		if (key === 0) patient = walk.bytesItem();
		else if (key === 1) institution = walk.bytesItem();
		else if (key === 2) leafProof = walk.bytesItem();
		else if (key === 3) {
			const count = walk.expect(MAJOR_ARRAY);
			entries = new Array<AttachmentSummary['entries'][number]>(count);
			for (let n = 0; n < count; n++) {
				let entry: AttachmentSummary['entries'][number] | undefined;
				walk.map(ENTRY, (k) => {
					if (k !== 0) return walk.skip();
					walk.map(TX, (t) => {
						if (t !== 0) return walk.skip();
						let kind = -1;
						let fees: Fees | undefined;
						walk.map(BODY, (b) => {
							if (b === 0) kind = walk.key(KINDS);
							else if (b !== 1) walk.skip();
							else {
								let service: number | undefined;
								let transaction: number | undefined;
								walk.map(FEES, (f) => {
									if (f === 0) service = walk.expect(MAJOR_UINT);
									else if (f === 1) transaction = walk.expect(MAJOR_UINT);
									else walk.skip();
								});
								if (service === undefined || transaction === undefined) fail('fees');
								fees = { service, transaction };
							}
						});
						if (kind < 0 || !fees) fail('entry body');
						entry = { kind: KIND_NAMES[kind]!, fees };
					});
				});
				entries[n] = entry ?? fail('entry');
			}
		} else walk.skip();
	});
	if (walk.at !== bytes.length) fail('trailing bytes');
	if (!patient || !institution || !leafProof || !entries) fail('missing field');
	return { patient, institution, leafProof, entries };
}
