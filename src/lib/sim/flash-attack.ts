/**
 * Flash / 51% attack (§6.2.2): after the 15 pools of Fig. 12 have run the chain for T days, an attacker
 * rents a hash share p and mines for D days under k institution identities (k = 1: one consortium
 * member; k > 1: colluding members, each mining p/k). When, if ever, does it hold more than 1/3 and
 * more than 2/3 of the consensus group's reputation (top X by R)? The same run is read as plain
 * longest-chain PoW too, where power is the attacker's share of recent keyblocks (the last chunk).
 *
 * Honest institutions also serve patients: each receives register and medical transactions in
 * proportion to its hash share (Poisson per chunk); the attacker rented hash power, not patients, so
 * its R2 stays at f(0). The RepuCoin-only column (group by R1) isolates the mining part.
 * The consensus group needs > 2/3 of members and > 2/3 of reputation to decide (src/lib/core/consensus),
 * so > 1/3 of the reputation lets the attacker stall decisions and, with > 1/3 of seats too, equivocate.
 */
import { consensusGroup, type Reputation } from '../core/reputation.ts';
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

export interface FlashRun {
	p: number;
	identities: number;
	/** Per chunk boundary during the attack. */
	samples: {
		day: number;
		/** Attacker's fraction of the group's R (SPChain, R = ½(R1 + R2)). */
		shareR: number;
		seatsR: number;
		/** Same with the group chosen and weighted by R1 only (RepuCoin). */
		shareR1: number;
		seatsR1: number;
		/** Attacker's share of the last day's keyblocks (plain PoW power). */
		powShare: number;
	}[];
	/** Plain PoW: days after joining when the attacker first mined > 1/2 (> 2/3) of a day's keyblocks. */
	powMajorityDay: number | '';
	powTwoThirdsDay: number | '';
}

/** Attacker's fraction of the top-X group's total of `key`, and its seats in that group. */
function groupShare(
	all: readonly Reputation[],
	attackers: ReadonlySet<string>,
	size: number,
	key: 'r' | 'r1'
) {
	const byId = new Map(all.map((r) => [r.institution, r[key]]));
	const group = consensusGroup(
		all.map((r) => ({ institution: r.institution, r: r[key] })),
		size
	);
	let total = 0;
	let attacker = 0;
	let seats = 0;
	for (const id of group) {
		total += byId.get(id)!;
		if (attackers.has(id)) {
			attacker += byId.get(id)!;
			seats++;
		}
	}
	return { share: total === 0 ? 0 : attacker / total, seats };
}

export function simulateFlash(params: ParamValues, seed: number, p: number, identities: number): FlashRun {
	const chunkSize = scalar(params, 'chunkSize');
	const reputationParams = repParams(params);
	const joinAt = Math.round(scalar(params, 'joinDays') * KEYBLOCKS_PER_DAY);
	const end = joinAt + Math.round(scalar(params, 'durationDays') * KEYBLOCKS_PER_DAY);
	const groupSize = scalar(params, 'groupSize');
	if (!(p > 0 && p < 1)) throw new RangeError(`attacker share must be in (0, 1), got ${p}`);
	if (!Number.isSafeInteger(identities) || identities < 1) throw new RangeError('identities must be ≥ 1');
	const shares = poolShares();
	const honest = shares.map((_, i) => simulatedInstitutionId(i));
	const attackerIds = Array.from({ length: identities }, (_, j) => simulatedInstitutionId(0xff00 + j));
	const ledger = new ActivityLedger([...honest, ...attackerIds], reputationParams);
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
	let powTwoThirdsDay: number | '' = '';
	const samples: FlashRun['samples'] = [];
	for (let h = 1; h <= end; h++) {
		const byAttacker = h > joinAt && mining.float() < p;
		ledger.addKeyblock(
			byAttacker ? shares.length + Math.floor(split.float() * identities) : mining.pick(cum)
		);
		recent.push(byAttacker);
		if (byAttacker) recentAttacker++;
		if (recent.length > KEYBLOCKS_PER_DAY && recent.shift()) recentAttacker--;
		if (recent.length === KEYBLOCKS_PER_DAY && h > joinAt) {
			const day = round((h - joinAt) / KEYBLOCKS_PER_DAY, 3);
			if (powMajorityDay === '' && recentAttacker > KEYBLOCKS_PER_DAY / 2) powMajorityDay = day;
			if (powTwoThirdsDay === '' && recentAttacker > (KEYBLOCKS_PER_DAY * 2) / 3) powTwoThirdsDay = day;
		}
		if (h % chunkSize !== 0 && h !== end) continue;
		shares.forEach((s, i) =>
			ledger.addTransactions(i, patients.poisson(registerPerChunk * s), patients.poisson(medicalPerChunk * s))
		);
		if (h <= joinAt) continue;
		const all = ledger.reputations();
		const r = groupShare(all, attackers, groupSize, 'r');
		const r1 = groupShare(all, attackers, groupSize, 'r1');
		samples.push({
			day: round((h - joinAt) / KEYBLOCKS_PER_DAY, 3),
			shareR: r.share,
			seatsR: r.seats,
			shareR1: r1.share,
			seatsR1: r1.seats,
			powShare: recentAttacker / recent.length
		});
	}
	return { p, identities, samples, powMajorityDay, powTwoThirdsDay };
}

