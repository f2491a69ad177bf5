import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bigIntToBytes } from '../core/bytes.ts';
import { meetsTarget, powHash } from '../core/pow.ts';
import { MiningKernel, simdSupported, type SearchResult } from './kernel.ts';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const header = fc.record({
	prev: bytes(32),
	penu: bytes(32),
	key: bytes(32),
	nonce: fc.bigInt(0n, (1n << 64n) - 4n)
});
const prefixOf = (prev: Uint8Array, penu: Uint8Array) => new Uint8Array([...prev, ...penu]);
const MAX_TARGET = new Uint8Array(32).fill(0xff);
const kernels = [true, false].map((simd) => ({ simd, load: () => MiningKernel.load({ simd }) }));

/** The first nonce from 0 whose reference SHA-256d meets `target`. */
function referenceFirst(prev: Uint8Array, penu: Uint8Array, key: Uint8Array, target: Uint8Array): bigint {
	for (let nonce = 0n; ; nonce++) if (meetsTarget(powHash(prev, penu, nonce, key), target)) return nonce;
}

/** What `search` must return for start .. start + count − 1, by the reference SHA-256d. */
function referenceSearch(
	job: { prev: Uint8Array; penu: Uint8Array; key: Uint8Array },
	target: Uint8Array,
	start: bigint,
	count: number
): SearchResult {
	for (let i = 0; i < count; i++)
		if (meetsTarget(powHash(job.prev, job.penu, start + BigInt(i), job.key), target))
			return { nonce: start + BigInt(i), hashesDone: i + 1 };
	return { nonce: null, hashesDone: count };
}

/** A winning nonce from `from` on with no other winner among the `gap` nonces before it. */
function isolatedWinner(
	job: { prev: Uint8Array; penu: Uint8Array; key: Uint8Array },
	target: Uint8Array,
	gap: number,
	from: bigint
): bigint {
	let last = from - 1n;
	for (let nonce = from; ; nonce++) {
		if (!meetsTarget(powHash(job.prev, job.penu, nonce, job.key), target)) continue;
		if (nonce - last > BigInt(gap)) return nonce;
		last = nonce;
	}
}

