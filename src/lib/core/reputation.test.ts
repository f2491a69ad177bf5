import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.ts';
import {
	chainActivity,
	chunkSizes,
	consensusGroup,
	honestFlag,
	miningReputation,
	regularity,
	reputationCurve,
	reputationOf,
	reputations,
	serviceReputation,
	type InstitutionActivity
} from './reputation.ts';

// Small (a, λ) so hand computations stay exact: f(x) = ½(1 + (x − 2)/(1 + |x − 2|)).
const small = { chunkSize: 4, a: 2, lambda: 1 };
const paper = { chunkSize: 1000, a: 5000, lambda: 20000 };

function activity(over: Partial<InstitutionActivity>): InstitutionActivity {
	return {
		institution: 'aa',
		keyblocks: [0, 0],
		registerTxs: [0, 0],
		medicalTxs: [0, 0],
		honest: true,
		...over
	};
}

function code(fn: () => unknown): string {
	try {
		fn();
	} catch (e) {
		if (e instanceof ValidationError) return e.code;
		throw e;
	}
	return 'no error';
}

describe('reputation curve f', () => {
	it('is ½ at a, λ/(2(λ + a)) at 0, and tends to 1', () => {
		expect(reputationCurve(5000, paper)).toBe(0.5);
		expect(reputationCurve(0, paper)).toBeCloseTo(0.4, 15);
		expect(reputationCurve(1e12, paper)).toBeGreaterThan(0.99999);
		expect(reputationCurve(45000, paper)).toBeCloseTo(0.5 * (1 + 40000 / 60000), 15);
	});
	it('is increasing', () => {
		let previous = -1;
		for (let x = 0; x < 100000; x += 997) {
			const y = reputationCurve(x, paper);
			expect(y).toBeGreaterThan(previous);
			previous = y;
		}
	});
});

describe('chunks and regularity', () => {
	it('splits L keyblocks into ⌈L/c⌉ chunks with a partial last one', () => {
		expect(chunkSizes(10, 4)).toEqual([4, 4, 2]);
		expect(chunkSizes(8, 4)).toEqual([4, 4]);
		expect(chunkSizes(0, 4)).toEqual([]);
	});
	it('uses the lifetime share as the mean and the per-chunk shares for the deviation', () => {
		// shares 1 and 0 around mean 0.5 → s = 0.5, q = 0.5 / 1.5
		expect(regularity([4, 0], [4, 4])).toEqual({ mean: 0.5, deviation: 0.5, q: 1 / 3 });
		// pooled mean 3/12 = 0.25 differs from the average of per-chunk shares (0.5 + 1/8)/2
		const r = regularity([2, 1], [4, 8]);
		expect(r.mean).toBe(0.25);
		expect(r.deviation).toBeCloseTo(Math.sqrt(((0.5 - 0.25) ** 2 + (0.125 - 0.25) ** 2) / 2), 15);
	});
	it('skips chunks nobody had anything in, and is 0 with no activity at all', () => {
		expect(regularity([5, 0], [10, 0])).toEqual({ mean: 0.5, deviation: 0, q: 0.5 });
		expect(regularity([0, 0], [0, 0])).toEqual({ mean: 0, deviation: 0, q: 0 });
	});
});

describe('R1 (RepuCoin)', () => {
	const chain = { length: 8, registerTxs: [0, 0], medicalTxs: [0, 0] };
	it('steady mining: mean 0.5, s 0, x = 4 → f = 5/6', () => {
		expect(miningReputation(activity({ keyblocks: [2, 2] }), chain, small)).toBeCloseTo(5 / 6, 15);
	});
	it('the same blocks in a burst: s = 0.5, x = 8/3 → f = 0.7', () => {
		expect(miningReputation(activity({ keyblocks: [4, 0] }), chain, small)).toBeCloseTo(0.7, 15);
	});
	it('a partial last chunk is measured against its own size', () => {
		const partial = { length: 6, registerTxs: [0, 0], medicalTxs: [0, 0] };
		// shares 2/4 and 1/2, mean 3/6: s = 0, x = 3 → ½(1 + 1/2)
		expect(miningReputation(activity({ keyblocks: [2, 1] }), partial, small)).toBeCloseTo(0.75, 15);
	});
	it('is 0 once dishonest', () => {
		expect(miningReputation(activity({ keyblocks: [2, 2], honest: false }), chain, small)).toBe(0);
	});
	it('grows with the lifetime for the same share (paper parameters)', () => {
		const at = (chunks: number) =>
			miningReputation(
				activity({
					keyblocks: new Array(chunks).fill(200),
					registerTxs: new Array(chunks).fill(0),
					medicalTxs: new Array(chunks).fill(0)
				}),
				{
					length: chunks * 1000,
					registerTxs: new Array(chunks).fill(0),
					medicalTxs: new Array(chunks).fill(0)
				},
				paper
			);
		// share 0.2 for 25 chunks: x = 0.2 · 25000 = 5000 = a
		expect(at(25)).toBe(0.5);
		expect(at(50)).toBeCloseTo(0.5 * (1 + 5000 / 25000), 15);
	});
});

