/**
 * Patient consent for the Share algorithm (paper §5.3 step 10, §6.2.1 "without the permission of patients,
 * other medical institutions can not access the contents of EMRs"), and the signed access challenge a
 * holding institution checks before it removes its layer of a record.
 *
 * A Consent is a patient-signed statement "institution G may see these records of mine, for this purpose,
 * until this time". Its id is the tagged hash of its canonical body; the patient's BIP-340 signature signs
 * the id. A Revocation is a patient-signed statement naming a consent id; once any holder or grantee has
 * seen it, that consent is no longer active. Neither is put on chain: they travel with share requests and
 * are kept by the patient, the holders and the grantee, so every party can audit them.
 *
 * An AccessRequest is what a patient, or the grantee of a consent, signs to fetch a record's ciphertext
 * from the institution holding it: the challenge binds the holder, the record's content address, a fresh
 * nonce, the time and the authority (the patient itself, or a consent under which the fetch happens, so the
 * holder's access log can say "disclosed to G under consent C"). The holder only removes its own layer;
 * the inner layer opens with the record key k_P, which only the patient's device derives and which it gives
 * a grantee per record in a share (docs/privacy.md).
 */
import { equalBytes, type Bytes } from './bytes.ts';
import { decodeCanonical, encodeCanonical, type Canonical } from './encoding.ts';
import { ensure, ValidationError } from './errors.ts';
import { HASH_LENGTH, taggedHash } from './hash.ts';
import {
	isValidPublicKey,
	PUBLIC_KEY_LENGTH,
	SIGNATURE_LENGTH,
	sign,
	verifySignature,
	type PublicKey
} from './identity.ts';
import * as read from './schema.ts';
import { randomBytes } from '@noble/hashes/utils.js';

export const CONSENT_NONCE_LENGTH = 16;
export const ACCESS_NONCE_LENGTH = 16;
/** A consent names at most this many records; beyond that, the patient shares 'all'. */
export const MAX_SCOPE_RECORDS = 256;
export const MAX_PURPOSE_LENGTH = 200;
/** A consent lasts at most this long (ten years); renewals are new consents. */
export const MAX_CONSENT_DURATION_MS = 10 * 365 * 24 * 60 * 60 * 1000;
/** Clocks of phones and clinic desktops may disagree by this much. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
/** An access request is answered only within this window around its time. */
export const ACCESS_REQUEST_WINDOW_MS = 5 * 60 * 1000;
export const MAX_CONSENT_BYTES = 16 * 1024;
export const MAX_REVOCATION_BYTES = 256;
export const MAX_ACCESS_REQUEST_BYTES = MAX_CONSENT_BYTES + 512;

/** 'all': the patient's whole history, including records written later; otherwise record transaction ids. */
export type ConsentScope = 'all' | Bytes[];

export interface ConsentBody {
	patient: PublicKey;
	/** Id (signing public key) of the institution the consent is granted to. */
	grantee: PublicKey;
	scope: ConsentScope;
	/** Why, in the patient's words or a form's choice ("second opinion", "emergency"). */
	purpose: string;
	/** Unix milliseconds. */
	issuedAt: number;
	expiresAt: number;
	/** Makes two otherwise equal consents distinct (so one can be revoked and not the other). */
	nonce: Bytes;
}

export interface Consent extends ConsentBody {
	signature: Bytes;
}

export interface Revocation {
	patient: PublicKey;
	/** Id of the revoked consent. */
	consent: Bytes;
	revokedAt: number;
	signature: Bytes;
}

// ---------------------------------------------------------------- consent

function consentBodyToCanonical(c: ConsentBody): { [key: string]: Canonical } {
	return {
		patient: c.patient,
		grantee: c.grantee,
		scope: c.scope === 'all' ? 'all' : [...c.scope],
		purpose: c.purpose,
		issuedAt: c.issuedAt,
		expiresAt: c.expiresAt,
		nonce: c.nonce
	};
}

/** The consent id: tagged hash of the canonical body (the signature is not part of it). */
export function consentId(body: ConsentBody): Bytes {
	return taggedHash('spchain/consent', encodeCanonical(consentBodyToCanonical(body)));
}

