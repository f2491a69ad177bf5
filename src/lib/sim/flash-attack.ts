/**
 * Flash / 51% attack (§6.2.2): a chain runs for T days; then a newcomer rents a share p of all hash
 * power for D days under k consortium identities (each mining p/k). Every epoch the consensus group is
 * handed over by the node's own rule (core membership.ts rankIncomingGroup via ActivityLedger, the
 * standings runtime chain-metrics.ts derives from a real chain): the top X eligible institutions by
 * lifetime R, eligible = honest and seen on chain within the presence window. When, if ever, does the
 * newcomer hold more than 1/3 (it can stall the group; with 1/3 of the seats too, equivocate) and more
 * than 2/3 (it decides alone) of the group's reputation weight, and how likely is a capture within
 * `captureDays`? The same runs read as plain longest-chain PoW give the newcomer's share of recent blocks.
 *
 * Two consortia: the 15 pools of Fig. 12 (RepuCoin's population, group X, epoch `epochLength`), and a
 * demo-sized one (`demoInstitutions` equal institutions, the demo's X and epoch length). Honest
 * institutions serve patients in proportion to their hash share (Poisson per chunk); the newcomer rented
 * hash power, not patients. Members of the group in office are seen through the batches they propose
 * (`batchPresence`), counted one epoch late as chain-metrics counts them.
 */
import { reputationWeight } from '../core/consensus/group.ts';
import { ActivityLedger, simulatedInstitutionId } from './activity-ledger.ts';
import { lineChartSvg, type Series } from './chart.ts';
import { poolShares } from './mining-pools.ts';
import { cumulative, seededRandom } from './random.ts';
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

export type Consortium = 'pools' | 'demo';

export interface FlashSample {
	day: number;
	/** Newcomer's fraction of the group's reputation weight, and its seats of the group's size. */
	share: number;
	seats: number;
	size: number;
}

export interface FlashRun {
	consortium: Consortium;
	p: number;
	identities: number;
	seed: number;
	/** One per hand-over during the attack. */
	samples: FlashSample[];
	/** Plain PoW: days after joining when the newcomer first mined > 1/2 of a day's keyblocks. */
	powMajorityDay: number | '';
}

function consortiumShape(params: ParamValues, consortium: Consortium) {
	if (consortium === 'pools')
		return {
			shares: poolShares(),
			groupSize: scalar(params, 'groupSize'),
			epochLength: scalar(params, 'epochLength')
		};
	const n = scalar(params, 'demoInstitutions');
	if (!Number.isSafeInteger(n) || n < 1) throw new RangeError('demoInstitutions must be ≥ 1');
	return {
		shares: Array.from({ length: n }, () => 1 / n),
		groupSize: scalar(params, 'demoGroupSize'),
		epochLength: scalar(params, 'demoEpochLength')
	};
}

/** Newcomer's share of the group's weight and its seats, with the group's integer weights. */
function attackerHold(
	group: readonly string[],
	rOf: ReadonlyMap<string, number>,
	attackers: ReadonlySet<string>
) {
	let total = 0;
	let held = 0;
	let seats = 0;
	for (const id of group) {
		const w = reputationWeight(rOf.get(id)!);
		total += w;
		if (attackers.has(id)) {
			held += w;
			seats++;
		}
	}
	return { share: total === 0 ? 0 : held / total, seats };
}

