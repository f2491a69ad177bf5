/**
 * The patient's signing desk with the real upload flow (records/upload.ts: grant, seal, review) and no
 * network: the clinic's side is played with the same functions the clinic's record writer calls.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, type Bytes } from '../../core/bytes.ts';
import { checkTransaction, transactionId, type LabelBody, type MedicalBody } from '../../core/transaction.ts';
import { generateMasterKey, type RecordContent, type RecordHeader } from '../../records/envelope.ts';
import { recordFromForm, type RecordResource } from '../../records/fhir.ts';
import { acceptRecordKey, reviewUpload, sealResource } from '../../records/upload.ts';
import { clinics, patientKeys, testGenesis } from '../../../../tests/fixtures/chain.ts';
import { holderKeys, signerOf } from '../../../../tests/fixtures/records.ts';
import type { SignReply } from '../wire.ts';
import { SigningDesk } from './signing-desk.ts';

const alice = patientKeys('alice');
const A = clinics[0]!;
const genesis = testGenesis();
const NOW = Date.UTC(2026, 10, 24, 12);
const bloodPressure = recordFromForm(
	'Observation',
	{ patient: 'spp1alice', code: 'Blood pressure', value: 142, unit: 'mm[Hg]' },
	new Date(NOW)
);

function setup(original?: { header: RecordHeader; content: RecordContent }) {
	const masterKey = generateMasterKey();
	const kept = new Map<string, RecordContent>();
	let changes = 0;
	const desk = new SigningDesk({
		patient: alice,
		masterKey,
		genesis,
		clock: () => NOW,
		original: async () => {
			if (!original) throw new Error('not fetched');
			return original;
		},
		keep: async (id, record) => void kept.set(bytesToHex(id), record.content),
		changed: () => changes++
	});
	return { desk, kept, masterKey, changes: () => changes };
}

/** The clinic's side: a key from the desk, the resource sealed, a body pointing at it and its review. */
async function clinicSeals(
	desk: SigningDesk,
	resource: RecordResource,
	label?: { target: Bytes; reason: string }
) {
	const { header, key } = await acceptRecordKey(await desk.grant(A.institution.id), signerOf(A));
	const sealed = await sealResource({
		resource,
		header,
		recordKey: key,
		holder: holderKeys(A),
		now: NOW,
		correction: label
	});
	const common = {
		patient: alice.publicKey,
		institution: A.institution.id,
		round: 3,
		record: {
			chameleon: { h: new Uint8Array(32), proof: new Uint8Array(256).fill(1) },
			pointer: { digest: sealed.digest, holder: A.institution.id }
		}
	};
	const body: MedicalBody | LabelBody = label
		? { ...common, kind: 'label', fees: genesis.fees.label, target: label.target }
		: { ...common, kind: 'medical', fees: genesis.fees.medical };
	return { body, review: await reviewUpload(sealed.bytes, holderKeys(A)), sealed, header };
}

/** Waits until the desk lists a request (the reply promise stays open until the patient decides). */
async function listed(desk: SigningDesk) {
	await expect.poll(() => desk.requests().length).toBe(1);
	return desk.requests()[0]!;
}

describe('the signing desk', () => {
	it('shows the decrypted record before signing, and signs exactly the reviewed transaction', async () => {
		const { desk, kept } = setup();
		const { body, review } = await clinicSeals(desk, bloodPressure);
		const reply = desk.receive({ body, review }, A.institution.id);
		const request = await listed(desk);
		expect(request.kind).toBe('medical');
		expect(request.institution.name).toBe(A.institution.name);
		expect(request.record).toEqual(bloodPressure);
		expect(JSON.stringify(request.record)).toContain('mm[Hg]');
		await desk.approve(request.id);
		const answer = (await reply) as Extract<SignReply, { signed: true }>;
		expect(answer.signed).toBe(true);
		// A signature of this very body: the chain's own check accepts it.
		expect(() => checkTransaction({ body, signature: answer.signature }, genesis.fees)).not.toThrow();
		// The device keeps the record it showed, under the transaction's id.
		expect(JSON.parse(kept.get(bytesToHex(transactionId(body)))!.resource)).toEqual(bloodPressure);
		expect(desk.requests()).toEqual([]);
	});

	it('catches a clinic that shows one record and points the transaction at other bytes', async () => {
		const { desk } = setup();
		const shown = await clinicSeals(desk, bloodPressure);
		const other = await clinicSeals(
			desk,
			recordFromForm('Condition', { patient: 'spp1alice', code: 'Something else' }, new Date(NOW))
		);
		// The review opens the first record; the body points at the second one's ciphertext.
		const reply = await desk.receive({ body: other.body, review: shown.review }, A.institution.id);
		expect(reply).toEqual({
			signed: false,
			reason: 'The transaction points at other bytes than the record sent for review.'
		});
		expect(desk.requests()).toEqual([]);
	});

	it('refuses a review whose bytes were changed, and one from another institution, before asking', async () => {
		const { desk } = setup();
		const { body, review } = await clinicSeals(desk, bloodPressure);
		const flipped = review.sealed.slice();
		flipped[flipped.length - 1]! ^= 1;
		const tampered = await desk.receive({ body, review: { ...review, sealed: flipped } }, A.institution.id);
		expect(tampered).toMatchObject({
			signed: false,
			reason: expect.stringMatching(/^The record does not open/)
		});
		const elsewhere = await desk.receive({ body, review }, clinics[1]!.institution.id);
		expect(elsewhere.signed).toBe(false);
		expect(desk.requests()).toEqual([]);
	});

	it('declines with the reason the clinic is sent, and asks for a reason when there is none', async () => {
		const { desk, kept } = setup();
		const { body, review } = await clinicSeals(desk, bloodPressure);
		const reply = desk.receive({ body, review }, A.institution.id);
		const request = await listed(desk);
		await expect(desk.decline(request.id, '   ')).rejects.toMatchObject({ code: 'decline-reason' });
		await desk.decline(request.id, 'The value is from another visit');
		expect(await reply).toEqual({ signed: false, reason: 'The value is from another visit' });
		expect(kept.size).toBe(0);
		await expect(desk.approve(request.id)).rejects.toMatchObject({ code: 'request-gone' });
	});

	it('a correction shows the original beside the corrected record and the signed reason', async () => {
		const first = setup();
		const original = await clinicSeals(first.desk, bloodPressure);
		const target = transactionId(original.body);
		const originalContent = {
			header: original.header,
			content: {
				resource: JSON.stringify(bloodPressure),
				authoredAt: NOW,
				signature: new Uint8Array(64)
			}
		};
		const { desk } = setup(originalContent);
		const corrected = recordFromForm(
			'Observation',
			{ patient: 'spp1alice', code: 'Blood pressure', value: 124, unit: 'mm[Hg]' },
			new Date(NOW)
		);
		const reason = 'The first reading was taken right after exercise';
		const { body, review } = await clinicSeals(desk, corrected, { target, reason });
		void desk.receive({ body, review }, A.institution.id);
		const request = await listed(desk);
		expect(request).toMatchObject({ kind: 'label', reason, target: bytesToHex(target) });
		expect(request.original).toEqual(bloodPressure);
		expect(request.record).toEqual(corrected);

		// A label body whose corrected record names another target is refused.
		const wrong = await clinicSeals(desk, corrected, { target: new Uint8Array(32).fill(7), reason });
		const refused = await desk.receive(
			{ body: { ...wrong.body, target } as LabelBody, review: wrong.review },
			A.institution.id
		);
		expect(refused).toEqual({
			signed: false,
			reason: 'The corrected record names another record than the label transaction.'
		});
	});
});
