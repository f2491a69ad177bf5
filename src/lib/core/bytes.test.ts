import { bytesToHex as nobleBytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex, fromHex } from './bytes.ts';

describe('bytesToHex', () => {
	it('gives @noble’s lowercase hex for every byte value and for lengths past its scratch buffer', () => {
		const all = Uint8Array.from({ length: 256 }, (_, i) => i);
		expect(bytesToHex(all)).toBe(nobleBytesToHex(all));
		for (const length of [0, 1, 31, 32, 33, 511, 512, 513, 2000]) {
			const bytes = crypto.getRandomValues(new Uint8Array(length));
			expect(bytesToHex(bytes)).toBe(nobleBytesToHex(bytes));
			expect(fromHex(bytesToHex(bytes), length)).toEqual(bytes);
		}
		// A view hashes only its own bytes, and a long one does not leave digits behind for a short one.
		const whole = Uint8Array.from({ length: 40 }, (_, i) => 255 - i);
		expect(bytesToHex(whole.subarray(4, 6))).toBe('fbfa');
		expect(bytesToHex(new Uint8Array([0x0a]))).toBe('0a');
	});

	it('refuses what is not bytes', () => {
		expect(() => bytesToHex([1, 2] as unknown as Uint8Array)).toThrow();
	});
});
