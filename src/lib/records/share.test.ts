/**
 * Sharing records with another institution (paper §5.5). Why this file is long: one share bundle is
 * tested through every way it can be refused (consent, revocation, grantee, replaced records, keys of a
 * record's round, attachments), and the cases share their fixtures.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import {
	createAccessRequest,
	decodeAccessRequest,
	encodeAccessRequest,
	type AccessAuthority,
	type AccessRequest
} from '../core/access-request.ts';
import { consentId, createConsent, createRevocation, type Consent } from '../core/consent.ts';
import { transactionId, type MedicalBody } from '../core/transaction.ts';
import { clinics, patientKeys } from '../../../tests/fixtures/chain.ts';
import { openBox } from './aead.ts';
import { verifyAccessLog, type AccessLogEntry } from './access-log.ts';
import {
	containsBytes,
	deriveRecordKey,
	generateMasterKey,
	issueRecordKey,
	sealRecord,
	signRecordContent
} from './envelope.ts';
import {
	answerAccessRequest,
	decodeAccessResponse,
	decodeShareBundle,
	encodeAccessResponse,
	encodeShareBundle,
	openAccessResponse,
	openGranteeResponse,
	chainShared,
	openShare,
	sealShare,
	shareItemAad
} from './share.ts';
import { codeOfAsync, holderKeys, signerOf } from '../../../tests/fixtures/records.ts';

const alice = patientKeys('alice');
const bob = patientKeys('bob');
const [A, B, , D] = [clinics[0]!, clinics[1]!, clinics[2]!, clinics[3]!];
const NOW = Date.UTC(2026, 10, 24, 12);
const DAY = 86_400_000;
const SECRET = 'Type 2 diabetes mellitus without complications';

/** Upload case 1 at `clinic`: the patient derives k_P, the clinic seals, the medical transaction points at it. */
async function upload(
	master: Uint8Array,
	text: string,
	clinic = A,
	correction?: { target: Uint8Array; reason: string },
	authoredAt = NOW
) {
	const { header, key } = issueRecordKey(master, alice.publicKey, clinic.institution.id);
	const resource = JSON.stringify({
		resourceType: 'Condition',
		code: { text },
		subject: { reference: 'Patient/a' }
	});
	const content = signRecordContent(
		header,
		{ resource: resource, authoredAt, ...(correction ? { correction } : {}) },
		clinic.secrets.signingKey
	);
	const sealed = await sealRecord(header, key, holderKeys(clinic).storageKey, content);
	const body: MedicalBody = {
		kind: 'medical',
		patient: alice.publicKey,
		institution: clinic.institution.id,
		round: 1,
		fees: { service: 1, transaction: 1 },
		record: {
			chameleon: { h: randomBytes(32), proof: randomBytes(256) },
			pointer: { digest: sealed.digest, holder: clinic.institution.id }
		}
	};
	const txId = transactionId(body);
	return {
		...sealed,
		header,
		content,
		txId,
		pointer: body.record.pointer,
		held: { digest: sealed.digest, patient: alice.publicKey, transactionId: txId }
	};
}

function consentForD(scope: 'all' | Uint8Array[]): Consent {
	return createConsent(
		{
			patient: alice.publicKey,
			grantee: D.institution.id,
			scope,
			purpose: 'second opinion',
			issuedAt: NOW,
			expiresAt: NOW + 7 * DAY
		},
		alice.secretKey
	);
}

function requestFor(record: { digest: Uint8Array }, authority: AccessAuthority, time = NOW) {
	const r = createAccessRequest(
		{ holder: A.institution.id, digest: record.digest, authority, time },
		alice.secretKey,
		alice.publicKey
	);
	return decodeAccessRequest(encodeAccessRequest(r)); // as received over the wire
}

type Uploaded = Awaited<ReturnType<typeof upload>>;

/** Holder A answers `request` for `record`, with the defaults of a fresh log and no revocations. */
function answer(
	record: Uploaded,
	request: AccessRequest,
	over: Partial<Parameters<typeof answerAccessRequest>[0]> = {}
) {
	return answerAccessRequest({
		request,
		stored: record.bytes,
		record: record.held,
		holder: holderKeys(A),
		revocations: [],
		now: NOW,
		logHead: null,
		...over
	});
}

