/**
 * Reputation fraud (§4.3, §6.2.2): an institution registers N zombie patients and has them send
 * medical transactions to itself, each paying the fixed fees of the genesis fee schedule. How much
 * reputation does that buy, and what does it cost?
 *
 * Consortium: `institutions` equal institutions (equal hash share, equal share of real patients,
 * Poisson per chunk). Institution 0 is the fraudster. Each zombie pays one register transaction and
 * `zombieVisits` medical transactions. Strategies: `steady` spreads zombies evenly over the horizon
 * (the regular service R2 rewards), `burst` puts them all in the last chunk before the measurement.
 * Fees (§6.2.2, src/lib/core/transaction.ts): the service fee goes to the receiving institution, i.e.
 * back to the fraudster; the transaction fee goes to the verifiers, so it is the fraud's real cost
 * (the fraudster recovers part of it only if it sits in the consensus group).
 */
import { consensusGroup } from '../core/reputation.ts';
import { ActivityLedger, simulatedInstitutionId } from './activity-ledger.ts';
import { lineChartSvg } from './chart.ts';
import { seededRandom } from './random.ts';
import {
	KEYBLOCKS_PER_DAY,
	list,
	round,
	scalar,
	type ParamValues,
	type Scenario,
	REPUTATION_PARAMS,
	reputationParams as repParams
} from './scenario.ts';

export type FraudStrategy = 'steady' | 'burst';

export interface FraudOutcome {
	zombies: number;
	strategy: FraudStrategy;
	r2: number;
	r: number;
	/** 1 = highest R in the consortium. */
	rank: number;
	inGroup: boolean;
	grossFees: number;
	/** Service fees, paid by the zombies to the fraudster itself. */
	feesToSelf: number;
	/** Transaction fees, paid to the verifiers: the real cost. */
	netCost: number;
}

/** Splits `total` into `parts` integers as evenly as possible (earlier parts get the remainder). */
function spread(total: number, parts: number, index: number): number {
	return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

export function simulateFraud(
	params: ParamValues,
	seed: number,
	zombies: number,
	strategy: FraudStrategy
): FraudOutcome {
	const chunkSize = scalar(params, 'chunkSize');
	const reputationParams = repParams(params);
	const count = scalar(params, 'institutions');
	const blocks = Math.round(scalar(params, 'days') * KEYBLOCKS_PER_DAY);
	const chunks = Math.ceil(blocks / chunkSize);
	const visits = scalar(params, 'zombieVisits');
	if (!Number.isSafeInteger(zombies) || zombies < 0) throw new RangeError('zombies must be a count ≥ 0');
	const ids = Array.from({ length: count }, (_, i) => simulatedInstitutionId(i));
	const ledger = new ActivityLedger(ids, reputationParams);
	const root = seededRandom(seed);
	const mining = root.fork(1);
	const patients = root.fork(3);
	const registerMean = scalar(params, 'registerPerChunk') / count;
	const medicalMean = scalar(params, 'medicalPerChunk') / count;
	for (let chunk = 0; chunk < chunks; chunk++) {
		const size = Math.min(chunkSize, blocks - chunk * chunkSize);
		for (let b = 0; b < size; b++) ledger.addKeyblock(Math.floor(mining.float() * count));
		for (let i = 0; i < count; i++)
			ledger.addTransactions(i, patients.poisson(registerMean), patients.poisson(medicalMean));
		const fake = strategy === 'steady' ? spread(zombies, chunks, chunk) : chunk === chunks - 1 ? zombies : 0;
		ledger.addTransactions(0, fake, fake * visits);
	}
	const all = ledger.reputations();
	const group = consensusGroup(all, scalar(params, 'groupSize'));
	const order = consensusGroup(all, all.length);
	const fees = {
		registerService: scalar(params, 'registerServiceFee'),
		registerTx: scalar(params, 'registerTxFee'),
		medicalService: scalar(params, 'medicalServiceFee'),
		medicalTx: scalar(params, 'medicalTxFee')
	};
	const feesToSelf = zombies * (fees.registerService + visits * fees.medicalService);
	const netCost = zombies * (fees.registerTx + visits * fees.medicalTx);
	return {
		zombies,
		strategy,
		r2: all[0]!.r2,
		r: all[0]!.r,
		rank: order.indexOf(ids[0]!) + 1,
		inGroup: group.includes(ids[0]!),
		grossFees: feesToSelf + netCost,
		feesToSelf,
		netCost
	};
}

export const fraud: Scenario = {
	name: 'fraud',
	title: 'Reputation fraud: zombie patients bought with fees',
	description:
		'Institution 0 adds N zombie patients (one register + v medical txs each, paying the genesis fees); reputation gained vs fees spent.',
	params: [
		{ name: 'zombies', label: 'Zombie patients N', default: [0, 100, 1000, 10000, 100000, 1000000] },
		{ name: 'zombieVisits', label: 'Medical txs per zombie', default: 4 },
		{ name: 'institutions', label: 'Institutions', default: 10 },
		{ name: 'groupSize', label: 'Consensus group size X', default: 4 },
		{ name: 'days', label: 'Horizon (days)', default: 365 },
		...REPUTATION_PARAMS,
		{ name: 'registerPerChunk', label: 'Real register txs per chunk (network)', default: 500 },
		{ name: 'medicalPerChunk', label: 'Real medical+label txs per chunk (network)', default: 5000 },
		{ name: 'registerServiceFee', label: 'Register service fee', default: 10 },
		{ name: 'registerTxFee', label: 'Register transaction fee', default: 2 },
		{ name: 'medicalServiceFee', label: 'Medical service fee', default: 20 },
		{ name: 'medicalTxFee', label: 'Medical transaction fee', default: 2 }
	],
	run(params, seed) {
		const strategies: FraudStrategy[] = ['steady', 'burst'];
		const outcomes = strategies.flatMap((s) =>
			list(params, 'zombies').map((n) => simulateFraud(params, seed, n, s))
		);
		const baseline = (s: FraudStrategy) => outcomes.find((o) => o.strategy === s && o.zombies === 0)?.r;
		const columns = [
			'strategy',
			'zombies',
			'r2',
			'r',
			'delta_r',
			'rank',
			'in_group',
			'gross_fees',
			'fees_to_self',
			'net_cost',
			'delta_r_per_1000_net'
		];
		const rows = outcomes.map((o) => {
			const base = baseline(o.strategy);
			const delta = base === undefined ? '' : round(o.r - base);
			return [
				o.strategy,
				o.zombies,
				round(o.r2),
				round(o.r),
				delta,
				o.rank,
				o.inGroup ? 'yes' : 'no',
				o.grossFees,
				o.feesToSelf,
				o.netCost,
				delta === '' || o.netCost === 0 ? '' : round((delta / o.netCost) * 1000, 9)
			];
		});
		const svg = lineChartSvg({
			title: `Fraudster's R vs zombie patients (net fees on the x axis, log10) (seed ${seed})`,
			xLabel: 'log10(1 + net fees paid to verifiers)',
			yLabel: "fraudster's reputation R",
			yDomain: [0, 1],
			series: strategies.map((s) => ({
				name: s,
				points: outcomes.filter((o) => o.strategy === s).map((o) => [Math.log10(1 + o.netCost), o.r])
			}))
		});
		const table = { name: 'fraud', columns, rows };
		return { tables: [table], charts: [{ name: 'fraud', svg }], summary: table };
	}
};
