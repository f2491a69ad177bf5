import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import {
	accessChallenge,
	checkAccessRequest,
	createAccessRequest,
	decodeAccessRequest,
	encodeAccessRequest,
	type AccessContext
} from './access-request.ts';
import {
	checkConsent,
	checkConsentFor,
	checkRevocation,
	consentCovers,
	consentId,
	createConsent,
	createRevocation,
	decodeConsent,
	decodeRevocation,
	encodeConsent,
	encodeRevocation,
	isConsentActive,
	type Consent
} from './consent.ts';
import { encodeCanonical } from './encoding.ts';
import { codeOf } from '../../../tests/fixtures/records.ts';
import { sign, verifySignature } from './identity.ts';
import { clinics, patientKeys } from '../../../tests/fixtures/chain.ts';

const alice = patientKeys('alice');
const bob = patientKeys('bob');
const [clinicA, clinicB, , clinicD] = clinics as [
	(typeof clinics)[0],
	(typeof clinics)[0],
	(typeof clinics)[0],
	(typeof clinics)[0]
];
const NOW = Date.UTC(2026, 10, 24, 12);
const DAY = 86_400_000;
const record1 = sha256(utf8ToBytes('record 1'));
const record2 = sha256(utf8ToBytes('record 2'));
const digest1 = sha256(utf8ToBytes('ciphertext 1'));

function consentFor(scope: 'all' | Uint8Array[] = [record1], overrides: Partial<Consent> = {}): Consent {
	return {
		...createConsent(
			{
				patient: alice.publicKey,
				grantee: clinicD.institution.id,
				scope,
				purpose: 'second opinion',
				issuedAt: NOW,
				expiresAt: NOW + 30 * DAY
			},
			alice.secretKey
		),
		...overrides
	};
}

