import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { nobleBulkSha256 } from '../core/hash.ts';
import { webBulkSha256 } from './sha256.browser.ts';
import { nodeBulkSha256 } from './sha256.node.ts';

/** Lengths around SHA-256's 64-byte block and its padding boundary, and a journal-sized input. */
const LENGTHS = [0, 1, 55, 56, 63, 64, 65, 1000, 68_000, 3_000_001];

function input(length: number, seed: number): Uint8Array {
	const bytes = new Uint8Array(length);
	for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
	return bytes;
}

describe('bulk SHA-256 back ends', () => {
	it.each([nodeBulkSha256, webBulkSha256, nobleBulkSha256])(
		'$name gives @noble/hashes’ digest',
		async (sha) => {
			for (const [seed, length] of LENGTHS.entries()) {
				const data = input(length, seed);
				const digest = await sha.digest(data);
				expect(digest).toBeInstanceOf(Uint8Array);
				expect(digest).toEqual(sha256(data));
			}
			// A view into a larger buffer hashes only its own bytes.
			const whole = input(1000, 9);
			const view = whole.subarray(100, 400);
			expect(await sha.digest(view)).toEqual(sha256(whole.slice(100, 400)));
		}
	);

	it('the digests differ when one bit of the input does', async () => {
		const data = input(4096, 3);
		const flipped = Uint8Array.from(data);
		flipped[2048]! ^= 1;
		for (const sha of [nodeBulkSha256, webBulkSha256])
			expect(await sha.digest(flipped)).not.toEqual(await sha.digest(data));
	});
});
