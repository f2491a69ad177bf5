import { describe, expect, it } from 'vitest';
import { checkFairSelection, fairShares, type InstitutionQueue } from '../core/selection.ts';
import { reputations } from '../core/reputation.ts';
import { ActivityLedger } from './activity-ledger.ts';
import { fig12 } from './fig12.ts';
import { dayOver, flash, simulateFlash, summarizeFlash } from './flash-attack.ts';
import { excludingSelection, squeezingSelection } from './inhibiting-leader.ts';
import { inhibition, inhibitionConsortium, simulateInhibition } from './inhibition.ts';
import { poolShares } from './mining-pools.ts';
import { cumulative, seededRandom } from './random.ts';
import { fraud, simulateFraud } from './reputation-fraud.ts';
import { toCsv, withDefaults, type ParamValues, type Scenario } from './scenario.ts';
import { SCENARIOS, scenarioByName } from './scenarios.ts';
import { eyalSirerRevenue, selfish, selfishWithoutPinning, selfishWithPinning } from './selfish-mining.ts';

// Reduced horizons: the CLI runs the full ones.
const SMALL: Record<string, ParamValues> = {
	fig12: { days: 60, chunkSize: 144 },
	flash: { shares: [0.6, 0.99], identities: [1, 4], joinDays: 40, durationDays: 30, chunkSize: 144, runs: 1 },
	selfish: { alphas: [0.2, 0.4], events: 20000 },
	fraud: { zombies: [0, 1000, 100000], days: 60, chunkSize: 144 },
	inhibition: { inhibitors: [0, 2], rounds: 80 }
};

function csvOf(scenario: Scenario, seed: number): string {
	const result = scenario.run(withDefaults(scenario, SMALL[scenario.name]), seed);
	return [...result.tables.map(toCsv), ...result.charts.map((c) => c.svg)].join('\n');
}

describe('every scenario is deterministic in its seed', () => {
	for (const scenario of SCENARIOS) {
		it(`${scenario.name}: same seed → identical CSV and SVG, another seed → different`, () => {
			const a = csvOf(scenario, 7);
			expect(csvOf(scenario, 7)).toBe(a);
			expect(csvOf(scenario, 8)).not.toBe(a);
			expect(a).toContain('<svg');
		});
	}
	it('rejects unknown scenarios and parameters', () => {
		expect(scenarioByName('inhibition')).toBe(inhibition);
		expect(() => scenarioByName('eclipse')).toThrow(/unknown scenario/);
		expect(() => withDefaults(fig12, { nope: 1 })).toThrow(/no parameter nope/);
		expect(() => fig12.run(withDefaults(fig12, { days: [1, 2] }), 1)).toThrow(/must be a number/);
	});
});

describe('seeded randomness', () => {
	it('picks by weight and samples Poisson means', () => {
		const random = seededRandom(3);
		const counts = [0, 0, 0];
		const cum = cumulative([1, 2, 7]);
		for (let i = 0; i < 20000; i++) counts[random.pick(cum)]!++;
		expect(counts[0]! / 20000).toBeCloseTo(0.1, 1);
		expect(counts[2]! / 20000).toBeCloseTo(0.7, 1);
		let sum = 0;
		for (let i = 0; i < 2000; i++) sum += random.poisson(4);
		expect(sum / 2000).toBeCloseTo(4, 0);
	});
});

describe('activity ledger', () => {
	it('hands the core exactly the per-chunk counts and gets the core reputations', () => {
		const ledger = new ActivityLedger(['0000', '0001'], { chunkSize: 2, a: 2, lambda: 1 });
		ledger.addKeyblock(0);
		ledger.addTransactions(1, 3, 5);
		ledger.addKeyblock(1);
		ledger.addKeyblock(0);
		ledger.addTransactions(0, 1, 0);
		const activities = ledger.activities();
		expect(activities[0]).toEqual({
			institution: '0000',
			keyblocks: [1, 1],
			registerTxs: [0, 1],
			medicalTxs: [0, 0],
			honest: true
		});
		expect(activities[1]!.registerTxs).toEqual([3, 0]);
		expect(ledger.reputations()).toEqual(reputations(3, activities, { chunkSize: 2, a: 2, lambda: 1 }));
		ledger.markDishonest(1);
		expect(ledger.reputations()[1]!.r).toBe(0);
	});
});