describe('R2 (Algorithm 1)', () => {
	const chain = { length: 8, registerTxs: [10, 10], medicalTxs: [20, 20] };
	it('steady service: q1 = q2 = 0.5, x = 0.25 · 8 = 2 → f = ½', () => {
		const a = activity({ registerTxs: [5, 5], medicalTxs: [10, 10] });
		expect(serviceReputation(a, chain, small)).toBe(0.5);
	});
	it('registrations in a burst: q1 = 1/3, x = 4/3 → f = 0.3', () => {
		const a = activity({ registerTxs: [10, 0], medicalTxs: [10, 10] });
		expect(serviceReputation(a, chain, small)).toBeCloseTo(0.3, 15);
	});
	it('R = ½(R1 + R2) and H = 0 zeroes both', () => {
		const a = activity({ keyblocks: [2, 2], registerTxs: [5, 5], medicalTxs: [10, 10] });
		expect(reputationOf(a, chain, small)).toEqual({
			institution: 'aa',
			r1: reputationCurve(4, small),
			r2: 0.5,
			r: (reputationCurve(4, small) + 0.5) / 2
		});
		expect(reputationOf({ ...a, honest: false }, chain, small).r).toBe(0);
	});
	it('derives the chain totals from all institutions', () => {
		const all = [
			activity({ institution: '01', keyblocks: [2, 2], registerTxs: [5, 5], medicalTxs: [10, 10] }),
			activity({ institution: '02', keyblocks: [2, 2], registerTxs: [5, 5], medicalTxs: [10, 10] })
		];
		expect(chainActivity(8, all, 4)).toEqual(chain);
		expect(reputations(8, all, small).map((r) => r.r2)).toEqual([0.5, 0.5]);
	});
});

describe('bad input', () => {
	const chain = { length: 8, registerTxs: [10, 10], medicalTxs: [20, 20] };
	it('rejects wrong chunk counts, negative or fractional counts, counts above the totals', () => {
		expect(code(() => miningReputation(activity({ keyblocks: [1] }), chain, small))).toBe(
			'reputation-activity'
		);
		expect(code(() => miningReputation(activity({ keyblocks: [5, 0] }), chain, small))).toBe(
			'reputation-activity'
		);
		expect(code(() => miningReputation(activity({ keyblocks: [-1, 0] }), chain, small))).toBe(
			'reputation-activity'
		);
		expect(code(() => serviceReputation(activity({ registerTxs: [1.5, 0] }), chain, small))).toBe(
			'reputation-activity'
		);
		expect(code(() => serviceReputation(activity({ medicalTxs: [21, 0] }), chain, small))).toBe(
			'reputation-activity'
		);
	});
	it('rejects bad parameters', () => {
		expect(code(() => miningReputation(activity({}), chain, { ...small, chunkSize: 0 }))).toBe(
			'reputation-params'
		);
		expect(code(() => miningReputation(activity({}), chain, { ...small, lambda: 0 }))).toBe(
			'reputation-params'
		);
		expect(code(() => miningReputation(activity({}), chain, { ...small, a: Number.NaN }))).toBe(
			'reputation-params'
		);
	});
});

describe('consensus group', () => {
	it('takes the top X by R, ties broken by id bytes', () => {
		const list = [
			{ institution: '0b', r: 0.5 },
			{ institution: '0a', r: 0.5 },
			{ institution: 'ff', r: 0.9 },
			{ institution: '01', r: 0.1 }
		];
		expect(consensusGroup(list, 2)).toEqual(['ff', '0a']);
		expect(consensusGroup(list, 3)).toEqual(['ff', '0a', '0b']);
		expect(consensusGroup(list, 10)).toEqual(['ff', '0a', '0b', '01']);
	});
	it('rejects X ≤ 0, duplicates, bad ids and non-finite R', () => {
		expect(code(() => consensusGroup([], 0))).toBe('consensus-group-size');
		const dup = [
			{ institution: '0a', r: 0.5 },
			{ institution: '0A', r: 0.4 }
		];
		expect(code(() => consensusGroup(dup, 1))).toBe('consensus-group-duplicate');
		expect(code(() => consensusGroup([{ institution: 'zz', r: 0.5 }], 1))).toBe('hex');
		expect(code(() => consensusGroup([{ institution: '0a', r: Number.NaN }], 1))).toBe('reputation-value');
	});
});

describe('honest flag', () => {
	const evidence = [{ offender: 'AB01', height: 120 }];
	it('is false once evidence naming the institution is on chain', () => {
		expect(honestFlag('ab01', evidence)).toBe(false);
		expect(honestFlag('ab01', evidence, 120)).toBe(false);
		expect(honestFlag('ab01', evidence, 119)).toBe(true);
		expect(honestFlag('ab02', evidence)).toBe(true);
		expect(honestFlag('ab01', [])).toBe(true);
	});
	it('rejects malformed evidence', () => {
		expect(code(() => honestFlag('ab01', [{ offender: 'ab01', height: -1 }]))).toBe('reputation-activity');
		expect(code(() => honestFlag('ab01', [{ offender: 'xyz', height: 1 }]))).toBe('hex');
	});
});
