import { describe, expect, it } from 'vitest';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { generateSigningKey } from '../core/identity.ts';
import { aesGcmDecrypt, aesGcmEncrypt, openBox, randomIv, sealTo } from './aead.ts';
import { codeOfAsync } from '../../../tests/fixtures/records.ts';

const message = utf8ToBytes('record key or record content');
const aad = utf8ToBytes('bound context');

describe('sealed boxes to BIP-340 identities', () => {
	it('open for the recipient whatever the parity of its secret key', async () => {
		let odd = 0;
		for (let i = 0; i < 16; i++) {
			const key = generateSigningKey();
			// BIP-340 keys are x-only: about half the secret keys have an odd-y point.
			if (secp256k1.getPublicKey(key.secretKey, true)[0] === 3) odd++;
			const box = await sealTo(key.publicKey, message, 'test', aad);
			expect(await openBox(box, key.secretKey, key.publicKey, 'test', aad)).toEqual(message);
		}
		expect(odd).toBeGreaterThan(0);
	});

	it('refuses another key, purpose or context, a changed byte, an invalid one-time key or recipient', async () => {
		const alice = generateSigningKey();
		const eve = generateSigningKey();
		const box = await sealTo(alice.publicKey, message, 'test', aad);
		expect(await codeOfAsync(openBox(box, eve.secretKey, eve.publicKey, 'test', aad))).toBe('box-open');
		expect(await codeOfAsync(openBox(box, eve.secretKey, alice.publicKey, 'test', aad))).toBe('box-open');
		expect(await codeOfAsync(openBox(box, alice.secretKey, alice.publicKey, 'other', aad))).toBe('box-open');
		expect(await codeOfAsync(openBox(box, alice.secretKey, alice.publicKey, 'test', utf8ToBytes('x')))).toBe(
			'box-open'
		);
		const ct = box.ciphertext.slice();
		ct[0]! ^= 1;
		expect(
			await codeOfAsync(openBox({ ...box, ciphertext: ct }, alice.secretKey, alice.publicKey, 'test', aad))
		).toBe('box-open');
		const badPoint = new Uint8Array(33).fill(0xff);
		expect(
			await codeOfAsync(
				openBox({ ...box, ephemeral: badPoint }, alice.secretKey, alice.publicKey, 'test', aad)
			)
		).toBe('box-open');
		expect(await codeOfAsync(sealTo(new Uint8Array(32), message, 'test', aad))).toBe('box-recipient');
	});

	it('AES-GCM: wrong key length and tampered associated data are refused', async () => {
		const key = new Uint8Array(32).fill(1);
		const iv = randomIv();
		const ct = await aesGcmEncrypt(key, iv, message, aad);
		expect(await aesGcmDecrypt(key, iv, ct, aad, 'box-open', 'm')).toEqual(message);
		expect(await codeOfAsync(aesGcmDecrypt(key, iv, ct, message, 'box-open', 'm'))).toBe('box-open');
		expect(await codeOfAsync(aesGcmEncrypt(new Uint8Array(16), iv, message, aad))).toBe('aead-key');
	});
});
