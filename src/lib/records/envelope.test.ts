import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { ValidationError } from '../core/errors.ts';
import { messageFromDigest } from '../core/chameleon.ts';
import { clinics, patientKeys } from '../../../tests/fixtures/chain.ts';
import {
	checkRecordContent,
	containsBytes,
	decodeRecordContent,
	encodeRecordContent,
	contentAddress,
	decodeSealedRecord,
	deriveOuterKey,
	deriveRecordKey,
	deriveStorageKey,
	encodeSealedRecord,
	generateMasterKey,
	issueRecordKey,
	openInner,
	openOuter,
	openRecord,
	pad,
	sealRecord,
	signRecordContent,
	unpad,
	type RecordContent
} from './envelope.ts';
import { aesGcmEncrypt, randomIv } from './aead.ts';
import { encodeCanonical } from '../core/encoding.ts';
import { codeOfAsync } from '../../../tests/fixtures/records.ts';

const alice = patientKeys('alice');
const bob = patientKeys('bob');
const A = clinics[0]!;
const B = clinics[1]!;
const NOW = Date.UTC(2026, 10, 24, 12);
const SECRET_TEXT = 'Influenza A confirmed by PCR; oseltamivir 75 mg twice daily';
const resource = JSON.stringify({
	resourceType: 'Condition',
	subject: { reference: 'Patient/alice' },
	code: { text: SECRET_TEXT }
});

async function upload(master = generateMasterKey(), patient = alice, clinic = A) {
	// Patient device: a fresh record nonce and its key, handed to the clinic.
	const { header, key } = issueRecordKey(master, patient.publicKey, clinic.institution.id);
	// Clinic: signs its content and seals both layers.
	const content = signRecordContent(header, { resource, authoredAt: NOW }, clinic.secrets.signingKey);
	const storageKey = deriveStorageKey(clinic.secrets.signingKey);
	const sealed = await sealRecord(header, key, storageKey, content);
	return { master, header, key, content, storageKey, ...sealed };
}

