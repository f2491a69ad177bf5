import { bytesToHex as nobleBytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex, fromHex, ownBytes } from './bytes.ts';

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

describe('ownBytes', () => {
	it('copies a view into a larger buffer, so keeping it keeps nothing else', () => {
		const slab = new Uint8Array(8192).fill(7);
		const view = slab.subarray(100, 290);
		const own = ownBytes(view);
		expect(own.buffer.byteLength).toBe(190);
		expect(own).toEqual(view);
		slab.fill(0);
		expect(own[0]).toBe(7);
	});

	it('keeps bytes that already own their whole buffer, as a plain Uint8Array', () => {
		const whole = new Uint8Array([1, 2, 3]);
		const own = ownBytes(whole);
		expect(own.buffer).toBe(whole.buffer);
		expect(Object.getPrototypeOf(own)).toBe(Uint8Array.prototype);
	});
});
