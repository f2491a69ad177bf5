/**
 * The request/response protocols between a patient's device and clinics (paper section 5.3), on top of
 * libp2p streams (Noise-encrypted end to end, peers authenticated by their peer id, which a signed
 * presence binds to a chain identity):
 *
 *   identity      anyone → anyone     the peer's signed presences (who it is on the chain)
 *   record        clinic → patient    "may I write a record for you?" (Upload step 4, Label step 7); the
 *                                     patient decides; on yes the device issues the record's nonce and key k_P
 *   sign          clinic → patient    the medical/label transaction body for that record, with the sealed
 *                                     record so the device checks the pointer; signed automatically when it
 *                                     matches a record the patient approved
 *   ciphertext    patient/D → holder  an AccessRequest (consent.ts); the holder removes its layer (share.ts)
 *   access-log    patient → holder    the holder's signed access log of this patient's records
 *   share         patient → D         a ShareBundle sealed to D (share.ts)
 *   revoke        patient → holder/D  a Revocation of a consent
 *
 * Messages are canonical CBOR read strictly with size bounds, as everywhere.
 */
import type { Bytes } from '../core/bytes.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { HASH_LENGTH } from '../core/hash.ts';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from '../core/identity.ts';
import * as read from '../core/schema.ts';
import { ensure } from '../core/errors.ts';
import {
	bodyToCanonical,
	readTransactionBody,
	type LabelBody,
	type MedicalBody
} from '../core/transaction.ts';
import { MAX_SEALED_BYTES, readHeader, type RecordHeader } from '../records/envelope.ts';
import {
	decodeAccessRequest,
	decodeRevocation,
	encodeAccessRequest,
	encodeRevocation,
	type AccessRequest,
	type Revocation
} from '../core/consent.ts';
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
import { defineProtocol, type Codec, type ProtocolError } from '../net/protocol.ts';
import { AppError } from './types.ts';

export const PROTOCOLS = {
	identity: '/spchain/identity/1.0.0',
	record: '/spchain/record/1.0.0',
	sign: '/spchain/sign/1.0.0',
	ciphertext: '/spchain/ciphertext/1.0.0',
	accessLog: '/spchain/access-log/1.0.0',
	share: '/spchain/share/1.0.0',
	revoke: '/spchain/revoke/1.0.0'
} as const;

const MAX_SUMMARY = 300;
const MAX_REASON = 500;

// --- record ------------------------------------------------------------------------------------------

export interface RecordRequest {
	kind: 'medical' | 'label';
	/** What the clinic is writing, in words the patient understands. */
	summary: string;
	/** For a label: the transaction id of the record being corrected, and why. */
	target?: Bytes;
	reason?: string;
}

export type RecordReply =
	{ approved: true; header: RecordHeader; key: Bytes } | { approved: false; reason: string };

export function encodeRecordRequest(r: RecordRequest): Bytes {
	const out: Record<string, string | Bytes> = { kind: r.kind, summary: r.summary };
	if (r.target) out.target = r.target;
	if (r.reason !== undefined) out.reason = r.reason;
	return encodeCanonical(out);
}

export function decodeRecordRequest(bytes: Bytes): RecordRequest {
	const o = read.object(
		decodeCanonical(bytes, 2048),
		'recordRequest',
		['kind', 'summary'],
		['target', 'reason']
	);
	const request: RecordRequest = {
		kind: read.oneOf(o.kind, 'recordRequest.kind', ['medical', 'label'] as const),
		summary: read.string(o.summary, 'recordRequest.summary', MAX_SUMMARY)
	};
	if (o.target !== undefined) request.target = read.bytes(o.target, 'recordRequest.target', HASH_LENGTH);
	if (o.reason !== undefined) request.reason = read.string(o.reason, 'recordRequest.reason', MAX_REASON);
	return request;
}

export function encodeRecordReply(r: RecordReply): Bytes {
	return encodeCanonical(
		r.approved
			? {
					approved: true,
					header: { patient: r.header.patient, holder: r.header.holder, record: r.header.record },
					key: r.key
				}
			: { approved: false, reason: r.reason }
	);
}