export function simulateFlash(
	params: ParamValues,
	seed: number,
	p: number,
	identities: number,
	consortium: Consortium = 'pools'
): FlashRun {
	const chunkSize = scalar(params, 'chunkSize');
	const reputationParams = repParams(params);
	const joinAt = Math.round(scalar(params, 'joinDays') * KEYBLOCKS_PER_DAY);
	const end = joinAt + Math.round(scalar(params, 'durationDays') * KEYBLOCKS_PER_DAY);
	const batchPresence = scalar(params, 'batchPresence') !== 0;
	if (!(p > 0 && p < 1)) throw new RangeError(`attacker share must be in (0, 1), got ${p}`);
	if (!Number.isSafeInteger(identities) || identities < 1) throw new RangeError('identities must be ≥ 1');
	const { shares, groupSize, epochLength } = consortiumShape(params, consortium);
	const membership = { groupSize, epochLength };
	const honest = shares.map((_, i) => simulatedInstitutionId(i));
	const attackerIds = Array.from({ length: identities }, (_, j) => simulatedInstitutionId(0xff00 + j));
	const all = [...honest, ...attackerIds];
	const indexOf = new Map(all.map((id, i) => [id, i]));
	const ledger = new ActivityLedger(all, reputationParams);
	const attackers = new Set(attackerIds);
	// Separate streams: who mines, which attacker identity, how many patients, so varying p or k keeps
	// the honest history identical up to T.
	const root = seededRandom(seed);
	const mining = root.fork(1);
	const split = root.fork(2);
	const patients = root.fork(3);
	const cum = cumulative(shares);
	const registerPerChunk = scalar(params, 'registerPerChunk');
	const medicalPerChunk = scalar(params, 'medicalPerChunk');
	const recent: boolean[] = [];
	let recentAttacker = 0;
	let powMajorityDay: number | '' = '';
	const samples: FlashSample[] = [];
	// Groups in office: the one of the epoch now ending, and the one before (whose batches now count).
	let current: string[] = [];
	let previous: string[] = [];
	const firstRanked = Math.max(epochLength, joinAt - 2 * epochLength);
	for (let h = 1; h <= end; h++) {
		const byAttacker = h > joinAt && mining.float() < p;
		ledger.addKeyblock(
			byAttacker ? shares.length + Math.floor(split.float() * identities) : mining.pick(cum)
		);
		recent.push(byAttacker);
		if (byAttacker) recentAttacker++;
		if (recent.length > KEYBLOCKS_PER_DAY && recent.shift()) recentAttacker--;
		if (powMajorityDay === '' && recent.length === KEYBLOCKS_PER_DAY && h > joinAt)
			if (recentAttacker > KEYBLOCKS_PER_DAY / 2) powMajorityDay = round((h - joinAt) / KEYBLOCKS_PER_DAY, 3);
		if (h % chunkSize === 0)
			shares.forEach((s, i) =>
				ledger.addTransactions(
					i,
					patients.poisson(registerPerChunk * s),
					patients.poisson(medicalPerChunk * s)
				)
			);
		if (h % epochLength !== 0 || h < firstRanked) continue;
		if (batchPresence) for (const id of previous) ledger.markSeen(indexOf.get(id)!, h - epochLength);
		const standings = ledger.standings();
		const group = ledger.incomingGroupOf(standings, h / epochLength, membership);
		previous = current;
		current = group;
		if (h <= joinAt) continue;
		const hold = attackerHold(group, new Map(standings.map((s) => [s.institution, s.r])), attackers);
		samples.push({
			day: round((h - joinAt) / KEYBLOCKS_PER_DAY, 3),
			share: hold.share,
			seats: hold.seats,
			size: group.length
		});
	}
	return { consortium, p, identities, seed, samples, powMajorityDay };
}

/** Days after joining when the newcomer first holds more than `fraction` of the weight, or ''. */
export function dayOver(run: FlashRun, fraction: number, seatsToo = false): number | '' {
	const hit = run.samples.find((s) => s.share > fraction && (!seatsToo || s.seats > fraction * s.size));
	return hit ? hit.day : '';
}

function median(values: readonly (number | '')[]): number | '' {
	const reached = values.filter((v): v is number => v !== '').sort((a, b) => a - b);
	// The median of all runs, counting runs that never got there as +∞.
	if (reached.length * 2 <= values.length) return '';
	return reached[Math.floor((values.length - 1) / 2)]!;
}

export interface FlashSummary {
	consortium: Consortium;
	p: number;
	k: number;
	/** Medians over the runs (blank when most runs never got there within the horizon). */
	dayOverThird: number | '';
	dayOverTwoThirds: number | '';
	/** Fraction of runs where the newcomer held > 1/3 (> 2/3) of both seats and weight within captureDays. */
	pBlockWithin: number;
	pControlWithin: number;
	maxSeats: number;
	maxShare: number;
	powMajorityDay: number | '';
}

export function summarizeFlash(runs: readonly FlashRun[], captureDays: number): FlashSummary {
	const first = runs[0]!;
	const within = (fraction: number) =>
		runs.filter((r) => {
			const day = dayOver(r, fraction, true);
			return day !== '' && day <= captureDays;
		}).length / runs.length;
	return {
		consortium: first.consortium,
		p: first.p,
		k: first.identities,
		dayOverThird: median(runs.map((r) => dayOver(r, 1 / 3))),
		dayOverTwoThirds: median(runs.map((r) => dayOver(r, 2 / 3))),
		pBlockWithin: within(1 / 3),
		pControlWithin: within(2 / 3),
		maxSeats: Math.max(...runs.flatMap((r) => r.samples.map((s) => s.seats))),
		maxShare: round(Math.max(...runs.flatMap((r) => r.samples.map((s) => s.share))), 4),
		powMajorityDay: median(runs.map((r) => r.powMajorityDay))
	};
}

