import { describe, expect, it } from 'vitest';
import { bytesToHex, type Bytes } from './bytes.ts';
import { sha256 } from './hash.ts';
import { rewardsOf, splitByWeight, type PinnedFact, type RewardParams } from './rewards.ts';

const id = (i: number): Bytes => sha256(new Uint8Array([0x1d, i]));
const hex = (i: number): string => bytesToHex(id(i));
const params: RewardParams = { keyblockReward: 1000n, microblockReward: 100n, creatorShare: 2000 };

function sum(map: Map<string, bigint>): bigint {
	return [...map.values()].reduce((a, b) => a + b, 0n);
}

describe('rewards', () => {
	it('pays the miner of a pinned keyblock the mining reward plus register fees', () => {
		const paid = rewardsOf({ type: 'keyblock', height: 3, miner: id(1), registerFees: 36n }, params);
		expect(paid).toEqual(new Map([[hex(1), 1036n]]));
	});

	it('shares a batch between its creators (by transactions) and verifiers (by reputation), losing nothing', () => {
		const fact: PinnedFact = {
			type: 'batch',
			sequence: 1,
			creators: [
				{ id: id(9), transactions: 3 },
				{ id: id(8), transactions: 1 }
			],
			fees: 23n,
			verifiers: [
				{ id: id(1), reputation: 0.5 },
				{ id: id(2), reputation: 0.3 },
				{ id: id(3), reputation: 0.2 }
			]
		};
		const paid = rewardsOf(fact, params);
		// Pot 123: creators 20 % → 24, split 3:1 → 18, 6; verifiers share 99 as 5:3:2 → 49.5, 29.7, 19.8;
		// the two leftover units go to the largest remainders (0.8, 0.7) → 49, 30, 20.
		expect(paid.get(hex(9))).toBe(18n);
		expect(paid.get(hex(8))).toBe(6n);
		expect(paid.get(hex(1))).toBe(49n);
		expect(paid.get(hex(2))).toBe(30n);
		expect(paid.get(hex(3))).toBe(20n);
		expect(sum(paid)).toBe(123n);
	});

	it('a creator that also verified gets both parts; equal weights split deterministically', () => {
		const fact: PinnedFact = {
			type: 'batch',
			sequence: 2,
			creators: [{ id: id(1), transactions: 1 }],
			fees: 0n,
			verifiers: [1, 2, 3].map((i) => ({ id: id(i), reputation: 0.4 }))
		};
		const paid = rewardsOf(fact, params);
		expect(sum(paid)).toBe(100n);
		// 80 over three equal weights: 27, 27, 26 with the extra units to the lowest ids.
		const verifierParts = [1, 2, 3].map((i) => paid.get(hex(i))! - (i === 1 ? 20n : 0n));
		expect([...verifierParts].sort()).toEqual([26n, 27n, 27n]);
		expect(rewardsOf(fact, params)).toEqual(paid);
	});

	it('rejects negative amounts and bad parameters', () => {
		expect(() => splitByWeight(-1n, [{ id: id(1), weight: 1 }])).toThrow(
			expect.objectContaining({ code: 'reward-amount' })
		);
		expect(() =>
			rewardsOf(
				{ type: 'keyblock', height: 1, miner: id(1), registerFees: 0n },
				{ ...params, creatorShare: 10_001 }
			)
		).toThrow(expect.objectContaining({ code: 'reward-params' }));
		expect(() =>
			rewardsOf(
				{ type: 'batch', sequence: 1, creators: [{ id: id(1), transactions: 1 }], fees: 0n, verifiers: [] },
				params
			)
		).toThrow(expect.objectContaining({ code: 'reward-verifiers' }));
	});
});