function readScope(value: unknown, where: string): ConsentScope {
	if (value === 'all') return 'all';
	if (typeof value === 'string')
		throw new ValidationError('schema', `${where}: expected 'all' or a list of record ids`);
	const ids = read.array(value, where, MAX_SCOPE_RECORDS, (v, w) => read.bytes(v, w, HASH_LENGTH));
	ensure(ids.length > 0, 'schema', `${where}: a consent must name at least one record (or 'all')`);
	return ids;
}

const CONSENT_FIELDS = ['patient', 'grantee', 'scope', 'purpose', 'issuedAt', 'expiresAt', 'nonce'] as const;

export function readConsent(value: unknown, where = 'consent'): Consent {
	const o = read.object(value, where, [...CONSENT_FIELDS, 'signature']);
	return {
		patient: read.bytes(o.patient, `${where}.patient`, PUBLIC_KEY_LENGTH),
		grantee: read.bytes(o.grantee, `${where}.grantee`, PUBLIC_KEY_LENGTH),
		scope: readScope(o.scope, `${where}.scope`),
		purpose: read.string(o.purpose, `${where}.purpose`, MAX_PURPOSE_LENGTH),
		issuedAt: read.uint(o.issuedAt, `${where}.issuedAt`),
		expiresAt: read.uint(o.expiresAt, `${where}.expiresAt`),
		nonce: read.bytes(o.nonce, `${where}.nonce`, CONSENT_NONCE_LENGTH),
		signature: read.bytes(o.signature, `${where}.signature`, SIGNATURE_LENGTH)
	};
}

export function consentToCanonical(c: Consent): { [key: string]: Canonical } {
	return { ...consentBodyToCanonical(c), signature: c.signature };
}

export function encodeConsent(c: Consent): Bytes {
	return encodeCanonical(consentToCanonical(c));
}

/** Decodes untrusted bytes into a structurally valid consent (call checkConsent before trusting it). */
export function decodeConsent(bytes: Bytes): Consent {
	return readConsent(decodeCanonical(bytes, MAX_CONSENT_BYTES));
}

/** Signs a consent with the patient's secret key; `nonce` defaults to fresh random bytes. */
export function createConsent(
	body: Omit<ConsentBody, 'nonce'> & { nonce?: Bytes },
	patientSecretKey: Bytes
): Consent {
	const full: ConsentBody = {
		...body,
		scope: body.scope === 'all' ? 'all' : [...body.scope],
		nonce: body.nonce ?? randomBytes(CONSENT_NONCE_LENGTH)
	};
	checkConsentShape(full);
	return { ...full, signature: sign(patientSecretKey, consentId(full)) };
}

function checkConsentShape(c: ConsentBody): void {
	ensure(isValidPublicKey(c.patient), 'consent-key', 'the consent names an invalid patient key');
	ensure(isValidPublicKey(c.grantee), 'consent-key', 'the consent names an invalid institution key');
	ensure(c.purpose.trim() !== '', 'consent-purpose', 'a consent must say what it is for');
	ensure(c.purpose.length <= MAX_PURPOSE_LENGTH, 'consent-purpose', 'the purpose is too long');
	ensure(c.expiresAt > c.issuedAt, 'consent-window', 'the consent expires before it starts');
	ensure(
		c.expiresAt - c.issuedAt <= MAX_CONSENT_DURATION_MS,
		'consent-window',
		'a consent may last at most ten years'
	);
	if (c.scope !== 'all') {
		ensure(c.scope.length > 0, 'consent-scope', 'a consent must name at least one record');
		ensure(c.scope.length <= MAX_SCOPE_RECORDS, 'consent-scope', 'the consent names too many records');
		const seen = new Set(c.scope.map((id) => id.join(',')));
		ensure(seen.size === c.scope.length, 'consent-scope', 'the consent names a record twice');
	}
}

/**
 * Throws ValidationError unless the consent is well formed, signed by its patient, already valid and not
 * yet expired at `now` (revocation is checked by isConsentActive, which needs the known revocations).
 */
export function checkConsent(c: Consent, now: number): void {
	checkConsentShape(c);
	ensure(
		verifySignature(c.patient, consentId(c), c.signature),
		'consent-signature',
		'the consent is not signed by the patient it names'
	);
	ensure(c.issuedAt <= now + CLOCK_SKEW_MS, 'consent-not-yet-valid', 'the consent is not valid yet');
	ensure(now < c.expiresAt, 'consent-expired', 'the consent has expired');
}