describe('fig12', () => {
	it('reputation grows over time, and more hash power gives more reputation', () => {
		const result = fig12.run(withDefaults(fig12, { days: 120, chunkSize: 144 }), 1);
		const rows = result.tables[0]!.rows;
		const at = (pool: string, first: boolean) => {
			const mine = rows.filter((r) => r[1] === pool);
			return Number((first ? mine[0] : mine[mine.length - 1])![3]);
		};
		expect(at('BTC.com', false)).toBeGreaterThan(at('BTC.com', true));
		const final = result.summary.rows.map((r) => Number(r[2]));
		// The six largest pools have clearly separated shares: their R1 must be in the same order.
		for (let i = 0; i < 5; i++) expect(final[i]).toBeGreaterThan(final[i + 1]!);
		expect(poolShares().reduce((s, x) => s + x, 0)).toBeCloseTo(1, 12);
	});
});

describe('flash attack', () => {
	const params = withDefaults(flash, SMALL.flash);
	const maxShare = (run: ReturnType<typeof simulateFlash>) => Math.max(...run.samples.map((s) => s.share));
	it('plain PoW hands a 99% newcomer the majority within a day; the node rule gives one identity one seat', () => {
		const mature = withDefaults(flash, { joinDays: 547, durationDays: 30 });
		for (const consortium of ['pools', 'demo'] as const) {
			const run = simulateFlash(mature, 1, 0.99, 1, consortium);
			expect(run.powMajorityDay).not.toBe('');
			expect(run.powMajorityDay as number).toBeLessThan(1);
			expect(Math.max(...run.samples.map((s) => s.seats))).toBeLessThanOrEqual(1);
			expect(maxShare(run)).toBeLessThan(1 / 3);
			// Hand-overs every epoch, each a full group (the rule never shrinks it to the newcomer).
			expect(run.samples.every((s) => s.size === (consortium === 'pools' ? 10 : 4))).toBe(true);
		}
	});
	it('on a young chain four identities with 99% pass 1/3 of the group reputation within a month', () => {
		const run = simulateFlash(params, 1, 0.99, 4);
		expect(maxShare(run)).toBeGreaterThan(1 / 3);
		expect(dayOver(run, 1 / 3)).not.toBe('');
	});
	it('summaries count runs that never get there as never', () => {
		const runs = [1, 2].map((seed) => simulateFlash(params, seed, 0.6, 1));
		const summary = summarizeFlash(runs, 30);
		expect(summary.pBlockWithin).toBe(0);
		expect(summary.dayOverTwoThirds).toBe('');
		expect(summary.maxSeats).toBe(1);
	});
});

describe('selfish mining', () => {
	it('the simulation matches Eyal–Sirer without pinning', () => {
		for (const alpha of [0.2, 0.35, 0.45])
			expect(selfishWithoutPinning(alpha, 0.5, 60000, 2).share).toBeCloseTo(eyalSirerRevenue(alpha, 0.5), 1);
	});
	it('without pinning selfish mining pays above 1/3; with pinning it never beats honest mining', () => {
		for (const alpha of [0.35, 0.4, 0.45]) {
			expect(selfishWithoutPinning(alpha, 0.5, 30000, 5).share).toBeGreaterThan(alpha + 0.02);
			expect(selfishWithPinning(alpha, 0, 30000, 5).share).toBeLessThanOrEqual(alpha + 0.01);
			expect(selfishWithPinning(alpha, 0.5, 30000, 5).share).toBeLessThanOrEqual(alpha + 0.01);
			// A release every member receives first is pinned: the rule cannot tell it from a fresh block.
			expect(selfishWithPinning(alpha, 1, 30000, 5).share).toBeGreaterThan(alpha);
		}
	});
	it('uses the same seeds for both rules', () => {
		const rows = selfish.run(withDefaults(selfish, SMALL.selfish), 3).tables[0]!.rows;
		expect(rows.map((r) => r[0])).toEqual([0.2, 0.4]);
	});
});

