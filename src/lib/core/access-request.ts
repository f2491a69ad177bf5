/**
 * The signed access challenge a holding institution checks before it removes its layer of a record.
 *
 * An AccessRequest is what a patient, or the grantee of a consent, signs to fetch a record's ciphertext
 * from the institution holding it: the challenge binds the holder, the record's content address, a fresh
 * nonce, the time and the authority (the patient itself, or a consent under which the fetch happens, so the
 * holder's access log can say "disclosed to G under consent C"). The holder only removes its own layer;
 * the inner layer opens with the record key k_P, which only the patient's device derives and which it gives
 * a grantee per record in a share (docs/privacy.md).
 */
import { equalBytes, type Bytes } from './bytes.ts';
import {
	checkConsent,
	consentCovers,
	consentId,
	consentToCanonical,
	MAX_CONSENT_BYTES,
	readConsent,
	revokes,
	type Consent,
	type Revocation
} from './consent.ts';
import { decodeCanonical, encodeCanonical, type Canonical } from './encoding.ts';
import { ensure } from './errors.ts';
import { HASH_LENGTH, taggedHash } from './hash.ts';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, sign, verifySignature, type PublicKey } from './identity.ts';
import * as read from './schema.ts';
import { randomBytes } from '@noble/hashes/utils.js';

export const ACCESS_NONCE_LENGTH = 16;
/** An access request is answered only within this window around its time. */
export const ACCESS_REQUEST_WINDOW_MS = 5 * 60 * 1000;
export const MAX_ACCESS_REQUEST_BYTES = MAX_CONSENT_BYTES + 512;

export type AccessAuthority = { kind: 'patient' } | { kind: 'consent'; consent: Consent };

export interface AccessRequest {
	/** Who signs: the record's patient, or (with a consent authority) the consent's grantee. */
	requester: PublicKey;
	/** The institution holding the ciphertext (Pointer.holder). */
	holder: PublicKey;
	/** The ciphertext's content address (Pointer.digest). */
	digest: Bytes;
	nonce: Bytes;
	time: number;
	authority: AccessAuthority;
	signature: Bytes;
}

/**
 * The 32-byte digest the requester signs to fetch ciphertext `ciphertextDigest` from `holder`. The
 * authority is bound too: the consent id when the fetch is for a share, nothing when for the patient.
 */
export function accessChallenge(
	holder: PublicKey,
	ciphertextDigest: Bytes,
	nonce: Bytes,
	time: number,
	consent?: Bytes
): Bytes {
	const value: { [key: string]: Canonical } = { holder, digest: ciphertextDigest, nonce, time };
	if (consent) value.consent = consent;
	return taggedHash('spchain/access', encodeCanonical(value));
}

function authorityConsentId(a: AccessAuthority): Bytes | undefined {
	return a.kind === 'consent' ? consentId(a.consent) : undefined;
}

export function createAccessRequest(
	options: { holder: PublicKey; digest: Bytes; authority: AccessAuthority; time: number; nonce?: Bytes },
	requesterSecretKey: Bytes,
	requester: PublicKey
): AccessRequest {
	const nonce = options.nonce ?? randomBytes(ACCESS_NONCE_LENGTH);
	const challenge = accessChallenge(
		options.holder,
		options.digest,
		nonce,
		options.time,
		authorityConsentId(options.authority)
	);
	return {
		requester,
		holder: options.holder,
		digest: options.digest,
		nonce,
		time: options.time,
		authority: options.authority,
		signature: sign(requesterSecretKey, challenge)
	};
}

export function encodeAccessRequest(r: AccessRequest): Bytes {
	return encodeCanonical({
		requester: r.requester,
		holder: r.holder,
		digest: r.digest,
		nonce: r.nonce,
		time: r.time,
		authority: r.authority.kind === 'patient' ? 'patient' : consentToCanonical(r.authority.consent),
		signature: r.signature
	});
}