/** Whether the consent covers the record with transaction id `recordId`. */
export function consentCovers(c: ConsentBody, recordId: Bytes): boolean {
	return c.scope === 'all' || c.scope.some((id) => equalBytes(id, recordId));
}

// ---------------------------------------------------------------- revocation

function revocationDigest(r: Omit<Revocation, 'signature'>): Bytes {
	return taggedHash(
		'spchain/revocation',
		encodeCanonical({ patient: r.patient, consent: r.consent, revokedAt: r.revokedAt })
	);
}

export function createRevocation(consent: ConsentBody, patientSecretKey: Bytes, now: number): Revocation {
	const unsigned = { patient: consent.patient, consent: consentId(consent), revokedAt: now };
	return { ...unsigned, signature: sign(patientSecretKey, revocationDigest(unsigned)) };
}

export function readRevocation(value: unknown, where = 'revocation'): Revocation {
	const o = read.object(value, where, ['patient', 'consent', 'revokedAt', 'signature']);
	return {
		patient: read.bytes(o.patient, `${where}.patient`, PUBLIC_KEY_LENGTH),
		consent: read.bytes(o.consent, `${where}.consent`, HASH_LENGTH),
		revokedAt: read.uint(o.revokedAt, `${where}.revokedAt`),
		signature: read.bytes(o.signature, `${where}.signature`, SIGNATURE_LENGTH)
	};
}

export function encodeRevocation(r: Revocation): Bytes {
	return encodeCanonical({
		patient: r.patient,
		consent: r.consent,
		revokedAt: r.revokedAt,
		signature: r.signature
	});
}

export function decodeRevocation(bytes: Bytes): Revocation {
	return readRevocation(decodeCanonical(bytes, MAX_REVOCATION_BYTES));
}

/** Throws ValidationError unless the revocation is signed by its patient (and, given, revokes `consent`). */
export function checkRevocation(r: Revocation, consent?: ConsentBody): void {
	ensure(
		verifySignature(r.patient, revocationDigest(r), r.signature),
		'revocation-signature',
		'the revocation is not signed by the patient it names'
	);
	if (consent) {
		ensure(
			equalBytes(r.patient, consent.patient),
			'revocation-patient',
			'the revocation is from another patient'
		);
		ensure(
			equalBytes(r.consent, consentId(consent)),
			'revocation-consent',
			'the revocation names another consent'
		);
	}
}

/** Whether `r` is a valid revocation of `consent` (a forged or unrelated revocation is ignored). */
export function revokes(r: Revocation, consent: ConsentBody): boolean {
	try {
		checkRevocation(r, consent);
		return true;
	} catch {
		return false;
	}
}

/**
 * Active = valid (checkConsent) at `now` and not revoked by any valid revocation among `revocations`.
 * A revocation takes effect as soon as it is known, whatever its date: the patient's latest word wins.
 */
export function isConsentActive(c: Consent, revocations: readonly Revocation[], now: number): boolean {
	try {
		checkConsent(c, now);
	} catch {
		return false;
	}
	return !revocations.some((r) => revokes(r, c));
}

/**
 * Everything a grantee (or anyone acting on a consent) checks before using it for one record: valid at
 * `now`, granted to `grantee`, covering `recordId`, not revoked. Throws ValidationError with codes
 * consent-signature / consent-expired / consent-not-yet-valid / consent-grantee / consent-scope /
 * consent-revoked.
 */
export function checkConsentFor(
	c: Consent,
	use: { grantee: PublicKey; recordId: Bytes; revocations: readonly Revocation[]; now: number }
): void {
	checkConsent(c, use.now);
	ensure(
		equalBytes(c.grantee, use.grantee),
		'consent-grantee',
		'the consent was granted to another institution'
	);
	ensure(consentCovers(c, use.recordId), 'consent-scope', 'the consent does not cover this record');
	ensure(!use.revocations.some((r) => revokes(r, c)), 'consent-revoked', 'the patient revoked this consent');
}

// ---------------------------------------------------------------- access challenge

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
