/**
 * The attachment protocol (patient or consent holder → holder): a signed AccessRequest for the record
 * the attachment belongs to, plus the attachment's SHA-256; the answer is the attachment's chunks,
 * streamed (net/stream-protocol.ts), with the holder's layer already removed (records/attachment.ts).
 */
import type { Bytes } from '../core/bytes.ts';
import {
	decodeAccessRequest,
	encodeAccessRequest,
	MAX_ACCESS_REQUEST_BYTES,
	type AccessRequest
} from '../core/access-request.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { HASH_LENGTH } from '../core/hash.ts';
import * as read from '../core/schema.ts';
import { ensure } from '../core/errors.ts';
import { defineStreamProtocol } from '../net/stream-protocol.ts';
import { ATTACHMENT_CHUNK_BYTES, SEALED_CHUNK_OVERHEAD } from '../records/attachment.ts';
import { MAX_ATTACHMENT_BYTES } from '../records/fhir/limits.ts';
import { appErrors, codec, INSTITUTION_ANSWER_MS } from './wire.ts';

export interface AttachmentRequest {
	/** The same request that fetches the record (its digest), signed afresh. */
	access: AccessRequest;
	/** SHA-256 of the attachment, as the record names it. */
	hash: Bytes;
}

export function encodeAttachmentRequest(r: AttachmentRequest): Bytes {
	return encodeCanonical({ access: encodeAccessRequest(r.access), hash: r.hash });
}

export function decodeAttachmentRequest(bytes: Bytes): AttachmentRequest {
	const o = read.object(decodeCanonical(bytes, MAX_ACCESS_REQUEST_BYTES + 128), 'attachmentRequest', [
		'access',
		'hash'
	]);
	return {
		access: decodeAccessRequest(
			read.bytes(o.access, 'attachmentRequest.access', { min: 1, max: MAX_ACCESS_REQUEST_BYTES })
		),
		hash: read.bytes(o.hash, 'attachmentRequest.hash', HASH_LENGTH)
	};
}

/** One chunk as it travels: the patient's layer only (IV and AES-GCM ciphertext). */
const MAX_CHUNK = ATTACHMENT_CHUNK_BYTES + SEALED_CHUNK_OVERHEAD;
const chunk = codec<Bytes>(
	(bytes) => bytes,
	(bytes) => {
		ensure(bytes.length > SEALED_CHUNK_OVERHEAD / 2 && bytes.length <= MAX_CHUNK, 'schema', 'not a chunk');
		return bytes;
	}
);

export const ATTACHMENT = defineStreamProtocol({
	id: '/spchain/attachment/1.0.0',
	request: codec(encodeAttachmentRequest, decodeAttachmentRequest),
	chunk,
	maxRequestBytes: MAX_ACCESS_REQUEST_BYTES + 128,
	maxChunkBytes: MAX_CHUNK,
	maxTotalBytes: MAX_ATTACHMENT_BYTES + Math.ceil(MAX_ATTACHMENT_BYTES / ATTACHMENT_CHUNK_BYTES) * MAX_CHUNK,
	chunkTimeoutMs: INSTITUTION_ANSWER_MS,
	mapError: appErrors('The institution', 'The institution stopped sending the document; try again.')
});