describe('mining kernel', () => {
	it('has SIMD in this Node (so both paths are exercised here)', () => {
		expect(simdSupported()).toBe(true);
	});

	it.each(kernels)(
		'scalar path of the simd=$simd binary agrees with the reference SHA-256d',
		async ({ load }) => {
			const kernel = await load();
			fc.assert(
				fc.property(header, ({ prev, penu, key, nonce }) => {
					kernel.setJob({ prefix64: prefixOf(prev, penu), minerKey: key, target: MAX_TARGET });
					expect(kernel.hashScalar(nonce)).toEqual(powHash(prev, penu, nonce, key));
				}),
				{ numRuns: 300 }
			);
		}
	);

	it('SIMD path agrees with the reference in all four lanes', async () => {
		const kernel = await MiningKernel.load({ simd: true });
		expect(kernel.simd).toBe(true);
		fc.assert(
			fc.property(header, ({ prev, penu, key, nonce }) => {
				// Lanes take consecutive low words under one high word.
				const base = nonce & ~0xffffffffn;
				const lo = nonce & 0xfffffffcn;
				kernel.setJob({ prefix64: prefixOf(prev, penu), minerKey: key, target: MAX_TARGET });
				const lanes = kernel.hashSimd(base | lo);
				lanes.forEach((hash, i) => expect(hash).toEqual(powHash(prev, penu, (base | lo) + BigInt(i), key)));
			}),
			{ numRuns: 300 }
		);
	});

	it.each(kernels)('search (simd=$simd) finds the first nonce meeting the target', async ({ load }) => {
		const kernel = await load();
		const target = bigIntToBytes(1n << 248n, 32); // about 1 in 256 hashes
		fc.assert(
			fc.property(bytes(32), bytes(32), bytes(32), (prev, penu, key) => {
				kernel.setJob({ prefix64: prefixOf(prev, penu), minerKey: key, target });
				const expected = referenceFirst(prev, penu, key, target);
				expect(kernel.search(0n, 100_000)).toEqual({ nonce: expected, hashesDone: Number(expected) + 1 });
			}),
			{ numRuns: 20 }
		);
	});

	it.each(kernels)('search (simd=$simd) compares all 256 bits, not only the first word', async ({ load }) => {
		const kernel = await load();
		const [prev, penu, key] = [1, 2, 3].map((b) => new Uint8Array(32).fill(b)) as [
			Uint8Array,
			Uint8Array,
			Uint8Array
		];
		// Target = the hash of nonce 7 itself: no nonce with an equal first word may pass unless truly lower.
		const target = powHash(prev, penu, 7n, key);
		kernel.setJob({ prefix64: prefixOf(prev, penu), minerKey: key, target });
		const result = kernel.search(0n, 64);
		const expected = Array.from({ length: 64 }, (_, i) => BigInt(i)).find((n) =>
			meetsTarget(powHash(prev, penu, n, key), target)
		);
		expect(result.nonce).toBe(expected ?? null);
		expect(kernel.search(7n, 1)).toEqual({ nonce: null, hashesDone: 1 });
	});

	it.each(kernels)(
		'search (simd=$simd) splits ranges across the low nonce word and counts every hash',
		async ({ load }) => {
			const kernel = await load();
			const [prev, penu, key] = [4, 5, 6].map((b) => new Uint8Array(32).fill(b)) as [
				Uint8Array,
				Uint8Array,
				Uint8Array
			];
			const target = new Uint8Array(32); // nothing meets a zero target
			kernel.setJob({ prefix64: prefixOf(prev, penu), minerKey: key, target });
			expect(kernel.search(0xfffffffen, 11)).toEqual({ nonce: null, hashesDone: 11 });
			expect(kernel.search((1n << 64n) - 5n, 5)).toEqual({ nonce: null, hashesDone: 5 });
			// A winner right after the wrap is found with the right high word.
			const easy = bigIntToBytes(1n << 250n, 32);
			kernel.setJob({ prefix64: prefixOf(prev, penu), minerKey: key, target: easy });
			const found = kernel.search(0xfffffff0n, 4096);
			let expected = 0xfffffff0n;
			while (!meetsTarget(powHash(prev, penu, expected, key), easy)) expected++;
			expect(found.nonce).toBe(expected);
		}
	);

	// A count of 4k + r runs 4k nonces by SIMD and r by the scalar tail. A winner in the last SIMD lane
	// once let the tail run on and report the tail's end (or a later winner); under the top high word the
	// old "nothing found" mark hid a winner in the last nonce of a range.
	it.each(kernels)(
		'search (simd=$simd) with counts 4k + 1, 4k + 2, 4k + 3 returns the winner of the SIMD part or of the tail',
		async ({ load }) => {
			const kernel = await load();
			const [prev, penu, key] = [7, 8, 9].map((b) => new Uint8Array(32).fill(b)) as [
				Uint8Array,
				Uint8Array,
				Uint8Array
			];
			const job = { prev, penu, key };
			const target = bigIntToBytes(1n << 248n, 32); // about 1 in 256 hashes
			kernel.setJob({ prefix64: prefixOf(prev, penu), minerKey: key, target });
			const vector = 16;
			// Low high word, and the top one (whose bits equal the kernel's old "nothing found" mark).
			for (const from of [0n, 0xffffffffn << 32n]) {
				const winner = isolatedWinner(job, target, vector + 3, from);
				for (const tail of [1, 2, 3]) {
					const count = vector + tail;
					// Offsets of the winner in the range: SIMD lanes (first, middle, last), every tail slot, past the end.
					const offsets = [0, 5, vector - 1, ...Array.from({ length: tail }, (_, i) => vector + i), count];
					for (const offset of offsets) {
						const start = winner - BigInt(offset);
						const expected = referenceSearch(job, target, start, count);
						expect(expected.nonce).toBe(offset < count ? winner : null);
						expect(kernel.search(start, count), `count ${count}, winner at ${offset}`).toEqual(expected);
					}
				}
			}
		}
	);

	it.each(kernels)(
		'search (simd=$simd) agrees with the reference search when winners are dense',
		async ({ load }) => {
			const kernel = await load();
			const target = bigIntToBytes(1n << 253n, 32); // about 1 in 8 hashes: several winners per range
			fc.assert(
				fc.property(
					bytes(32),
					bytes(32),
					bytes(32),
					fc.bigInt(0n, (1n << 64n) - 64n),
					fc.integer({ min: 1, max: 63 }),
					(prev, penu, key, start, count) => {
						kernel.setJob({ prefix64: prefixOf(prev, penu), minerKey: key, target });
						expect(kernel.search(start, count)).toEqual(
							referenceSearch({ prev, penu, key }, target, start, count)
						);
					}
				),
				{ numRuns: 300 }
			);
		}
	);

	it('rejects malformed jobs and ranges with ValidationError codes', async () => {
		const kernel = await MiningKernel.load();
		expect(() => kernel.search(0n, 1)).toThrow(expect.objectContaining({ code: 'mining-no-job' }));
		const job = { prefix64: new Uint8Array(64), minerKey: new Uint8Array(32), target: MAX_TARGET };
		expect(() => kernel.setJob({ ...job, prefix64: new Uint8Array(63) })).toThrow(
			expect.objectContaining({ code: 'mining-bad-job' })
		);
		expect(() => kernel.setJob({ ...job, target: new Uint8Array(33) })).toThrow(
			expect.objectContaining({ code: 'mining-bad-job' })
		);
		kernel.setJob(job);
		expect(() => kernel.search(1n << 64n, 1)).toThrow(
			expect.objectContaining({ code: 'mining-nonce-range' })
		);
		expect(() => kernel.search(-1n, 1)).toThrow(expect.objectContaining({ code: 'mining-nonce-range' }));
	});
});