const SUMMARY_COLUMNS = [
	'consortium',
	'p',
	'k',
	'R>1/3 (day, median)',
	'R>2/3 (day, median)',
	'P(>1/3 within capture days)',
	'P(>2/3 within capture days)',
	'max seats',
	'max R share',
	'PoW>1/2 (day)'
];

export const flash: Scenario = {
	name: 'flash',
	title: 'Flash / 51% attack: rented hash power against lifetime-reputation membership',
	description:
		"A newcomer joins after T days with hash share p for D days under k identities; the group is handed over every epoch by the node's rule. Share of the group's reputation vs plain PoW.",
	params: [
		{ name: 'shares', label: 'Newcomer hash shares p', default: [0.51, 0.9, 0.99] },
		{ name: 'identities', label: 'Newcomer identities k', default: [1, 4, 7] },
		{ name: 'joinDays', label: 'Joins after T (days)', default: 547 },
		{ name: 'durationDays', label: 'Attack duration D (days)', default: 180 },
		{ name: 'captureDays', label: 'Capture window (days)', default: 180 },
		{ name: 'runs', label: 'Runs per case (seeds seed, seed+1, …)', default: 5 },
		{ name: 'groupSize', label: 'Pools: consensus group size X', default: 10 },
		{ name: 'epochLength', label: 'Pools: epoch length (keyblocks)', default: 144 },
		{ name: 'demoInstitutions', label: 'Demo: institutions', default: 5 },
		{ name: 'demoGroupSize', label: 'Demo: group size X', default: 4 },
		{ name: 'demoEpochLength', label: 'Demo: epoch length (keyblocks)', default: 10 },
		{ name: 'batchPresence', label: 'Members seen through their batches (1/0)', default: 1 },
		...REPUTATION_PARAMS,
		{ name: 'registerPerChunk', label: 'Register txs per chunk (network)', default: 500 },
		{ name: 'medicalPerChunk', label: 'Medical+label txs per chunk (network)', default: 5000 }
	],
	run(params, seed) {
		const runs = scalar(params, 'runs');
		if (!Number.isSafeInteger(runs) || runs < 1) throw new RangeError('runs must be ≥ 1');
		const captureDays = scalar(params, 'captureDays');
		const consortia: Consortium[] = ['pools', 'demo'];
		const cases = consortia.flatMap((c) =>
			list(params, 'identities').flatMap((k) =>
				list(params, 'shares').map((p) =>
					Array.from({ length: runs }, (_, i) => simulateFlash(params, seed + i, p, k, c))
				)
			)
		);
		const summaries = cases.map((c) => summarizeFlash(c, captureDays));
		const summaryRows = summaries.map((s) => [
			s.consortium,
			s.p,
			s.k,
			s.dayOverThird,
			s.dayOverTwoThirds,
			round(s.pBlockWithin, 3),
			round(s.pControlWithin, 3),
			s.maxSeats,
			s.maxShare,
			s.powMajorityDay
		]);
		// The CSV keeps one hand-over per day (the demo hands over 14 times a day; the summary uses all).
		const daily = (samples: readonly FlashSample[]) =>
			samples.filter((s, i) => i === 0 || Math.floor(s.day) !== Math.floor(samples[i - 1]!.day));
		const rows = cases.flatMap((c) =>
			daily(c[0]!.samples).map((s) => [
				c[0]!.consortium,
				c[0]!.p,
				c[0]!.identities,
				s.day,
				round(s.share),
				s.seats,
				s.size
			])
		);
		const guides = [
			{ y: 1 / 3, label: '1/3' },
			{ y: 2 / 3, label: '2/3' }
		];
		const charts = consortia.flatMap((consortium) =>
			list(params, 'identities').map((k) => ({
				name: `flash-${consortium}-k${k}`,
				svg: lineChartSvg({
					title: `Newcomer's share of the group's R, ${consortium}, k = ${k} (seed ${seed})`,
					xLabel: `days since the newcomer joined (at day ${scalar(params, 'joinDays')})`,
					yLabel: 'share of group reputation',
					yDomain: [0, 1],
					guides,
					series: cases
						.filter((c) => c[0]!.consortium === consortium && c[0]!.identities === k)
						.map((c): Series => ({
							name: `p = ${c[0]!.p}`,
							points: c[0]!.samples.map((s) => [s.day, s.share])
						}))
				})
			}))
		);
		return {
			tables: [
				{ name: 'flash', columns: ['consortium', 'p', 'k', 'day', 'share_R', 'seats', 'group_size'], rows },
				{ name: 'flash-summary', columns: SUMMARY_COLUMNS, rows: summaryRows }
			],
			charts,
			summary: { name: 'flash-summary', columns: SUMMARY_COLUMNS, rows: summaryRows }
		};
	}
};