describe('reputation fraud', () => {
	const params = withDefaults(fraud, SMALL.fraud);
	it('more zombies buy more reputation, bursts less than steady service, paid under the chain’s fee rules', () => {
		const none = simulateFraud(params, 1, 0, 'steady');
		const some = simulateFraud(params, 1, 3000, 'steady');
		const burst = simulateFraud(params, 1, 3000, 'burst');
		expect(some.r).toBeGreaterThan(none.r);
		expect(burst.r).toBeGreaterThan(none.r);
		expect(burst.r).toBeLessThan(some.r);
		// Affordable: every zombie taken, each paying 10 + 2 and 4 × (20 + 2), from the fraudster's balance.
		expect(some.zombiesAccepted).toBe(3000);
		expect(some.medicalAccepted).toBe(12000);
		expect(some.feesPaid).toBe(3000 * (12 + 4 * 22));
		expect(none.feesPaid).toBe(0);
	});
	it('refuses the zombies its fraudster cannot pay for', () => {
		const huge = simulateFraud(params, 1, 1_000_000, 'burst');
		expect(huge.zombiesAccepted + huge.medicalAccepted / 4).toBeLessThan(1_000_000);
		expect(huge.balance).toBeGreaterThanOrEqual(0);
		expect(huge.feesPaid).toBe(huge.zombiesAccepted * 12 + huge.medicalAccepted * 22);
	});
});

describe('inhibition (Algorithm 2)', () => {
	const params = withDefaults(inhibition, { rounds: 150 });
	const row = (i: number, reputation: number, count: number): InstitutionQueue => ({
		institution: new Uint8Array([i]),
		reputation,
		transactions: Array.from({ length: count }, (_, k) => new Uint8Array([i, k]))
	});

	it('the excluding leader breaks the rule, the squeezing one stays exactly at the victim’s fair share', () => {
		// Institution 0 inhibits, 2 is the victim; 1 and 3 have less waiting than their quota, so there is spare.
		const table = [row(0, 0.4, 30), row(1, 0.2, 2), row(2, 0.3, 30), row(3, 0.1, 1)];
		const coalition = new Set([0]);
		const excluded = excludingSelection(table, 20, coalition, 2);
		expect(excluded.some((s) => s.institution[0] === 2)).toBe(false);
		expect(() => checkFairSelection(table, 20, excluded)).toThrow(/fair share/);
		const squeezed = squeezingSelection(table, 20, coalition, 2);
		expect(() => checkFairSelection(table, 20, squeezed)).not.toThrow();
		expect(squeezed.filter((s) => s.institution[0] === 2)).toHaveLength(fairShares(table, 20)[2]!);
	});

	it('a coalition under 1/3 keeps the victim at or above its fair share under SPChain, not in the plain chain', () => {
		for (const seed of [1, 2, 3]) {
			const consortium = inhibitionConsortium(params, seed);
			for (const f of [1, 3]) {
				const plain = simulateInhibition(params, seed, 'plain', f, consortium);
				const exclude = simulateInhibition(params, seed, 'spchain-exclude', f, consortium);
				const squeeze = simulateInhibition(params, seed, 'spchain-squeeze', f, consortium);
				expect(plain.coalitionSeats).toBeLessThan(1 / 3);
				expect(plain.victimShare).toBeLessThan(plain.fairShare);
				expect(plain.victimPinned).toBeLessThan(plain.victimEntitled);
				for (const run of [exclude, squeeze]) {
					expect(run.victimPinned).toBeGreaterThanOrEqual(run.victimEntitled);
					expect(run.victimShare).toBeGreaterThanOrEqual(run.fairShare);
					// Under load the victim always has a backlog, so its fair share is its quota t_v/T_m.
					expect(run.fairShare).toBeCloseTo(run.quotaShare, 2);
					expect(run.coalitionShare).toBeLessThan(run.coalitionQuotaShare + 0.01);
				}
				// Honest members turn the exclusion down; the squeeze is allowed and gains nothing.
				expect(exclude.rejected).toBeGreaterThan(0);
				expect(squeeze.rejected).toBe(0);
				expect(plain.victimWaitMean).toBeGreaterThan(squeeze.victimWaitMean);
				expect(plain.coalitionShare).toBeGreaterThan(plain.coalitionQuotaShare + 0.015);
			}
		}
	});

	it('a coalition above 2/3 of seats and reputation decides alone, so the bound needs honest members', () => {
		const run = simulateInhibition(params, 1, 'spchain-exclude', 8);
		expect(run.coalitionReputation).toBeGreaterThan(2 / 3);
		expect(run.rejected).toBe(0);
		expect(run.victimShare).toBeLessThan(run.fairShare);
	});
});
