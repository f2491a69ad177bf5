/**
 * The request/response protocols between a patient's device and clinics (paper section 5.3), on top of
 * libp2p streams (Noise-encrypted end to end, peers authenticated by their peer id, which a signed
 * presence binds to a chain identity):
 *
 *   identity      anyone → anyone     the peer's signed presences (who it is on the chain)
 *   record-key    clinic → patient    a new record's key: the device answers a consortium institution with
 *                                     a RecordKeyGrant (records/upload.ts: k_P of one record, sealed to that
 *                                     clinic and signed); nothing is written or signed on the chain by this
 *   sign          clinic → patient    the medical/label transaction body with an UploadReview (the sealed
 *                                     record and its outer key sealed to the patient): the device opens the
 *                                     exact bytes the pointer names, shows the record, and the patient signs
 *                                     or declines with a reason (Upload steps 4-6, Label step 7)
 *   ciphertext    patient/D → holder  an AccessRequest (access-request.ts); the holder removes its layer (share.ts)
 *   access-log    patient → holder    the holder's signed access log of this patient's records
 *   share         patient → D         a ShareBundle sealed to D (share.ts)
 *   revoke        patient → holder/D  a Revocation of a consent
 *
 * Messages are canonical CBOR read strictly with size bounds, as everywhere.
 */
import type { Bytes } from '../core/bytes.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from '../core/identity.ts';
import * as read from '../core/schema.ts';
import { ensure } from '../core/errors.ts';
import {
	bodyToCanonical,
	readTransactionBody,
	type LabelBody,
	type MedicalBody
} from '../core/transaction.ts';
import { MAX_SEALED_BYTES } from '../records/envelope.ts';
import {
	decodeRecordKeyGrant,
	decodeUploadReview,
	encodeRecordKeyGrant,
	encodeUploadReview,
	type RecordKeyGrant,
	type UploadReview
} from '../records/upload.ts';
import { decodeAccessRequest, encodeAccessRequest, type AccessRequest } from '../core/access-request.ts';
import { decodeRevocation, encodeRevocation, type Revocation } from '../core/consent.ts';
import { decodePresences, encodePresences, type Presence } from '../core/presence.ts';
import { decodeAccessLog, encodeAccessLog, type AccessLogEntry } from '../records/access-log.ts';
import {
	decodeAccessResponse,
	decodeShareBundle,
	encodeAccessResponse,
	encodeShareBundle,
	type AccessResponse,
	type ShareBundle
} from '../records/share.ts';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../net/peer-net.ts';
import { codec, defineProtocol, type Codec, type ProtocolError } from '../net/protocol.ts';
import { isRawText } from './error-sentence.ts';
import { AppError } from './types.ts';

export const PROTOCOLS = {
	identity: '/spchain/identity/1.0.0',
	recordKey: '/spchain/record-key/1.0.0',
	sign: '/spchain/sign/1.0.0',
	ciphertext: '/spchain/ciphertext/1.0.0',
	accessLog: '/spchain/access-log/1.0.0',
	share: '/spchain/share/1.0.0',
	revoke: '/spchain/revoke/1.0.0'
} as const;

const MAX_REASON = 500;

// --- sign --------------------------------------------------------------------------------------------

export interface SignRequest {
	body: MedicalBody | LabelBody;
	/** The stored ciphertext and its outer key sealed to the patient: what the device opens and shows. */
	review: UploadReview;
}

export function encodeSignRequest(r: SignRequest): Bytes {
	return encodeCanonical({ body: bodyToCanonical(r.body), review: encodeUploadReview(r.review) });
}

export function decodeSignRequest(bytes: Bytes): SignRequest {
	const o = read.object(decodeCanonical(bytes, MAX_SEALED_BYTES + 4096), 'signRequest', ['body', 'review']);
	const body = readTransactionBody(o.body, 'signRequest.body');
	ensure(body.kind !== 'register', 'sign-kind', 'clinics ask patients to sign records, not registrations');
	const review = read.bytes(o.review, 'signRequest.review', { min: 1, max: MAX_SEALED_BYTES + 1024 });
	return { body, review: decodeUploadReview(review) };
}

export type SignReply = { signed: true; signature: Bytes } | { signed: false; reason: string };

export function encodeSignReply(r: SignReply): Bytes {
	return encodeCanonical(
		r.signed ? { signed: true, signature: r.signature } : { signed: false, reason: r.reason }
	);
}

export function decodeSignReply(bytes: Bytes): SignReply {
	const value = decodeCanonical(bytes, 1024) as { signed?: unknown };
	if (value?.signed === true) {
		const o = read.object(value, 'signReply', ['signed', 'signature']);
		return { signed: true, signature: read.bytes(o.signature, 'signReply.signature', SIGNATURE_LENGTH) };
	}
	const o = read.object(value, 'signReply', ['signed', 'reason']);
	return { signed: false, reason: read.string(o.reason, 'signReply.reason', MAX_REASON) };
}

// --- access log --------------------------------------------------------------------------------------

/** The patient proves it is asking for its own log: a signature over (holder, time). */
export interface AccessLogRequest {
	patient: Bytes;
	time: number;
	signature: Bytes;
}

export function encodeAccessLogRequest(r: AccessLogRequest): Bytes {
	return encodeCanonical({ patient: r.patient, time: r.time, signature: r.signature });
}

