import { describe, expect, it } from 'vitest';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { messageFromDigest } from '../core/chameleon.ts';
import { signTransaction, checkTransaction, transactionId, type MedicalBody } from '../core/transaction.ts';
import { clinics, patientKeys } from '../../../tests/fixtures/chain.ts';
import { openBox } from './aead.ts';
import { containsBytes, encodeHeader, generateMasterKey } from './envelope.ts';
import { recordFromForm } from './fhir.ts';
import { codeOfAsync, holderKeys, signerOf } from '../../../tests/fixtures/records.ts';
import {
	acceptRecordKey,
	decodeRecordKeyGrant,
	decodeUploadReview,
	encodeRecordKeyGrant,
	encodeUploadReview,
	grantRecordKey,
	openUploadReview,
	reviewUpload,
	sealResource
} from './upload.ts';

const alice = patientKeys('alice');
const bob = patientKeys('bob');
const A = clinics[0]!;
const B = clinics[1]!;
const NOW = Date.UTC(2026, 10, 24, 12);

describe('Upload between the patient device and the clinic', () => {
	it('grant → seal → review → the patient signs a medical transaction pointing at the ciphertext', async () => {
		const master = generateMasterKey();
		const grant = decodeRecordKeyGrant(
			encodeRecordKeyGrant(await grantRecordKey(master, alice, A.institution.id))
		);
		const { header, key } = await acceptRecordKey(grant, signerOf(A));
		const resource = recordFromForm(
			'Condition',
			{ patient: 'spp1alice', code: 'Seasonal influenza' },
			new Date(NOW)
		);
		const sealed = await sealResource({ resource, header, recordKey: key, holder: holderKeys(A), now: NOW });
		expect(containsBytes(sealed.bytes, utf8ToBytes('Seasonal influenza'))).toBe(false);

		const review = decodeUploadReview(encodeUploadReview(await reviewUpload(sealed.bytes, holderKeys(A))));
		const seen = await openUploadReview(review, {
			patient: alice,
			masterKey: master,
			holder: A.institution.id
		});
		expect(seen.digest).toEqual(sealed.digest);
		expect(seen.resource).toEqual(resource);

		const body: MedicalBody = {
			kind: 'medical',
			patient: alice.publicKey,
			institution: A.institution.id,
			round: 3,
			fees: { service: 1, transaction: 1 },
			record: {
				chameleon: { h: new Uint8Array(32), proof: new Uint8Array(256).fill(1) },
				pointer: { digest: seen.digest, holder: A.institution.id }
			}
		};
		const tx = signTransaction(body, alice.secretKey);
		const fees = { register: body.fees, medical: body.fees, label: body.fees };
		expect(() => checkTransaction(tx, fees)).not.toThrow();
		expect(transactionId(body)).toHaveLength(32);
		expect(messageFromDigest(tx.body.record.pointer.digest)).toBe(messageFromDigest(sealed.digest));
	});

	it('Label: the corrected record is a new envelope carrying the target and the reason', async () => {
		const master = generateMasterKey();
		const { header, key } = await acceptRecordKey(
			await grantRecordKey(master, alice, A.institution.id),
			signerOf(A)
		);
		const corrected = recordFromForm(
			'Condition',
			{ patient: 'spp1alice', code: 'Common cold' },
			new Date(NOW)
		);
		const target = new Uint8Array(32).fill(9);
		const sealed = await sealResource({
			resource: corrected,
			header,
			recordKey: key,
			holder: holderKeys(A),
			now: NOW,
			correction: { target, reason: 'Influenza test was a false positive' }
		});
		const seen = await openUploadReview(await reviewUpload(sealed.bytes, holderKeys(A)), {
			patient: alice,
			masterKey: master,
			holder: A.institution.id
		});
		expect(seen.content.correction).toEqual({ target, reason: 'Influenza test was a false positive' });
		expect(seen.resource).toEqual(corrected);
	});

	it('a grant is for one clinic, from the patient it names', async () => {
		const master = generateMasterKey();
		const grant = await grantRecordKey(master, alice, A.institution.id);
		expect(await codeOfAsync(acceptRecordKey(grant, signerOf(B)))).toBe('grant-holder');
		// B rewrites the grant to itself: the patient's signature no longer holds.
		const stolen = { ...grant, header: { ...grant.header, holder: B.institution.id } };
		expect(await codeOfAsync(acceptRecordKey(stolen, signerOf(B)))).toBe('grant-signature');
		// A grant claiming to come from Alice but signed by Bob.
		const forged = { ...(await grantRecordKey(master, bob, A.institution.id)) };
		forged.header = { ...forged.header, patient: alice.publicKey };
		expect(await codeOfAsync(acceptRecordKey(forged, signerOf(A)))).toBe('grant-signature');
		// B cannot open A's key box even with the right associated data.
		expect(
			await codeOfAsync(
				openBox(grant.key, B.secrets.signingKey, B.institution.id, 'record-key', encodeHeader(grant.header))
			)
		).toBe('box-open');
	});

	it('the clinic refuses an invalid resource; another patient cannot open the review', async () => {
		const master = generateMasterKey();
		const { header, key } = await acceptRecordKey(
			await grantRecordKey(master, alice, A.institution.id),
			signerOf(A)
		);
		const bad = { resourceType: 'Observation', status: 'final' } as never;
		expect(
			await codeOfAsync(
				sealResource({ resource: bad, header, recordKey: key, holder: holderKeys(A), now: NOW })
			)
		).toBe('fhir');
		expect(
			await codeOfAsync(
				sealResource({ resource: bad, header, recordKey: key, holder: holderKeys(B), now: NOW })
			)
		).toBe('grant-holder');
		const resource = recordFromForm('Observation', {
			patient: 'spp1alice',
			code: 'Weight',
			value: 70,
			unit: 'kg'
		});
		const sealed = await sealResource({ resource, header, recordKey: key, holder: holderKeys(A), now: NOW });
		const review = await reviewUpload(sealed.bytes, holderKeys(A));
		expect(
			await codeOfAsync(
				openUploadReview(review, { patient: bob, masterKey: master, holder: A.institution.id })
			)
		).toBe('box-open');
		expect(
			await codeOfAsync(
				openUploadReview(review, { patient: alice, masterKey: master, holder: B.institution.id })
			)
		).toBe('envelope-holder');
		expect(
			await codeOfAsync(
				openUploadReview(review, { patient: alice, masterKey: generateMasterKey(), holder: A.institution.id })
			)
		).toBe('envelope-inner');
		expect(await codeOfAsync(reviewUpload(sealed.bytes, holderKeys(B)))).toBe('grant-holder');
	});
});