describe('consent', () => {
	it('round-trips canonically and verifies', () => {
		const consent = consentFor([record1, record2]);
		const decoded = decodeConsent(encodeConsent(consent));
		expect(decoded).toEqual(consent);
		expect(consentId(decoded)).toEqual(consentId(consent));
		expect(() => checkConsent(decoded, NOW + DAY)).not.toThrow();
		expect(consentCovers(decoded, record2)).toBe(true);
		expect(consentCovers(decoded, digest1)).toBe(false);
		expect(consentCovers(consentFor('all'), digest1)).toBe(true);
	});

	it('two consents with the same terms have distinct ids (nonce)', () => {
		expect(consentId(consentFor())).not.toEqual(consentId(consentFor()));
	});

	it('rejects a forged signature, a changed grantee, scope or expiry', () => {
		const consent = consentFor();
		const forged = { ...consent, signature: sign(bob.secretKey, consentId(consent)) };
		expect(codeOf(() => checkConsent(forged, NOW))).toBe('consent-signature');
		expect(codeOf(() => checkConsent({ ...consent, grantee: clinicB.institution.id }, NOW))).toBe(
			'consent-signature'
		);
		expect(codeOf(() => checkConsent({ ...consent, scope: 'all' }, NOW))).toBe('consent-signature');
		expect(codeOf(() => checkConsent({ ...consent, expiresAt: consent.expiresAt + 1 }, NOW))).toBe(
			'consent-signature'
		);
		expect(codeOf(() => checkConsent({ ...consent, patient: bob.publicKey }, NOW))).toBe('consent-signature');
	});

	it('is valid only between issuedAt (with clock skew) and expiresAt', () => {
		const consent = consentFor();
		expect(codeOf(() => checkConsent(consent, NOW + 30 * DAY))).toBe('consent-expired');
		expect(codeOf(() => checkConsent(consent, NOW - 3_600_000))).toBe('consent-not-yet-valid');
		expect(codeOf(() => checkConsent(consent, NOW - 60_000))).toBe('no error');
	});

	it('refuses malformed consents at creation', () => {
		const base = {
			patient: alice.publicKey,
			grantee: clinicD.institution.id,
			scope: [record1],
			purpose: 'x',
			issuedAt: NOW,
			expiresAt: NOW + DAY
		};
		expect(codeOf(() => createConsent({ ...base, expiresAt: NOW }, alice.secretKey))).toBe('consent-window');
		expect(codeOf(() => createConsent({ ...base, expiresAt: NOW + 11 * 365 * DAY }, alice.secretKey))).toBe(
			'consent-window'
		);
		expect(codeOf(() => createConsent({ ...base, purpose: '  ' }, alice.secretKey))).toBe('consent-purpose');
		expect(codeOf(() => createConsent({ ...base, scope: [] }, alice.secretKey))).toBe('consent-scope');
		expect(codeOf(() => createConsent({ ...base, scope: [record1, record1] }, alice.secretKey))).toBe(
			'consent-scope'
		);
		expect(codeOf(() => createConsent({ ...base, grantee: new Uint8Array(32) }, alice.secretKey))).toBe(
			'consent-key'
		);
	});

	it('checkConsentFor: wrong grantee, wrong scope, revoked', () => {
		const consent = consentFor();
		const use = { grantee: clinicD.institution.id, recordId: record1, revocations: [], now: NOW };
		expect(codeOf(() => checkConsentFor(consent, use))).toBe('no error');
		expect(codeOf(() => checkConsentFor(consent, { ...use, grantee: clinicB.institution.id }))).toBe(
			'consent-grantee'
		);
		expect(codeOf(() => checkConsentFor(consent, { ...use, recordId: record2 }))).toBe('consent-scope');
		const revocation = createRevocation(consent, alice.secretKey, NOW + 1);
		expect(codeOf(() => checkConsentFor(consent, { ...use, revocations: [revocation] }))).toBe(
			'consent-revoked'
		);
	});

	it('strict decoding: tampered bytes, unknown fields, wrong sizes, oversize input', () => {
		const bytes = encodeConsent(consentFor());
		const flipped = bytes.slice();
		flipped[bytes.length - 3]! ^= 1; // inside the signature: decodes, fails the signature
		expect(codeOf(() => checkConsent(decodeConsent(flipped), NOW))).toBe('consent-signature');
		expect(codeOf(() => decodeConsent(bytes.slice(0, -1)))).toBe('encoding');
		const consent = consentFor();
		const canonical = { ...decodeConsentValue(consent), extra: 1 };
		expect(codeOf(() => decodeConsent(encodeCanonical(canonical)))).toBe('schema');
		expect(
			codeOf(() =>
				decodeConsent(encodeCanonical({ ...decodeConsentValue(consent), nonce: new Uint8Array(15) }))
			)
		).toBe('schema');
		expect(
			codeOf(() => decodeConsent(encodeCanonical({ ...decodeConsentValue(consent), scope: 'some' })))
		).toBe('schema');
		expect(codeOf(() => decodeConsent(encodeCanonical({ ...decodeConsentValue(consent), scope: [] })))).toBe(
			'schema'
		);
		const many = Array.from({ length: 257 }, (_, i) => sha256(new Uint8Array([i & 255, i >> 8])));
		expect(
			codeOf(() => decodeConsent(encodeCanonical({ ...decodeConsentValue(consent), scope: many })))
		).toBe('schema');
		expect(codeOf(() => decodeConsent(new Uint8Array(20_000)))).toBe('encoding');
	});
});

function decodeConsentValue(c: Consent) {
	return {
		patient: c.patient,
		grantee: c.grantee,
		scope: c.scope === 'all' ? 'all' : c.scope,
		purpose: c.purpose,
		issuedAt: c.issuedAt,
		expiresAt: c.expiresAt,
		nonce: c.nonce,
		signature: c.signature
	};
}

