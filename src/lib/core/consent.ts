/**
 * Patient consent for the Share algorithm (paper §5.3 step 10, §6.2.1 "without the permission of patients,
 * other medical institutions can not access the contents of EMRs").
 *
 * A Consent is a patient-signed statement "institution G may see these records of mine, for this purpose,
 * until this time". Its id is the tagged hash of its canonical body; the patient's BIP-340 signature signs
 * the id. A Revocation is a patient-signed statement naming a consent id; once any holder or grantee has
 * seen it, that consent is no longer active. Neither is put on chain: they travel with share requests and
 * are kept by the patient, the holders and the grantee, so every party can audit them.
 * The access challenge that presents a consent to a holder is access-request.ts.
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
/** A consent names at most this many records; beyond that, the patient shares 'all'. */
export const MAX_SCOPE_RECORDS = 256;
export const MAX_PURPOSE_LENGTH = 200;
/** A consent lasts at most this long (ten years); renewals are new consents. */
export const MAX_CONSENT_DURATION_MS = 10 * 365 * 24 * 60 * 60 * 1000;
/** Clocks of phones and clinic desktops may disagree by this much. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
export const MAX_CONSENT_BYTES = 16 * 1024;
export const MAX_REVOCATION_BYTES = 256;

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
