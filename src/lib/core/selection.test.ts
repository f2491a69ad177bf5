import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex, type Bytes } from './bytes.ts';
import { ValidationError } from './errors.ts';
import { sha256 } from './hash.ts';
import {
	checkFairSelection,
	fairShares,
	quotas,
	selectTransactions,
	type InstitutionQueue,
	type SelectedTransaction
} from './selection.ts';

const institution = (i: number): Bytes => sha256(new Uint8Array([0x1a, i]));
const tx = (i: number, k: number): Bytes => sha256(new Uint8Array([0x7c, i, k >> 8, k & 255]));

function queue(i: number, reputation: number, count: number): InstitutionQueue {
	return {
		institution: institution(i),
		reputation,
		transactions: Array.from({ length: count }, (_, k) => tx(i, k))
	};
}

function countsOf(selection: readonly SelectedTransaction[]): Map<string, number> {
	const out = new Map<string, number>();
	for (const s of selection)
		out.set(bytesToHex(s.institution), (out.get(bytesToHex(s.institution)) ?? 0) + 1);
	return out;
}

describe('Algorithm 2: transaction selection proportional to reputation', () => {
	it('divides T_m in proportion to reputation, exactly', () => {
		const table = [queue(0, 0.6, 0), queue(1, 0.3, 0), queue(2, 0.1, 0)];
		expect(quotas(table, 100)).toEqual([60, 30, 10]);
		// Largest remainder: 10 · (0.5, 0.25, 0.25) = 5, 2.5, 2.5 → one leftover to the better-ranked tie.
		const tie = [queue(0, 0.5, 0), queue(1, 0.25, 0), queue(2, 0.25, 0)];
		const q = quotas(tie, 10);
		expect(q.reduce((a, b) => a + b, 0)).toBe(10);
		expect(q[0]).toBe(5);
		expect(q.slice(1).sort()).toEqual([2, 3]);
	});

	it('Case 1: everything pending fits, everything is selected', () => {
		const table = [queue(0, 0.9, 3), queue(1, 0.1, 4)];
		const selection = selectTransactions(table, 10);
		expect(selection).toHaveLength(7);
		checkFairSelection(table, 10, selection);
	});

	it('Case 2: quotas first, unused quota redistributed round-robin from the most reputable', () => {
		// Quotas of 20: 10, 6, 4. Institution 2 has only 1 pending: 3 unused slots go round-robin to 0, 1, 0.
		const table = [queue(0, 0.5, 50), queue(1, 0.3, 50), queue(2, 0.2, 1)];
		const selection = selectTransactions(table, 20);
		expect(selection).toHaveLength(20);
		const counts = countsOf(selection);
		expect(counts.get(bytesToHex(institution(0)))).toBe(12);
		expect(counts.get(bytesToHex(institution(1)))).toBe(7);
		expect(counts.get(bytesToHex(institution(2)))).toBe(1);
		// Round-robin order: no institution's transactions all wait at the end.
		expect(selection.slice(0, 3).map((s) => bytesToHex(s.institution))).toEqual(
			[0, 1, 2].map((i) => bytesToHex(institution(i)))
		);
		checkFairSelection(table, 20, selection);
	});

	it('an inhibiting leader cannot push another institution below its fair share', () => {
		// The leader (institution 0) would rather verify only its own transactions.
		const table = [queue(0, 0.4, 100), queue(1, 0.35, 100), queue(2, 0.25, 100)];
		const capacity = 40;
		const shares = fairShares(table, capacity);
		expect(shares).toEqual([16, 14, 10]);
		const greedy: SelectedTransaction[] = table[0]!.transactions
			.slice(0, capacity)
			.map((transaction) => ({ institution: institution(0), transaction }));
		expect(() => checkFairSelection(table, capacity, greedy)).toThrow(
			expect.objectContaining({ code: 'selection-unfair' })
		);
		// Shaving one slot off institution 2 for the leader is caught too.
		const honest = selectTransactions(table, capacity);
		const shaved = honest.filter(
			(s, k) => !(bytesToHex(s.institution) === bytesToHex(institution(2)) && k === honest.length - 1)
		);
		const stolen = [...shaved, { institution: institution(0), transaction: tx(0, 99) }];
		expect(() => checkFairSelection(table, capacity, stolen)).toThrow(ValidationError);
		// Under-filling (withholding redistributed quota) is rejected as well.
		const spare = [queue(0, 0.5, 50), queue(1, 0.3, 50), queue(2, 0.2, 1)];
		expect(fairShares(spare, 20)).toEqual([10, 6, 1]);
		const minimal = spare.flatMap((row, i) =>
			row.transactions
				.slice(0, [10, 6, 1][i])
				.map((transaction) => ({ institution: row.institution, transaction }))
		);
		expect(() => checkFairSelection(spare, 20, minimal)).toThrow(
			expect.objectContaining({ code: 'selection-underfilled' })
		);
		// And claiming another institution's transaction as one's own is rejected.
		const relabelled = honest.map((s) => ({ ...s, institution: institution(0) }));
		expect(() => checkFairSelection(table, capacity, relabelled)).toThrow(
			expect.objectContaining({ code: 'selection-unknown-transaction' })
		);
	});

	it('property: the selection fills min(T_m, p), respects fair shares, and passes its own check', () => {
		fc.assert(
			fc.property(
				fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 30 })), {
					minLength: 1,
					maxLength: 8
				}),
				fc.integer({ min: 1, max: 60 }),
				(rows, capacity) => {
					const table = rows.map(([r, count], i) => queue(i, r / 1000, count));
					const selection = selectTransactions(table, capacity);
					const pending = rows.reduce((s, [, c]) => s + c, 0);
					expect(selection).toHaveLength(Math.min(capacity, pending));
					const counts = countsOf(selection);
					fairShares(table, capacity).forEach((share, i) =>
						expect(counts.get(bytesToHex(institution(i))) ?? 0).toBeGreaterThanOrEqual(share)
					);
					checkFairSelection(table, capacity, selection);
				}
			),
			{ numRuns: 200, seed: 5 }
		);
	});

	it('rejects bad tables and capacities', () => {
		expect(() => quotas([queue(0, 0.5, 1), queue(0, 0.5, 1)], 10)).toThrow(
			expect.objectContaining({ code: 'selection-duplicate-institution' })
		);
		expect(() => quotas([queue(0, 0.5, 1)], 0)).toThrow(
			expect.objectContaining({ code: 'selection-capacity' })
		);
		expect(() => quotas([queue(0, Number.NaN, 1)], 5)).toThrow(
			expect.objectContaining({ code: 'group-reputation' })
		);
	});
});