describe('revocation', () => {
	it('round-trips; only the patient can revoke; only its own consent', () => {
		const consent = consentFor();
		const other = consentFor();
		const revocation = createRevocation(consent, alice.secretKey, NOW + DAY);
		const decoded = decodeRevocation(encodeRevocation(revocation));
		expect(decoded).toEqual(revocation);
		expect(codeOf(() => checkRevocation(decoded, consent))).toBe('no error');
		expect(codeOf(() => checkRevocation(decoded, other))).toBe('revocation-consent');
		// Bob's own valid signature does not revoke alice's consent.
		const bobs = createRevocation({ ...consent, patient: bob.publicKey }, bob.secretKey, NOW + DAY);
		expect(codeOf(() => checkRevocation(bobs, consent))).toBe('revocation-patient');
		const byBob = { ...createRevocation(consent, bob.secretKey, NOW + DAY), patient: alice.publicKey };
		expect(codeOf(() => checkRevocation(byBob))).toBe('revocation-signature');
		const tampered = { ...revocation, revokedAt: revocation.revokedAt + 1 };
		expect(codeOf(() => checkRevocation(tampered))).toBe('revocation-signature');
	});

	it('isConsentActive: valid, expired, revoked, forged revocation ignored', () => {
		const consent = consentFor();
		expect(isConsentActive(consent, [], NOW + DAY)).toBe(true);
		expect(isConsentActive(consent, [], NOW + 31 * DAY)).toBe(false);
		expect(isConsentActive({ ...consent, purpose: 'anything' }, [], NOW)).toBe(false);
		const revocation = createRevocation(consent, alice.secretKey, NOW + DAY);
		expect(isConsentActive(consent, [revocation], NOW + 2 * DAY)).toBe(false);
		const otherRevoked = createRevocation(consentFor(), alice.secretKey, NOW + DAY);
		expect(isConsentActive(consent, [otherRevoked], NOW + 2 * DAY)).toBe(true);
		const forged = { ...createRevocation(consent, bob.secretKey, NOW), patient: alice.publicKey };
		expect(isConsentActive(consent, [forged], NOW + 2 * DAY)).toBe(true);
	});
});