export function decodeRecordReply(bytes: Bytes): RecordReply {
	const value = decodeCanonical(bytes, 1024) as { approved?: unknown };
	if (value?.approved === true) {
		const o = read.object(value, 'recordReply', ['approved', 'header', 'key']);
		return {
			approved: true,
			header: readHeader(o.header, 'recordReply.header'),
			key: read.bytes(o.key, 'recordReply.key', 32)
		};
	}
	const o = read.object(value, 'recordReply', ['approved', 'reason']);
	return { approved: false, reason: read.string(o.reason, 'recordReply.reason', MAX_REASON) };
}

// --- sign --------------------------------------------------------------------------------------------

export interface SignRequest {
	body: MedicalBody | LabelBody;
	/** The stored ciphertext (its content address is the body's pointer digest). */
	sealed: Bytes;
}

export function encodeSignRequest(r: SignRequest): Bytes {
	return encodeCanonical({
		body: bodyToCanonical(r.body),
		sealed: r.sealed
	});
}

export function decodeSignRequest(bytes: Bytes): SignRequest {
	const o = read.object(decodeCanonical(bytes, MAX_SEALED_BYTES + 4096), 'signRequest', ['body', 'sealed']);
	const body = readTransactionBody(o.body, 'signRequest.body');
	ensure(body.kind !== 'register', 'sign-kind', 'clinics ask patients to sign records, not registrations');
	return { body, sealed: read.bytes(o.sealed, 'signRequest.sealed', { min: 1, max: MAX_SEALED_BYTES }) };
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
			case 'remote':
				return new AppError('remote', `${who} could not answer: ${error.message}`);
			default:
				return new AppError(
					'bad-answer',
					`${who} sent an answer this device cannot read (${error.message}).`
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
export const codec = <T>(encode: (value: T) => Bytes, decode: (bytes: Bytes) => T): Codec<T> => ({
	encode,
	decode
});

export const IDENTITY = defineProtocol({
	id: PROTOCOLS.identity,
	request: empty,
	response: codec<Presence[]>(encodePresences, decodePresences),
	maxBytes: 4096,
	timeoutMs: 10_000
});

export const RECORD = defineProtocol({
	id: PROTOCOLS.record,
	request: codec(encodeRecordRequest, decodeRecordRequest),
	response: codec(encodeRecordReply, decodeRecordReply),
	maxBytes: 16 * 1024,
	timeoutMs: PATIENT_ANSWER_MS,
	mapError: appErrors("The patient's device", 'The patient did not answer in time.')
});

export const SIGN = defineProtocol({
	id: PROTOCOLS.sign,
	request: codec(encodeSignRequest, decodeSignRequest),
	response: codec(encodeSignReply, decodeSignReply),
	maxBytes: MAX_SEALED_BYTES + 8192,
	timeoutMs: PATIENT_ANSWER_MS,
	mapError: appErrors("The patient's device", 'The patient did not sign in time.')
});

export const CIPHERTEXT = defineProtocol({
	id: PROTOCOLS.ciphertext,
	request: codec<AccessRequest>(encodeAccessRequest, decodeAccessRequest),
	response: codec<AccessResponse>(encodeAccessResponse, decodeAccessResponse),
	maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
	timeoutMs: INSTITUTION_ANSWER_MS,
	mapError: appErrors('The institution', 'The institution did not answer in time.')
});

export const ACCESS_LOG = defineProtocol({
	id: PROTOCOLS.accessLog,
	request: codec(encodeAccessLogRequest, decodeAccessLogRequest),
	response: codec<AccessLogEntry[]>(encodeAccessLog, decodeAccessLog),
	maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
	timeoutMs: INSTITUTION_ANSWER_MS,
	mapError: appErrors('The institution', 'The institution did not send its access log in time.')
});

export const SHARE = defineProtocol({
	id: PROTOCOLS.share,
	request: codec<ShareBundle>(encodeShareBundle, decodeShareBundle),
	response: codec(encodeAck, decodeAck),
	maxBytes: DEFAULT_MAX_MESSAGE_BYTES,
	timeoutMs: INSTITUTION_ANSWER_MS,
	mapError: appErrors('The institution', 'The institution did not confirm the share in time.')
});

export const REVOKE = defineProtocol({
	id: PROTOCOLS.revoke,
	request: codec<Revocation>(encodeRevocation, decodeRevocation),
	response: codec(encodeAck, decodeAck),
	maxBytes: 4096,
	timeoutMs: INSTITUTION_ANSWER_MS,
	mapError: appErrors('The institution', 'The institution did not confirm the revocation in time.')
});