describe('Share: holder → patient → clinic D', () => {
	it('end to end: fetch, decrypt, share with D, D reads it; the log records both accesses', async () => {
		const master = generateMasterKey();
		const record = await upload(master, SECRET);
		expect(containsBytes(record.bytes, utf8ToBytes(SECRET))).toBe(false);
		const log: AccessLogEntry[] = [];

		// The patient reads its own record.
		const own = requestFor(record, { kind: 'patient' });
		const first = await answer(record, own, { now: NOW + 1000 });
		log.push(first.entry);
		const wire = decodeAccessResponse(encodeAccessResponse(first.response));
		const mine = await openAccessResponse(wire, {
			request: own,
			pointer: record.pointer,
			patient: alice,
			masterKey: master
		});
		expect(JSON.parse(mine.content.resource).code.text).toBe(SECRET);

		// The patient shares it with D under a consent.
		const consent = consentForD([record.txId]);
		const forShare = requestFor(record, { kind: 'consent', consent });
		const second = await answer(record, forShare, { now: NOW + 2000, logHead: log.at(-1)! });
		log.push(second.entry);
		expect(second.grant.authority).toEqual({
			kind: 'consent',
			consentId: consentId(consent),
			grantee: D.institution.id
		});
		const opened = await openAccessResponse(second.response, {
			request: forShare,
			pointer: record.pointer,
			patient: alice,
			masterKey: master
		});
		const bundle = await sealShare({
			consent,
			revocations: [],
			now: NOW + 3000,
			records: [{ transactionId: record.txId, header: opened.header, content: opened.content }]
		});
		const bytes = encodeShareBundle(bundle);
		expect(containsBytes(bytes, utf8ToBytes(SECRET))).toBe(false);
		const atD = await openShare(decodeShareBundle(bytes), {
			grantee: signerOf(D),
			revocations: [],
			now: NOW + 4000
		});
		expect(atD).toHaveLength(1);
		expect(JSON.parse(atD[0]!.content!.resource).code.text).toBe(SECRET);
		expect(atD[0]!.consentId).toEqual(consentId(consent));

		// The patient verifies A's access log.
		verifyAccessLog(log, { holder: A.institution.id, patient: alice.publicKey });
		expect(log.map((e) => e.authority.kind)).toEqual(['patient', 'consent']);
	});

	it("B cannot read A's record: no access from A, no use of the response, no use of the bundle", async () => {
		const master = generateMasterKey();
		const record = await upload(master, SECRET);
		// B asks A directly (even holding a consent made out to D).
		const consent = consentForD('all');
		const byB = createAccessRequest(
			{ holder: A.institution.id, digest: record.digest, authority: { kind: 'consent', consent }, time: NOW },
			B.secrets.signingKey,
			B.institution.id
		);
		expect(await codeOfAsync(answer(record, byB))).toBe('access-requester');
		// B intercepts A's answer to the patient.
		const own = requestFor(record, { kind: 'patient' });
		const { response } = await answer(record, own);
		expect(
			await codeOfAsync(
				openAccessResponse(response, {
					request: own,
					pointer: record.pointer,
					patient: { publicKey: bob.publicKey, secretKey: B.secrets.signingKey },
					masterKey: master
				})
			)
		).toBe('box-open');
		// Nor does the master key of another patient help with the released outer key.
		expect(
			await codeOfAsync(
				openAccessResponse(response, {
					request: own,
					pointer: record.pointer,
					patient: alice,
					masterKey: generateMasterKey()
				})
			)
		).toBe('envelope-inner');
		// B intercepts the bundle for D.
		const opened = await openAccessResponse(response, {
			request: own,
			pointer: record.pointer,
			patient: alice,
			masterKey: master
		});
		const bundle = await sealShare({
			consent,
			revocations: [],
			now: NOW,
			records: [{ transactionId: record.txId, header: opened.header, content: opened.content }]
		});
		expect(await codeOfAsync(openShare(bundle, { grantee: signerOf(B), revocations: [], now: NOW }))).toBe(
			'consent-grantee'
		);
		const item = bundle.items[0]!;
		const aad = shareItemAad(consentId(consent), item.transactionId, item.header);
		for (const who of [B, A])
			expect(
				await codeOfAsync(openBox(item.box, who.secrets.signingKey, who.institution.id, 'share', aad))
			).toBe('box-open');
		// The same call with D's key opens it (so the refusals above are about the key alone).
		expect(await codeOfAsync(openBox(item.box, D.secrets.signingKey, D.institution.id, 'share', aad))).toBe(
			'no error'
		);
	});

	it('tampering: a holder serving other bytes, a moved share item, a swapped consent', async () => {
		const master = generateMasterKey();
		const r1 = await upload(master, SECRET);
		const r2 = await upload(master, 'Hypertension');
		// A serves r2's bytes for r1's pointer: its own check refuses; a patient check would too.
		const req = requestFor(r1, { kind: 'patient' });
		expect(await codeOfAsync(answer(r1, req, { stored: r2.bytes }))).toBe('holder-store');
		const { response } = await answer(r1, req);
		expect(
			await codeOfAsync(
				openAccessResponse(
					{ ...response, sealed: r2.bytes },
					{ request: req, pointer: r1.pointer, patient: alice, masterKey: master }
				)
			)
		).toBe('envelope-digest');

		const consent = consentForD('all');
		const bundle = await sealShare({
			consent,
			revocations: [],
			now: NOW,
			records: [
				{ transactionId: r1.txId, header: r1.header, content: r1.content },
				{ transactionId: r2.txId, header: r2.header, content: r2.content }
			]
		});
		const opts = { grantee: signerOf(D), revocations: [], now: NOW };
		expect(await openShare(bundle, opts)).toHaveLength(2);
		// Relabel item 0 as record r2: the box no longer opens.
		const moved = { ...bundle, items: [{ ...bundle.items[0]!, transactionId: r2.txId }] };
		expect(await codeOfAsync(openShare(moved, opts))).toBe('box-open');
		const reheaded = { ...bundle, items: [{ ...bundle.items[0]!, header: r2.header }] };
		expect(await codeOfAsync(openShare(reheaded, opts))).toBe('box-open');
		// Another consent for D (same patient, also 'all') substituted: bound to the consent id.
		const other = { ...bundle, consent: consentForD('all') };
		expect(await codeOfAsync(openShare(other, opts))).toBe('box-open');
		// A consent edited to widen it: the patient's signature fails.
		const widened = await sealShare({
			consent: consentForD([r1.txId]),
			revocations: [],
			now: NOW,
			records: [{ transactionId: r1.txId, header: r1.header, content: r1.content }]
		});
		const forged = { ...widened, consent: { ...widened.consent, scope: 'all' as const } };
		expect(await codeOfAsync(openShare(forged, opts))).toBe('consent-signature');
		// Out of scope at the patient side.
		expect(
			await codeOfAsync(
				sealShare({
					consent: consentForD([r1.txId]),
					revocations: [],
					now: NOW,
					records: [{ transactionId: r2.txId, header: r2.header, content: r2.content }]
				})
			)
		).toBe('consent-scope');
	});

	it('revocation and expiry stop future shares; what D already read stays with D', async () => {
		const master = generateMasterKey();
		const record = await upload(master, SECRET);
		const consent = consentForD([record.txId]);
		const records = [{ transactionId: record.txId, header: record.header, content: record.content }];
		const before = await sealShare({ consent, revocations: [], now: NOW, records });
		const readBefore = await openShare(before, { grantee: signerOf(D), revocations: [], now: NOW });

		const revocation = createRevocation(consent, alice.secretKey, NOW + DAY);
		// The holder refuses requests under the revoked consent.
		expect(
			await codeOfAsync(
				answer(record, requestFor(record, { kind: 'consent', consent }, NOW + DAY), {
					revocations: [revocation],
					now: NOW + DAY
				})
			)
		).toBe('consent-revoked');
		// The patient's app refuses to share under it; D refuses a bundle under it once it knows.
		expect(
			await codeOfAsync(sealShare({ consent, revocations: [revocation], now: NOW + DAY, records }))
		).toBe('consent-inactive');
		expect(
			await codeOfAsync(
				openShare(before, { grantee: signerOf(D), revocations: [revocation], now: NOW + DAY })
			)
		).toBe('consent-revoked');
		// Expired.
		expect(
			await codeOfAsync(openShare(before, { grantee: signerOf(D), revocations: [], now: NOW + 8 * DAY }))
		).toBe('consent-expired');
		expect(await codeOfAsync(sealShare({ consent, revocations: [], now: NOW + 8 * DAY, records }))).toBe(
			'consent-inactive'
		);
		// Already-shared plaintext cannot be recalled.
		expect(JSON.parse(readBefore[0]!.content!.resource).code.text).toBe(SECRET);
		// The patient itself keeps access.
		const own = requestFor(record, { kind: 'patient' }, NOW + DAY);
		const { response } = await answer(record, own, { revocations: [revocation], now: NOW + DAY });
		await expect(
			openAccessResponse(response, {
				request: own,
				pointer: record.pointer,
				patient: alice,
				masterKey: master
			})
		).resolves.toBeDefined();
	});

	it('a record with attachments travels with its key, so D can fetch them from A; others do not', async () => {
		const master = generateMasterKey();
		const withPdf = await upload(master, SECRET);
		const plain = await upload(master, 'Hypertension');
		const consent = consentForD([withPdf.txId, plain.txId]);
		const key = { recordKey: deriveRecordKey(master, withPdf.header), digest: withPdf.digest };
		const bundle = await sealShare({
			consent,
			revocations: [],
			now: NOW,
			records: [
				{ transactionId: withPdf.txId, header: withPdf.header, content: withPdf.content, key },
				{ transactionId: plain.txId, header: plain.header, content: plain.content }
			]
		});
		const [first, second] = await openShare(decodeShareBundle(encodeShareBundle(bundle)), {
			grantee: signerOf(D),
			revocations: [],
			now: NOW
		});
		expect(JSON.parse(first!.content!.resource).code.text).toBe(SECRET);
		expect(first!.key).toEqual(key);
		expect(first!.consent).toEqual(consent);
		expect(second!.content).toBeDefined();
		expect(second!.key).toBeUndefined();
		// With it D fetches from A under the consent, as in the key share below (and an attachment's chunks).
		expect(first!.key!.recordKey).toEqual(deriveRecordKey(master, first!.header));
	});

	it('key share: D fetches from A under the consent and checks the bytes against the chain', async () => {
		const master = generateMasterKey();
		const r1 = await upload(master, SECRET);
		const r2 = await upload(master, 'Hypertension');
		const consent = consentForD([r1.txId]);
		// The patient sends D only k_P and the pointer digest of r1.
		const bundle = await sealShare({
			consent,
			revocations: [],
			now: NOW,
			records: [
				{
					transactionId: r1.txId,
					header: r1.header,
					recordKey: deriveRecordKey(master, r1.header),
					digest: r1.digest
				}
			]
		});
		const bytes = encodeShareBundle(bundle);
		const [shared] = await openShare(decodeShareBundle(bytes), {
			grantee: signerOf(D),
			revocations: [],
			now: NOW
		});
		expect(shared!.content).toBeUndefined();
		expect(shared!.key!.digest).toEqual(r1.digest);
		// D asks A itself.
		const dRequest = (record: Uploaded, time = NOW) =>
			createAccessRequest(
				{ holder: A.institution.id, digest: record.digest, authority: { kind: 'consent', consent }, time },
				D.secrets.signingKey,
				D.institution.id
			);
		const request = dRequest(r1);
		const { response, entry } = await answer(r1, request);
		expect(entry.requester).toEqual(D.institution.id);
		expect(entry.authority).toEqual({
			kind: 'consent',
			consentId: consentId(consent),
			grantee: D.institution.id
		});
		const got = await openGranteeResponse(response, {
			request,
			pointer: r1.pointer,
			grantee: signerOf(D),
			shared: { recordKey: shared!.key!.recordKey, patient: alice.publicKey }
		});
		expect(JSON.parse(got.content.resource).code.text).toBe(SECRET);
		// Not r2 (outside the consent), and nothing once revoked.
		expect(await codeOfAsync(answer(r2, dRequest(r2)))).toBe('consent-scope');
		const revocation = createRevocation(consent, alice.secretKey, NOW + 1);
		expect(
			await codeOfAsync(answer(r1, dRequest(r1, NOW + 2), { revocations: [revocation], now: NOW + 2 }))
		).toBe('consent-revoked');
		// A response addressed to the patient is of no use to D.
		const own2 = requestFor(r2, { kind: 'patient' });
		const toPatient = await answer(r2, own2);
		const sharedKey = { recordKey: shared!.key!.recordKey, patient: alice.publicKey };
		expect(
			await codeOfAsync(
				openGranteeResponse(toPatient.response, {
					request: own2,
					pointer: r2.pointer,
					grantee: signerOf(D),
					shared: sharedKey
				})
			)
		).toBe('box-open');
		// With a wider consent D may fetch r2, but r1's key does not open it.
		const wide = consentForD('all');
		const r2Request = createAccessRequest(
			{
				holder: A.institution.id,
				digest: r2.digest,
				authority: { kind: 'consent', consent: wide },
				time: NOW
			},
			D.secrets.signingKey,
			D.institution.id
		);
		const forD = await answer(r2, r2Request);
		expect(
			await codeOfAsync(
				openGranteeResponse(forD.response, {
					request: r2Request,
					pointer: r2.pointer,
					grantee: signerOf(D),
					shared: sharedKey
				})
			)
		).toBe('envelope-inner');
		// B cannot use the key share: the box is D's.
		expect(await codeOfAsync(openShare(bundle, { grantee: signerOf(B), revocations: [], now: NOW }))).toBe(
			'consent-grantee'
		);
	});

	it('a replayed request is refused when the holder remembers nonces', async () => {
		const master = generateMasterKey();
		const record = await upload(master, SECRET);
		const seen = new Set<string>();
		const remember = (n: Uint8Array) => {
			const key = n.join(',');
			const had = seen.has(key);
			seen.add(key);
			return had;
		};
		const req = requestFor(record, { kind: 'patient' });
		const again = () => answer(record, req, { seen: remember });
		expect(await codeOfAsync(again())).toBe('no error');
		expect(await codeOfAsync(again())).toBe('access-replay');
	});

	it('strict decoding of bundles and responses', () => {
		expect(() => decodeShareBundle(new Uint8Array([0xa0]))).toThrow(
			expect.objectContaining({ code: 'schema' })
		);
		expect(() => decodeAccessResponse(new Uint8Array([0xa1]))).toThrow(
			expect.objectContaining({ code: 'encoding' })
		);
	});
});