export function decodeAccessLogRequest(bytes: Bytes): AccessLogRequest {
	const o = read.object(decodeCanonical(bytes, 512), 'accessLogRequest', ['patient', 'time', 'signature']);
	return {
		patient: read.bytes(o.patient, 'accessLogRequest.patient', PUBLIC_KEY_LENGTH),
		time: read.uint(o.time, 'accessLogRequest.time'),
		signature: read.bytes(o.signature, 'accessLogRequest.signature', SIGNATURE_LENGTH)
	};
}

// --- small replies -----------------------------------------------------------------------------------

export type Ack = { ok: true } | { ok: false; reason: string };

export function encodeAck(a: Ack): Bytes {
	return encodeCanonical(a.ok ? { ok: true } : { ok: false, reason: a.reason });
}

export function decodeAck(bytes: Bytes): Ack {
	const value = decodeCanonical(bytes, 1024) as { ok?: unknown };
	if (value?.ok === true) return { ok: true };
	const o = read.object(value, 'ack', ['ok', 'reason']);
	return { ok: false, reason: read.string(o.reason, 'ack.reason', MAX_REASON) };
}

// --- protocol descriptors (net/protocol.ts: call and serve) -------------------------------------------

/** How long a clinic waits for the patient to answer on their device (they read, then decide). */
export const PATIENT_ANSWER_MS = 5 * 60_000;
/** How long a device waits for an institution's node, which answers without a person. */
export const INSTITUTION_ANSWER_MS = 30_000;

/** Protocol failures as sentences a patient or clinician can act on; `who` is the other side. */
export function appErrors(who: string, late: string): (error: ProtocolError) => Error {
	return (error) => {
		switch (error.kind) {
			case 'timeout':
				return new AppError('timeout', late);
			case 'no-answer':
				return new AppError('no-answer', `${who} closed the connection without answering.`);
			case 'remote': {
				// The other side's refusal is its sentence; a broken stream is not one.
				const detail = error.message.slice(error.protocol.length + 2);
				return new AppError(
					'remote',
					isRawText(detail)
						? `${who} could not be reached. Check that you are online, then try again in a minute.`
						: `${who} could not answer: ${detail}`
				);
			}
			default:
				console.warn(`[wire] ${error.message}`);
				return new AppError(
					'bad-answer',
					`${who} sent an answer this device cannot read. Try again; if it keeps happening, tell the clinic.`
				);
		}
	};
}

const empty: Codec<null> = {
	encode: () => new Uint8Array(0),
	decode: (bytes) => {
		ensure(bytes.length === 0, 'schema', 'expected an empty request');
		return null;
	}
};
export { codec };

// A read: sent again over a new connection if the first closes before the answer.
export const IDENTITY = defineProtocol({
	id: PROTOCOLS.identity,
	request: empty,
	response: codec<Presence[]>(encodePresences, decodePresences),
	maxBytes: 4096,
	timeoutMs: 10_000,
	idempotent: true
});

// A new record key is derived from the request alone and nothing is kept: asking twice is harmless.
export const RECORD_KEY = defineProtocol({
	id: PROTOCOLS.recordKey,
	request: empty,
	response: codec<RecordKeyGrant>(encodeRecordKeyGrant, decodeRecordKeyGrant),
	maxBytes: 4096,
	timeoutMs: INSTITUTION_ANSWER_MS,
	mapError: appErrors("The patient's device", "The patient's device did not answer in time."),
	idempotent: true
});

// Not idempotent: a second copy would ask the patient to read and sign the record again.
export const SIGN = defineProtocol({
	id: PROTOCOLS.sign,
	request: codec(encodeSignRequest, decodeSignRequest),
	response: codec(encodeSignReply, decodeSignReply),
	maxBytes: MAX_SEALED_BYTES + 8192,
	timeoutMs: PATIENT_ANSWER_MS,
	mapError: appErrors("The patient's device", 'The patient did not sign in time.')
});

// Not idempotent: each answer is a disclosure entry in the holder's access log.
export const CIPHERTEXT = defineProtocol({
	id: PROTOCOLS.ciphertext,
	request: codec<AccessRequest>(encodeAccessRequest, decodeAccessRequest),
	response: codec<AccessResponse>(encodeAccessResponse, decodeAccessResponse),
	maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
	timeoutMs: INSTITUTION_ANSWER_MS,
	mapError: appErrors('The institution', 'The institution did not answer in time.')
});

// A read (asking for one's own log is not itself logged).
export const ACCESS_LOG = defineProtocol({
	id: PROTOCOLS.accessLog,
	request: codec(encodeAccessLogRequest, decodeAccessLogRequest),
	response: codec<AccessLogEntry[]>(encodeAccessLog, decodeAccessLog),
	maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
	timeoutMs: INSTITUTION_ANSWER_MS,
	mapError: appErrors('The institution', 'The institution did not send its access log in time.'),
	idempotent: true
});

// The holder keeps one bundle per consent: a second copy replaces the first.
export const SHARE = defineProtocol({
	id: PROTOCOLS.share,
	request: codec<ShareBundle>(encodeShareBundle, decodeShareBundle),
	response: codec(encodeAck, decodeAck),
	maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
	timeoutMs: INSTITUTION_ANSWER_MS,
	mapError: appErrors('The institution', 'The institution did not confirm the share in time.'),
	idempotent: true
});

// Kept under the consent's id: a second copy changes nothing.
export const REVOKE = defineProtocol({
	id: PROTOCOLS.revoke,
	request: codec<Revocation>(encodeRevocation, decodeRevocation),
	response: codec(encodeAck, decodeAck),
	maxBytes: 4096,
	timeoutMs: INSTITUTION_ANSWER_MS,
	mapError: appErrors('The institution', 'The institution did not confirm the revocation in time.'),
	idempotent: true
});
