import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { bigIntToBytes, bytesToHex } from './bytes.ts';
import { checkProofOfWork, meetsTarget, powHash, powPreimage, targetToWork } from './pow.ts';

const [prev, penu, key] = [0x11, 0x22, 0x33].map((b) => new Uint8Array(32).fill(b)) as [
	Uint8Array,
	Uint8Array,
	Uint8Array
];

describe('keyblock proof of work', () => {
	it('lays out prev ‖ penu ‖ big-endian nonce ‖ key in 104 bytes and hashes it twice', () => {
		const preimage = powPreimage(prev, penu, 0x0102030405060708n, key);
		expect(preimage.length).toBe(104);
		expect(bytesToHex(preimage.slice(64, 72))).toBe('0102030405060708');
		expect(preimage.slice(0, 32)).toEqual(prev);
		expect(preimage.slice(32, 64)).toEqual(penu);
		expect(preimage.slice(72)).toEqual(key);
		expect(powHash(prev, penu, 0x0102030405060708n, key)).toEqual(sha256(sha256(preimage)));
	});

	it('compares hash and target as big-endian integers, strictly', () => {
		const t = bigIntToBytes(0x0100n, 32);
		expect(meetsTarget(bigIntToBytes(0x00ffn, 32), t)).toBe(true);
		expect(meetsTarget(bigIntToBytes(0x0100n, 32), t)).toBe(false);
		// The most significant byte decides before any later one.
		expect(meetsTarget(bigIntToBytes(1n << 248n, 32), bigIntToBytes((1n << 248n) - 1n, 32))).toBe(false);
	});

	it('gives the expected hashes for a target: 2^256 / (target + 1)', () => {
		expect(targetToWork(bigIntToBytes((1n << 256n) - 1n, 32))).toBe(1n);
		expect(targetToWork(bigIntToBytes((1n << 255n) - 1n, 32))).toBe(2n);
		expect(targetToWork(bigIntToBytes((1n << 236n) - 1n, 32))).toBe(1n << 20n);
	});

	it('rejects a nonce that does not meet the target as keyblock-pow', () => {
		const hash = powHash(prev, penu, 5n, key);
		// A target equal to the nonce's own hash is missed by exactly that nonce; one above is met.
		expect(() => checkProofOfWork(prev, penu, 5n, key, hash)).toThrow(
			expect.objectContaining({ code: 'keyblock-pow' })
		);
		const above = bigIntToBytes(BigInt('0x' + bytesToHex(hash)) + 1n, 32);
		expect(() => checkProofOfWork(prev, penu, 5n, key, above)).not.toThrow();
	});

	it('rejects malformed puzzle fields with ValidationError codes', () => {
		const short = new Uint8Array(31);
		expect(() => powPreimage(short, penu, 0n, key)).toThrow(
			expect.objectContaining({ code: 'pow-field-length' })
		);
		expect(() => powPreimage(prev, penu, 0n, new Uint8Array(33))).toThrow(
			expect.objectContaining({ code: 'pow-field-length' })
		);
		expect(() => powPreimage(prev, penu, -1n, key)).toThrow(
			expect.objectContaining({ code: 'pow-nonce-range' })
		);
		expect(() => powPreimage(prev, penu, 1n << 64n, key)).toThrow(
			expect.objectContaining({ code: 'pow-nonce-range' })
		);
		expect(() => meetsTarget(new Uint8Array(32), short)).toThrow(
			expect.objectContaining({ code: 'pow-field-length' })
		);
	});
});
