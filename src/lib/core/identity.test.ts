import { describe, expect, it } from 'vitest';
import {
	addressOf,
	generateSigningKey,
	signingKeyFromSecret,
	isValidPublicKey,
	parseAddress,
	sign,
	verifySignature
} from './identity.ts';
import { fromHex } from './bytes.ts';

describe('identities', () => {
	// BIP-340 test vector 0 (secret key 3).
	it('matches the BIP-340 test vector', () => {
		const sk = fromHex('0000000000000000000000000000000000000000000000000000000000000003');
		const { publicKey } = signingKeyFromSecret(sk);
		expect(Buffer.from(publicKey).toString('hex').toUpperCase()).toBe(
			'F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9'
		);
		const digest = new Uint8Array(32);
		const vectorSig = fromHex(
			'E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA821525F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0'
		);
		expect(verifySignature(publicKey, digest, vectorSig)).toBe(true);
	});

	it('signs and verifies, and rejects a signature by another key or over another message', () => {
		const a = generateSigningKey();
		const b = generateSigningKey();
		const digest = new Uint8Array(32).fill(7);
		const signature = sign(a.secretKey, digest);
		expect(verifySignature(a.publicKey, digest, signature)).toBe(true);
		expect(verifySignature(b.publicKey, digest, signature)).toBe(false);
		expect(verifySignature(a.publicKey, new Uint8Array(32), signature)).toBe(false);
		expect(verifySignature(a.publicKey, digest, signature.slice(1))).toBe(false);
	});

	it('round-trips addresses and refuses wrong roles, typos and invalid keys', () => {
		const { publicKey } = generateSigningKey();
		const address = addressOf(publicKey, 'patient');
		expect(address.startsWith('spp1')).toBe(true);
		expect(parseAddress(address, 'patient')).toEqual(publicKey);
		expect(parseAddress(address.toUpperCase(), 'patient')).toEqual(publicKey);
		expect(() => parseAddress(address, 'institution')).toThrow(expect.objectContaining({ code: 'address' }));
		expect(() => parseAddress('not an address', 'patient')).toThrow(
			expect.objectContaining({ code: 'address' })
		);
		const typo = address.slice(0, 10) + (address[10] === 'q' ? 'p' : 'q') + address.slice(11);
		expect(() => parseAddress(typo, 'patient')).toThrow(/checksum/);
		// x = 5 is not the x-coordinate of a point on secp256k1.
		const invalid = new Uint8Array(32);
		invalid[31] = 5;
		expect(isValidPublicKey(invalid)).toBe(false);
		expect(() => parseAddress(addressOf(invalid, 'patient'), 'patient')).toThrow(/valid public key/);
	});
});
