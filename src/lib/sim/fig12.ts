/**
 * Fig. 12 reproduction: the top 15 mining pools as institutions mining keyblocks at their hash-power
 * shares, (a, λ) = (5000, 20000), reputation of each over time. Fig. 12 is about mining, so the pools
 * receive no patient transactions: R1 is RepuCoin's curve; R2 stays at f(0) and R = ½(R1 + R2) is
 * reported alongside in the CSV.
 * Keyblock winners are drawn i.i.d. by hash share (the order in which PoW finds blocks), at the paper's
 * 10-minute interval; reputation is computed by the core functions at every chunk boundary.
 */
import { ActivityLedger, simulatedInstitutionId } from './activity-ledger.ts';
import { lineChartSvg } from './chart.ts';
import { poolShares, TOP_POOLS } from './mining-pools.ts';
import { cumulative, seededRandom } from './random.ts';
import {
	KEYBLOCKS_PER_DAY,
	round,
	scalar,
	type Scenario,
	REPUTATION_PARAMS,
	reputationParams as repParams
} from './scenario.ts';

export const fig12: Scenario = {
	name: 'fig12',
	title: 'Fig. 12: reputation of the top 15 mining pools over time',
	description:
		'Each pool is an institution mining at its hash share; R1 (RepuCoin) per pool at every chunk boundary.',
	params: [{ name: 'days', label: 'Horizon (days)', default: 730 }, ...REPUTATION_PARAMS],
	run(params, seed) {
		const blocks = Math.round(scalar(params, 'days') * KEYBLOCKS_PER_DAY);
		const reputationParams = repParams(params);
		const shares = poolShares();
		const ledger = new ActivityLedger(
			shares.map((_, i) => simulatedInstitutionId(i)),
			reputationParams
		);
		const random = seededRandom(seed);
		const cum = cumulative(shares);
		const rows: (string | number)[][] = [];
		const series = TOP_POOLS.map(() => [] as [number, number][]);
		const sample = () => {
			const day = round(ledger.length / KEYBLOCKS_PER_DAY, 3);
			ledger.reputations().forEach((r, i) => {
				rows.push([day, TOP_POOLS[i]!.name, round(shares[i]!), round(r.r1), round(r.r2), round(r.r)]);
				series[i]!.push([day, r.r1]);
			});
		};
		for (let h = 1; h <= blocks; h++) {
			ledger.addKeyblock(random.pick(cum));
			if (h % reputationParams.chunkSize === 0 || h === blocks) sample();
		}
		const final = ledger.reputations();
		const svg = lineChartSvg({
			title: `R1 of the top 15 pools, a = ${reputationParams.a}, λ = ${reputationParams.lambda} (seed ${seed})`,
			xLabel: 'days since genesis',
			yLabel: 'reputation R1',
			yDomain: [0, 1],
			series: TOP_POOLS.map((p, i) => ({
				name: `${p.name} ${(shares[i]! * 100).toFixed(1)}%`,
				points: series[i]!
			}))
		});
		return {
			tables: [{ name: 'fig12', columns: ['day', 'pool', 'hash_share', 'r1', 'r2', 'r'], rows }],
			charts: [{ name: 'fig12', svg }],
			summary: {
				name: 'fig12-summary',
				columns: ['pool', 'hash share', `R1 at day ${round(blocks / KEYBLOCKS_PER_DAY, 1)}`, 'R'],
				rows: final.map((r, i) => [TOP_POOLS[i]!.name, round(shares[i]!, 4), round(r.r1, 4), round(r.r, 4)])
			}
		};
	}
};