describe('record envelope E_M(E_P(EMR))', () => {
	it('round-trips with both keys and checks the author and the content address', async () => {
		const u = await upload();
		expect(u.digest).toEqual(contentAddress(u.bytes));
		expect(messageFromDigest(u.digest)).toBeTypeOf('bigint');
		expect(decodeSealedRecord(u.bytes)).toEqual(u.sealed);
		expect(encodeSealedRecord(decodeSealedRecord(u.bytes))).toEqual(u.bytes);
		// The patient re-derives k_P from the master key and the cleartext header alone.
		expect(deriveRecordKey(u.master, decodeSealedRecord(u.bytes))).toEqual(u.key);
		const opened = await openRecord(
			u.bytes,
			{ outerKey: deriveOuterKey(u.storageKey, u.header), recordKey: u.key },
			{ digest: u.digest, patient: alice.publicKey, holder: A.institution.id }
		);
		expect(opened.content).toEqual(u.content);
		expect(JSON.parse(opened.content.resource).code.text).toBe(SECRET_TEXT);
	});

	it('ciphertext at rest never contains the plaintext (nor the inner layer)', async () => {
		const u = await upload();
		expect(containsBytes(u.bytes, utf8ToBytes(SECRET_TEXT))).toBe(false);
		expect(containsBytes(u.bytes, utf8ToBytes('Influenza'))).toBe(false);
		expect(containsBytes(u.bytes, utf8ToBytes('Condition'))).toBe(false);
		const inner = await openOuter(u.sealed, deriveOuterKey(u.storageKey, u.header));
		expect(containsBytes(inner.ciphertext, utf8ToBytes('Influenza'))).toBe(false);
		// The same content sealed twice gives unrelated ciphertexts (fresh nonce, keys and IVs).
		const again = await sealRecord(u.header, u.key, u.storageKey, u.content);
		expect(again.digest).not.toEqual(u.digest);
	});

	it('each layer needs its own key: the holder alone, the patient alone, or B cannot read it', async () => {
		const u = await upload();
		const outerKey = deriveOuterKey(u.storageKey, u.header);
		// Holder layer removed, but without k_P (e.g. by another clinic with A's storage, or a curious relay).
		const inner = await openOuter(u.sealed, outerKey);
		expect(
			await codeOfAsync(openInner(u.header, inner, deriveRecordKey(generateMasterKey(), u.header)))
		).toBe('envelope-inner');
		// The patient without the holder's layer key.
		const patientOnly = deriveOuterKey(u.master, u.header);
		expect(await codeOfAsync(openOuter(u.sealed, patientOnly))).toBe('envelope-outer');
		// Clinic B with its own storage key.
		const bStorage = deriveStorageKey(B.secrets.signingKey);
		expect(await codeOfAsync(openOuter(u.sealed, deriveOuterKey(bStorage, u.header)))).toBe('envelope-outer');
		// Another record's outer key of the same holder does not open this one.
		const other = await upload(u.master);
		expect(await codeOfAsync(openOuter(u.sealed, deriveOuterKey(u.storageKey, other.header)))).toBe(
			'envelope-outer'
		);
	});

	it('k_P is per record, per patient, per holder', () => {
		const master = generateMasterKey();
		const one = issueRecordKey(master, alice.publicKey, A.institution.id);
		const two = issueRecordKey(master, alice.publicKey, A.institution.id);
		expect(one.key).not.toEqual(two.key);
		expect(deriveRecordKey(master, { ...one.header, holder: B.institution.id })).not.toEqual(one.key);
		expect(deriveRecordKey(master, { ...one.header, patient: bob.publicKey })).not.toEqual(one.key);
	});

	it('tampering is detected: a flipped ciphertext bit, a swapped header, the wrong digest, a forged author', async () => {
		const u = await upload();
		const keys = { outerKey: deriveOuterKey(u.storageKey, u.header), recordKey: u.key };
		const flipped = { ...u.sealed, ciphertext: u.sealed.ciphertext.slice() };
		flipped.ciphertext[40]! ^= 1;
		expect(await codeOfAsync(openRecord(encodeSealedRecord(flipped), keys))).toBe('envelope-outer');
		expect(await codeOfAsync(openRecord(encodeSealedRecord(flipped), keys, { digest: u.digest }))).toBe(
			'envelope-digest'
		);
		// Moving the ciphertext under another patient's header: the associated data no longer matches.
		const moved = { ...u.sealed, patient: bob.publicKey };
		expect(await codeOfAsync(openOuter(moved, keys.outerKey))).toBe('envelope-outer');
		// A truncated or non-canonical encoding is refused before decryption.
		expect(await codeOfAsync(openRecord(u.bytes.slice(0, -1), keys))).toBe('encoding');
		// The holder seals content it did not sign, or content signed by B: the author check fails.
		const forged: RecordContent = signRecordContent(
			u.header,
			{ resource: resource.replace('PCR', 'rapid test'), authoredAt: NOW },
			B.secrets.signingKey
		);
		const sealedForged = await sealRecord(u.header, u.key, u.storageKey, forged);
		expect(await codeOfAsync(openRecord(sealedForged.bytes, keys))).toBe('record-author');
		// Expectations about whose record it is.
		expect(await codeOfAsync(openRecord(u.bytes, keys, { patient: bob.publicKey }))).toBe('envelope-patient');
		expect(await codeOfAsync(openRecord(u.bytes, keys, { holder: B.institution.id }))).toBe(
			'envelope-holder'
		);
	});

	it('the inner layer binds its header too (a holder cannot move E_P between records)', async () => {
		const u = await upload();
		const other = await upload(u.master);
		const inner = await openOuter(u.sealed, deriveOuterKey(u.storageKey, u.header));
		// Opening A's inner ciphertext as if it were the other record fails even with that record's key.
		expect(await codeOfAsync(openInner(other.header, inner, other.key))).toBe('envelope-inner');
	});

	it('a corrected record carries its target and reason under the author signature', async () => {
		const u = await upload();
		const target = new Uint8Array(32).fill(7);
		const { header, key } = issueRecordKey(u.master, alice.publicKey, A.institution.id);
		const correction = { target, reason: 'PCR was for another patient; influenza ruled out' };
		const content = signRecordContent(
			header,
			{
				resource: resource.replace('Influenza A confirmed', 'Influenza ruled out'),
				authoredAt: NOW + 1,
				correction
			},
			A.secrets.signingKey
		);
		const sealed = await sealRecord(header, key, u.storageKey, content);
		const opened = await openRecord(sealed.bytes, {
			outerKey: deriveOuterKey(u.storageKey, header),
			recordKey: key
		});
		expect(opened.content.correction).toEqual(correction);
		expect(decodeRecordContent(encodeRecordContent(content))).toEqual(content);
		// Changing the reason, or dropping the correction, breaks the author signature.
		expect(() => checkRecordContent(header, { ...content, correction: { target, reason: 'typo' } })).toThrow(
			expect.objectContaining({ code: 'record-author' })
		);
		const { correction: _dropped, ...plain } = content;
		expect(() => checkRecordContent(header, plain)).toThrow(
			expect.objectContaining({ code: 'record-author' })
		);
		expect(() =>
			signRecordContent(
				header,
				{ resource, authoredAt: NOW, correction: { target, reason: ' ' } },
				A.secrets.signingKey
			)
		).toThrow(expect.objectContaining({ code: 'record-correction' }));
		expect(() =>
			signRecordContent(
				header,
				{ resource, authoredAt: NOW, correction: { target: target.slice(1), reason: 'x' } },
				A.secrets.signingKey
			)
		).toThrow(expect.objectContaining({ code: 'record-correction' }));
	});

	it('padding hides the exact size and is checked', async () => {
		expect(pad(new Uint8Array(0)).length).toBe(256);
		expect(pad(new Uint8Array(255)).length).toBe(256);
		expect(pad(new Uint8Array(256)).length).toBe(512);
		const data = utf8ToBytes('hello');
		expect(unpad(pad(data))).toEqual(data);
		expect(() => unpad(new Uint8Array(256))).toThrow(expect.objectContaining({ code: 'envelope-padding' }));
		const a = await upload();
		const short = await sealRecord(a.header, a.key, a.storageKey, { ...a.content, resource: 'x' });
		expect(short.sealed.ciphertext.length).toBe(a.sealed.ciphertext.length);
		// A well-keyed inner layer whose plaintext is not padded is refused.
		const iv = randomIv();
		const bad = await aesGcmEncrypt(
			a.key,
			iv,
			new Uint8Array(256),
			encodeCanonical({
				layer: 'inner',
				v: 1,
				patient: a.header.patient,
				holder: a.header.holder,
				record: a.header.record
			})
		);
		expect(await codeOfAsync(openInner(a.header, { iv, ciphertext: bad }, a.key))).toBe('envelope-padding');
	});

	it('strict decoding of stored bytes', () => {
		expect(() => decodeSealedRecord(encodeCanonical({ v: 2 }))).toThrow(ValidationError);
		expect(() => decodeSealedRecord(new Uint8Array([0xff]))).toThrow(
			expect.objectContaining({ code: 'encoding' })
		);
		expect(() =>
			decodeSealedRecord(
				encodeCanonical({
					v: 1,
					patient: alice.publicKey,
					holder: A.institution.id,
					record: new Uint8Array(31),
					iv: new Uint8Array(12),
					ciphertext: new Uint8Array(32)
				})
			)
		).toThrow(expect.objectContaining({ code: 'schema' }));
	});

	it('property: any content round-trips; any single-byte change of the stored bytes is refused', async () => {
		const master = generateMasterKey();
		const storageKey = deriveStorageKey(A.secrets.signingKey);
		await fc.assert(
			fc.asyncProperty(
				fc.string({ maxLength: 2000 }),
				fc.nat(),
				fc.integer({ min: 1, max: 255 }),
				async (text, at, flip) => {
					const { header, key } = issueRecordKey(master, alice.publicKey, A.institution.id);
					const content = signRecordContent(
						header,
						{ resource: text, authoredAt: NOW },
						A.secrets.signingKey
					);
					const { bytes, digest } = await sealRecord(header, key, storageKey, content);
					const keys = { outerKey: deriveOuterKey(storageKey, header), recordKey: key };
					expect((await openRecord(bytes, keys, { digest })).content).toEqual(content);
					const changed = bytes.slice();
					changed[at % bytes.length]! ^= flip;
					// Without the pointer check, decoding or decryption must still refuse (never other content).
					expect(await codeOfAsync(openRecord(changed, keys))).not.toBe('no error');
					expect(await codeOfAsync(openRecord(changed, keys, { digest }))).toBe('envelope-digest');
				}
			),
			{ numRuns: 60 }
		);
	});
});