export function decodeAccessRequest(bytes: Bytes): AccessRequest {
	const where = 'access';
	const o = read.object(decodeCanonical(bytes, MAX_ACCESS_REQUEST_BYTES), where, [
		'requester',
		'holder',
		'digest',
		'nonce',
		'time',
		'authority',
		'signature'
	]);
	return {
		requester: read.bytes(o.requester, `${where}.requester`, PUBLIC_KEY_LENGTH),
		holder: read.bytes(o.holder, `${where}.holder`, PUBLIC_KEY_LENGTH),
		digest: read.bytes(o.digest, `${where}.digest`, HASH_LENGTH),
		nonce: read.bytes(o.nonce, `${where}.nonce`, ACCESS_NONCE_LENGTH),
		time: read.uint(o.time, `${where}.time`),
		authority:
			o.authority === 'patient'
				? { kind: 'patient' }
				: { kind: 'consent', consent: readConsent(o.authority, `${where}.authority`) },
		signature: read.bytes(o.signature, `${where}.signature`, SIGNATURE_LENGTH)
	};
}

/** What the holder knows about the record asked for (from its own store and the chain). */
export interface HeldRecord {
	/** Pointer.digest of the stored ciphertext. */
	digest: Bytes;
	/** The patient the record belongs to (the medical transaction's sender). */
	patient: PublicKey;
	/** Id of the pinned medical or label transaction that points at this ciphertext. */
	transactionId: Bytes;
}

/** Who is asking and on what authority, as the holder's access log records it. */
export interface AccessGrant {
	requester: PublicKey;
	authority: { kind: 'patient' } | { kind: 'consent'; consentId: Bytes; grantee: PublicKey };
}

export interface AccessContext {
	/** The checking institution's own id; the request must be addressed to it. */
	holder: PublicKey;
	record: HeldRecord;
	/** Revocations the holder knows of (from the patient, the grantee or its own store). */
	revocations: readonly Revocation[];
	now: number;
	/** Whether this nonce was already answered (replay); the holder keeps nonces for the request window. */
	seen?: (nonce: Bytes) => boolean;
}

/**
 * The holder's check of an access request. Returns who is asking and on what authority, or throws a
 * ValidationError naming the reason: wrong holder or record, stale or replayed request, bad signature,
 * a requester who is neither the record's patient nor the grantee of the consent it presents, or a consent
 * that is forged, expired, not yet valid, revoked, from another patient, or does not cover this record.
 */
export function checkAccessRequest(request: AccessRequest, ctx: AccessContext): AccessGrant {
	ensure(
		equalBytes(request.holder, ctx.holder),
		'access-holder',
		'the request is addressed to another institution'
	);
	ensure(equalBytes(request.digest, ctx.record.digest), 'access-record', 'the request names another record');
	ensure(
		Math.abs(ctx.now - request.time) <= ACCESS_REQUEST_WINDOW_MS,
		'access-stale',
		'the request is too old or dated in the future; check the device clock'
	);
	ensure(!ctx.seen?.(request.nonce), 'access-replay', 'this request was already answered');
	const challenge = accessChallenge(
		request.holder,
		request.digest,
		request.nonce,
		request.time,
		authorityConsentId(request.authority)
	);
	ensure(
		verifySignature(request.requester, challenge, request.signature),
		'access-signature',
		'the request signature is not valid'
	);
	const byPatient = equalBytes(request.requester, ctx.record.patient);
	const consent = request.authority.kind === 'consent' ? request.authority.consent : undefined;
	ensure(
		byPatient || (consent !== undefined && equalBytes(request.requester, consent.grantee)),
		'access-requester',
		"only the record's patient, or an institution the patient consented to, can fetch it"
	);
	if (!consent) return { requester: request.requester, authority: { kind: 'patient' } };
	ensure(
		equalBytes(consent.patient, ctx.record.patient),
		'access-consent',
		'the consent is from another patient'
	);
	checkConsent(consent, ctx.now);
	const id = consentId(consent);
	ensure(
		!ctx.revocations.some((r) => revokes(r, consent)),
		'consent-revoked',
		'the patient revoked this consent'
	);
	ensure(
		consentCovers(consent, ctx.record.transactionId),
		'consent-scope',
		'the consent does not cover this record'
	);
	return {
		requester: request.requester,
		authority: { kind: 'consent', consentId: id, grantee: consent.grantee }
	};
}
