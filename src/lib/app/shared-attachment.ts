/**
 * A clinic a patient shared a record with opens the record's attachments. They stay with the clinic that
 * wrote the record (held-attachments.ts), so the grantee fetches them from that holder itself, with a
 * request signed under the patient's consent (the holder checks it as it would for the record, and logs
 * the release in the patient's access log), and opens them with the record key the share carried
 * (records/share.ts): the same checks, part by part and against the signed record, as on the phone.
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import { createAccessRequest } from '../core/access-request.ts';
import type { PublicKey } from '../core/identity.ts';
import type { Requester } from '../net/protocol.ts';
import { attachmentRefs } from '../records/fhir.ts';
import type { SharedRecord } from '../records/share.ts';
import { fetchAttachment } from './attachment-fetch.ts';
import { AppError, type OnProgress } from './types.ts';

export interface SharedAttachmentOptions {
	net: Requester;
	/** The peer of an institution, or undefined when it cannot be reached. */
	locate(institution: PublicKey): Promise<string | undefined>;
	/** The institution's name, for the sentence when it is unreachable. */
	nameOf(institution: PublicKey): string;
	grantee: { id: PublicKey; secretKey: Bytes };
	/** The records shared with this clinic under consents still in force (Holder.sharedWithUs). */
	shared(): Promise<SharedRecord[]>;
	clock: () => number;
}

/** The attachment `url` of the shared record `recordId` (its transaction id), fetched from its holder. */
export async function openSharedAttachment(
	options: SharedAttachmentOptions,
	recordId: string,
	url: string,
	onProgress?: OnProgress
): Promise<Blob> {
	const refOf = (r: SharedRecord) =>
		r.content && attachmentRefs(JSON.parse(r.content.resource)).find((a) => a.url === url);
	const copies = (await options.shared()).filter((r) => bytesToHex(r.transactionId) === recordId && refOf(r));
	if (copies.length === 0)
		throw new AppError('attachment-missing', 'No record shared with this clinic has this document.');
	// The same record may arrive under several consents: any one that carried the record's key will do.
	const record = copies.find((r) => r.key);
	if (!record?.key)
		throw new AppError(
			'attachment-key',
			'The patient shared this record without the key to its documents: ask the patient to share it again.'
		);
	const ref = refOf(record)!;
	const holder = record.header.holder;
	const peer = await options.locate(holder);
	if (!peer) throw new AppError('holder-offline', `${options.nameOf(holder)} is not reachable right now.`);
	const access = createAccessRequest(
		{
			holder,
			digest: record.key.digest,
			authority: { kind: 'consent', consent: record.consent },
			time: options.clock()
		},
		options.grantee.secretKey,
		options.grantee.id
	);
	return fetchAttachment({
		net: options.net,
		peer,
		request: { access, hash: ref.hash },
		header: record.header,
		recordKey: record.key.recordKey,
		ref,
		onProgress
	});
}
