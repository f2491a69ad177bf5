import { describe, expect, it } from 'vitest';
import type { Bytes } from './bytes.ts';
import { sha256 } from './hash.ts';
import { TransactionIndex } from './transaction-index.ts';

const h = (...bytes: number[]): Bytes => sha256(new Uint8Array(bytes));

describe('the index of transaction ids', () => {
	it('answers for each id its batch, its sequence and, once attached, its place', () => {
		const index = new TransactionIndex();
		index.pin(h(0xb1), [h(1), h(2), h(3)], 1);
		expect(index.pinOf(h(2))).toEqual(h(0xb1));
		expect(index.sequenceOf(h(2))).toBe(1);
		expect(index.location(h(2))).toBeUndefined();
		expect(index.attach([h(2), h(3)], h(0xaa), 4, 7)).toEqual([1, 1]);
		expect(index.location(h(3))).toEqual({ patient: h(0xaa), leaf: 4, index: 8 });
		expect(index.pinOf(h(3))).toEqual(h(0xb1));
		expect(index.location(h(1))).toBeUndefined();
		expect(index.pinOf(h(9))).toBeUndefined();
		expect(index.sequenceOf(h(9))).toBeUndefined();
	});

	it('pins a transaction in one batch only, and records none of a batch that breaks this', () => {
		const index = new TransactionIndex();
		index.pin(h(0xb1), [h(1), h(2)], 1);
		expect(() => index.pin(h(0xb1), [h(2)], 1)).not.toThrow();
		expect(() => index.pin(h(0xb2), [h(4), h(2)], 2)).toThrow(
			expect.objectContaining({ code: 'tx-pinned-twice' })
		);
		expect(index.pinOf(h(4))).toBeUndefined();
		expect(index.sequenceOf(h(2))).toBe(1);
	});
});