describe('access request', () => {
	const held = { digest: digest1, patient: alice.publicKey, transactionId: record1 };
	const ctx = (over: Partial<AccessContext> = {}): AccessContext => ({
		holder: clinicA.institution.id,
		record: held,
		revocations: [],
		now: NOW + 1000,
		...over
	});
	const request = (authority: Parameters<typeof createAccessRequest>[0]['authority'], time = NOW) =>
		createAccessRequest(
			{ holder: clinicA.institution.id, digest: digest1, authority, time },
			alice.secretKey,
			alice.publicKey
		);

	it('the patient itself: round trip, signed challenge', () => {
		const r = decodeAccessRequest(encodeAccessRequest(request({ kind: 'patient' })));
		expect(
			verifySignature(alice.publicKey, accessChallenge(r.holder, r.digest, r.nonce, r.time), r.signature)
		).toBe(true);
		expect(checkAccessRequest(r, ctx())).toEqual({
			requester: alice.publicKey,
			authority: { kind: 'patient' }
		});
	});

	it('the grantee itself under its consent; refused once revoked or out of scope', () => {
		const consent = consentFor();
		const byD = createAccessRequest(
			{ holder: clinicA.institution.id, digest: digest1, authority: { kind: 'consent', consent }, time: NOW },
			clinicD.secrets.signingKey,
			clinicD.institution.id
		);
		const decoded = decodeAccessRequest(encodeAccessRequest(byD));
		expect(checkAccessRequest(decoded, ctx())).toEqual({
			requester: clinicD.institution.id,
			authority: { kind: 'consent', consentId: consentId(consent), grantee: clinicD.institution.id }
		});
		const revocation = createRevocation(consent, alice.secretKey, NOW);
		expect(codeOf(() => checkAccessRequest(decoded, ctx({ revocations: [revocation] })))).toBe(
			'consent-revoked'
		);
		expect(
			codeOf(() => checkAccessRequest(decoded, ctx({ record: { ...held, transactionId: record2 } })))
		).toBe('consent-scope');
	});

	it('under a consent: returns the consent id and grantee', () => {
		const consent = consentFor();
		const r = decodeAccessRequest(encodeAccessRequest(request({ kind: 'consent', consent })));
		expect(checkAccessRequest(r, ctx())).toEqual({
			requester: alice.publicKey,
			authority: { kind: 'consent', consentId: consentId(consent), grantee: clinicD.institution.id }
		});
	});

	it('refuses: other holder, other record, stale, replayed, forged, not the patient', () => {
		const r = request({ kind: 'patient' });
		expect(codeOf(() => checkAccessRequest(r, ctx({ holder: clinicB.institution.id })))).toBe(
			'access-holder'
		);
		expect(codeOf(() => checkAccessRequest(r, ctx({ record: { ...held, digest: record2 } })))).toBe(
			'access-record'
		);
		expect(codeOf(() => checkAccessRequest(r, ctx({ now: NOW + 10 * 60_000 })))).toBe('access-stale');
		expect(codeOf(() => checkAccessRequest(r, ctx({ now: NOW - 10 * 60_000 })))).toBe('access-stale');
		expect(codeOf(() => checkAccessRequest(r, ctx({ seen: () => true })))).toBe('access-replay');
		expect(codeOf(() => checkAccessRequest({ ...r, time: r.time + 1 }, ctx()))).toBe('access-signature');
		expect(codeOf(() => checkAccessRequest({ ...r, requester: bob.publicKey }, ctx()))).toBe(
			'access-signature'
		);
		const byBob = createAccessRequest(
			{ holder: clinicA.institution.id, digest: digest1, authority: { kind: 'patient' }, time: NOW },
			bob.secretKey,
			bob.publicKey
		);
		expect(codeOf(() => checkAccessRequest(byBob, ctx()))).toBe('access-requester');
		// Another clinic, even presenting a consent made out to D.
		const byClinicB = createAccessRequest(
			{
				holder: clinicA.institution.id,
				digest: digest1,
				authority: { kind: 'consent', consent: consentFor() },
				time: NOW
			},
			clinicB.secrets.signingKey,
			clinicB.institution.id
		);
		expect(codeOf(() => checkAccessRequest(byClinicB, ctx()))).toBe('access-requester');
		// D itself without a consent.
		const byClinicD = createAccessRequest(
			{ holder: clinicA.institution.id, digest: digest1, authority: { kind: 'patient' }, time: NOW },
			clinicD.secrets.signingKey,
			clinicD.institution.id
		);
		expect(codeOf(() => checkAccessRequest(byClinicD, ctx()))).toBe('access-requester');
	});

	it('refuses a swapped, expired, revoked, foreign or out-of-scope consent', () => {
		const consent = consentFor();
		const r = request({ kind: 'consent', consent });
		// Swapping the consent after signing changes the challenge.
		const swapped = { ...r, authority: { kind: 'consent' as const, consent: consentFor('all') } };
		expect(codeOf(() => checkAccessRequest(swapped, ctx()))).toBe('access-signature');
		const later = NOW + 31 * DAY;
		const expired = request({ kind: 'consent', consent }, later);
		expect(codeOf(() => checkAccessRequest(expired, ctx({ now: later })))).toBe('consent-expired');
		const revocation = createRevocation(consent, alice.secretKey, NOW);
		expect(codeOf(() => checkAccessRequest(r, ctx({ revocations: [revocation] })))).toBe('consent-revoked');
		expect(
			codeOf(() => checkAccessRequest(request({ kind: 'consent', consent: consentFor([record2]) }), ctx()))
		).toBe('consent-scope');
		const bobs = createConsent({ ...consent, patient: bob.publicKey, nonce: undefined }, bob.secretKey);
		expect(codeOf(() => checkAccessRequest(request({ kind: 'consent', consent: bobs }), ctx()))).toBe(
			'access-consent'
		);
		const forgedConsent = { ...consent, purpose: 'research' };
		expect(
			codeOf(() => checkAccessRequest(request({ kind: 'consent', consent: forgedConsent }), ctx()))
		).toBe('consent-signature');
	});

	it('strict decoding of requests', () => {
		const bytes = encodeAccessRequest(request({ kind: 'patient' }));
		expect(codeOf(() => decodeAccessRequest(bytes.slice(0, -2)))).toBe('encoding');
		expect(codeOf(() => decodeAccessRequest(encodeCanonical({ authority: 'patient' })))).toBe('schema');
		expect(codeOf(() => decodeAccessRequest(new Uint8Array(40_000)))).toBe('encoding');
	});
});