describe('A correction travels with its record', () => {
	async function shareWithD(records: Uploaded[]) {
		const consent = consentForD(records.map((r) => r.txId));
		const bundle = await sealShare({
			consent,
			revocations: [],
			now: NOW,
			records: records.map((r) => ({ transactionId: r.txId, header: r.header, content: r.content }))
		});
		return openShare(decodeShareBundle(encodeShareBundle(bundle)), {
			grantee: signerOf(D),
			revocations: [],
			now: NOW
		});
	}

	it('D sees the original marked as replaced by the correction, with who, when and why', async () => {
		const master = generateMasterKey();
		const original = await upload(master, 'Blood pressure 148/95');
		const reason = 'cuff too small; re-measured';
		const corrected = await upload(
			master,
			'Blood pressure 138/88',
			A,
			{ target: original.txId, reason },
			NOW + 60_000
		);
		const chained = chainShared(await shareWithD([original, corrected]));
		const [first, second] = chained;
		expect(first!.replacedBy).toEqual({
			transactionId: corrected.txId,
			holder: A.institution.id,
			authoredAt: NOW + 60_000,
			reason
		});
		expect(first!.corrects).toBeUndefined();
		expect(second!.replacedBy).toBeUndefined();
		expect(second!.corrects).toEqual(original.txId);
	});

	it('the newest of two corrections wins; a correction signed by another clinic replaces nothing', async () => {
		const master = generateMasterKey();
		const original = await upload(master, 'Blood pressure 148/95');
		const later = await upload(master, '138/88', A, { target: original.txId, reason: 'r2' }, NOW + 2);
		const earlier = await upload(master, '140/90', A, { target: original.txId, reason: 'r1' }, NOW + 1);
		const chained = chainShared(await shareWithD([original, later, earlier]));
		expect(chained[0]!.replacedBy?.transactionId).toEqual(later.txId);

		const foreign = await upload(master, '120/80', B, { target: original.txId, reason: 'not mine' });
		const alone = chainShared(await shareWithD([original, foreign]));
		expect(alone[0]!.replacedBy).toBeUndefined();
		expect(alone[1]!.corrects).toBeUndefined();
	});

	it('a record shared under two consents is marked replaced in both copies', async () => {
		const master = generateMasterKey();
		const original = await upload(master, 'Blood pressure 148/95');
		const corrected = await upload(master, '138/88', A, { target: original.txId, reason: 'r' }, NOW + 1);
		const chained = chainShared([
			...(await shareWithD([original])),
			...(await shareWithD([original, corrected]))
		]);
		expect(chained.filter((r) => r.replacedBy).map((r) => r.transactionId)).toEqual([
			original.txId,
			original.txId
		]);
	});

	it('a correction shared without its original is just a record (nothing to mark)', async () => {
		const master = generateMasterKey();
		const original = await upload(master, 'Blood pressure 148/95');
		const corrected = await upload(master, '138/88', A, { target: original.txId, reason: 'r' });
		const chained = chainShared(await shareWithD([corrected]));
		expect(chained).toHaveLength(1);
		expect(chained[0]!.replacedBy).toBeUndefined();
		expect(chained[0]!.corrects).toBeUndefined();
	});
});