/** Days after joining when `value` first exceeds `threshold`, or '' (never within the horizon). */
function firstDay(
	run: FlashRun,
	value: (s: FlashRun['samples'][number]) => number,
	threshold: number
): number | '' {
	const hit = run.samples.find((s) => value(s) > threshold);
	return hit ? hit.day : '';
}

export const flash: Scenario = {
	name: 'flash',
	title: 'Flash / 51% attack: rented hash power against reputation',
	description:
		'An attacker joins after T days with hash share p for D days under k identities; share of the consensus group reputation vs plain PoW.',
	params: [
		{ name: 'shares', label: 'Attacker hash shares p', default: [0.5, 0.6, 0.7, 0.8, 0.9, 0.99] },
		{ name: 'identities', label: 'Attacker identities k', default: [1, 4, 7, 10] },
		{ name: 'joinDays', label: 'Joins after T (days)', default: 547 },
		{ name: 'durationDays', label: 'Attack duration D (days)', default: 730 },
		{ name: 'groupSize', label: 'Consensus group size X', default: 10 },
		...REPUTATION_PARAMS,
		{ name: 'registerPerChunk', label: 'Register txs per chunk (network)', default: 500 },
		{ name: 'medicalPerChunk', label: 'Medical+label txs per chunk (network)', default: 5000 }
	],
	run(params, seed) {
		const runs = list(params, 'identities').flatMap((k) =>
			list(params, 'shares').map((p) => simulateFlash(params, seed, p, k))
		);
		const rows = runs.flatMap((run) =>
			run.samples.map((s) => [
				run.p,
				run.identities,
				s.day,
				round(s.shareR),
				s.seatsR,
				round(s.shareR1),
				s.seatsR1,
				round(s.powShare)
			])
		);
		const summaryRows = runs.map((run) => {
			const last = run.samples[run.samples.length - 1]!;
			return [
				run.p,
				run.identities,
				firstDay(run, (s) => s.shareR, 1 / 3),
				firstDay(run, (s) => s.shareR, 2 / 3),
				firstDay(run, (s) => s.shareR1, 1 / 3),
				firstDay(run, (s) => s.shareR1, 2 / 3),
				round(last.shareR, 4),
				last.seatsR,
				run.powMajorityDay,
				run.powTwoThirdsDay
			];
		});
		const guides = [
			{ y: 1 / 3, label: '1/3' },
			{ y: 2 / 3, label: '2/3' }
		];
		const chartFor = (k: number) =>
			lineChartSvg({
				title: `Attacker's share of the consensus group's R, k = ${k} identities, X = ${scalar(params, 'groupSize')}`,
				xLabel: `days since the attacker joined (at day ${scalar(params, 'joinDays')})`,
				yLabel: 'share of group reputation',
				yDomain: [0, 1],
				guides,
				series: runs
					.filter((r) => r.identities === k)
					.map((r): Series => ({ name: `p = ${r.p}`, points: r.samples.map((s) => [s.day, s.shareR]) }))
			});
		const pow = lineChartSvg({
			title: "Plain PoW on the same runs: attacker's share of the last day's keyblocks",
			xLabel: 'days since the attacker joined',
			yLabel: 'share of recent keyblocks',
			yDomain: [0, 1],
			guides: [{ y: 1 / 2, label: '1/2' }, ...guides],
			series: runs
				.filter((r) => r.identities === runs[0]!.identities)
				.map((r): Series => ({
					name: `p = ${r.p}`,
					points: r.samples.map((s) => [s.day, s.powShare]),
					dashed: true
				}))
		});
		return {
			tables: [
				{
					name: 'flash',
					columns: ['p', 'identities', 'day', 'share_R', 'seats_R', 'share_R1', 'seats_R1', 'pow_share'],
					rows
				},
				{ name: 'flash-summary', columns: SUMMARY_COLUMNS, rows: summaryRows }
			],
			charts: [
				...list(params, 'identities').map((k) => ({ name: `flash-k${k}`, svg: chartFor(k) })),
				{ name: 'flash-pow', svg: pow }
			],
			summary: { name: 'flash-summary', columns: SUMMARY_COLUMNS, rows: summaryRows }
		};
	}
};

const SUMMARY_COLUMNS = [
	'p',
	'k',
	'R>1/3 (day)',
	'R>2/3 (day)',
	'R1>1/3 (day)',
	'R1>2/3 (day)',
	'R share at end',
	'seats at end',
	'PoW>1/2 (day)',
	'PoW>2/3 (day)'
];
