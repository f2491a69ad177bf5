/**
 * Inhibition attack (§6.2.2, Table 3, Algorithm 2): a coalition of consensus group members, whenever one
 * of them leads, verifies its own transactions first and ignores a victim institution's. Can it push the
 * victim's share of pinned transactions below its fair share?
 *
 * Consortium: `institutions` institutions with seeded reputations R_i; the consensus group is the top X
 * by R. Every round (Table 3's Δ) each institution sends a Poisson number of transactions, in proportion
 * to its reputation (busier institutions serve more patients), totalling `load` × T_m: above 1 the
 * batches are full and selection decides who waits. One proposal per round; leaders rotate by the
 * group's own rule (`ConsensusGroup.proposer(height, round)`); a batch is pinned when the members that
 * prevote for it form the group's double quorum (`isQuorum`), otherwise the next member proposes in
 * the next round. The f inhibitors are the most reputable group members other than the victim.
 *
 * Modes, on the same arrivals:
 *  - `plain`: a leader-picks-anything chain. Honest leaders still run Algorithm 2; members only check
 *    that transactions are valid (all are), so an inhibitor's `excludingSelection` is pinned.
 *  - `spchain-exclude`: members also run `checkFairSelection` on the proposal, as
 *    `BatchAgreement.checkFairness` does (src/lib/runtime/batch-agreement.ts); honest members prevote
 *    only for a fair selection. The inhibitor proposes the exclusion anyway.
 *  - `spchain-squeeze`: the same members; the inhibitor proposes the most hostile selection the rule
 *    allows (`squeezingSelection`).
 * Inhibitors prevote for their own proposals and for every fair one (stalling the group is another
 * attack, needing > 1/3).
 *
 * Table B is built as the runtime's members build it (Mempool.table + BatchAgreement.reputationOf): one
 * row per institution with its R_i, Algorithm 2's input for every m_i, group member or not (the
 * mempool lists only institutions with waiting transactions; under load every one has some, so the
 * quotas agree). Every transaction sent within Δ is assumed to reach every member before the proposal
 * (the runtime's INHIBITION_GRACE_MS), so all members hold the same table.
 *
 * Fair share, as selection.ts defines it: in each batch the victim is entitled to min(|T_v|, t_v) slots,
 * t_v its reputation-proportional quota of T_m. Its fair share of the run is the sum of those
 * entitlements over the pinned batches divided by all pinned transactions; while the victim has a
 * backlog that equals t_v / T_m.
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import { devMember } from '../../../tests/fixtures/dev-members.ts';
import { ConsensusGroup } from '../core/consensus/group.ts';
import { ValidationError } from '../core/errors.ts';
import { MAX_PROPOSAL_TRANSACTIONS } from '../core/gossip.ts';
import {
	checkFairSelection,
	fairShares,
	quotas,
	selectTransactions,
	type InstitutionQueue,
	type SelectedTransaction
} from '../core/selection.ts';
import { lineChartSvg, type Series } from './chart.ts';
import { excludingSelection, squeezingSelection } from './inhibiting-leader.ts';
import { seededRandom } from './random.ts';
import { list, round, scalar, type ParamValues, type Scenario } from './scenario.ts';

export type InhibitionMode = 'plain' | 'spchain-exclude' | 'spchain-squeeze';
export const INHIBITION_MODES: readonly InhibitionMode[] = ['plain', 'spchain-exclude', 'spchain-squeeze'];

/** The institutions, their reputations and the group: the same for every mode and coalition size. */
export interface Consortium {
	ids: readonly Bytes[];
	reputations: readonly number[];
	group: ConsensusGroup;
	/** Institution indices by R, most reputable first. */
	ranking: readonly number[];
	victim: number;
	/** Poisson mean of each institution's transactions per round. */
	demand: readonly number[];
	capacity: number;
}

export interface InhibitionRun {
	mode: InhibitionMode;
	inhibitors: number;
	/** Coalition's fraction of the group's seats and of its reputation. */
	coalitionSeats: number;
	coalitionReputation: number;
	rejected: number;
	pinned: number;
	victimPinned: number;
	/** Σ over pinned batches of the victim's min(|T_v|, t_v). */
	victimEntitled: number;
	victimShare: number;
	fairShare: number;
	/** t_v / T_m: the reputation-proportional quota alone. */
	quotaShare: number;
	coalitionShare: number;
	coalitionQuotaShare: number;
	/** Rounds between sending and pinning. */
	victimWaitMean: number;
	victimWaitMax: number;
	/** Same for institutions that are neither victim nor inhibitor. */
	othersWaitMean: number;
	victimBacklog: number;
	samples: { round: number; victimShare: number; fairShare: number; victimWait: number; backlog: number }[];
}

/** A compact, unique transaction id: the simulator's counter (selection only compares ids). */
function transactionIdOf(n: number): Bytes {
	const id = new Uint8Array(8);
	new DataView(id.buffer).setBigUint64(0, BigInt(n));
	return id;
}

export function inhibitionConsortium(params: ParamValues, seed: number): Consortium {
	const count = scalar(params, 'institutions');
	const groupSize = scalar(params, 'groupSize');
	const capacity = scalar(params, 'capacity');
	const victimRank = scalar(params, 'victimRank');
	const [lo, hi] = [scalar(params, 'minReputation'), scalar(params, 'maxReputation')];
	if (!Number.isSafeInteger(count) || count < 2) throw new RangeError('institutions must be ≥ 2');
	if (!Number.isSafeInteger(groupSize) || groupSize < 1 || groupSize > count)
		throw new RangeError('groupSize must be between 1 and the number of institutions');
	if (!Number.isSafeInteger(capacity) || capacity < 1 || capacity > MAX_PROPOSAL_TRANSACTIONS)
		throw new RangeError(`capacity T_m must be an integer in [1, ${MAX_PROPOSAL_TRANSACTIONS}]`);
	if (!Number.isSafeInteger(victimRank) || victimRank < 1 || victimRank > count)
		throw new RangeError('victimRank must be between 1 and the number of institutions');
	if (!(lo > 0 && lo <= hi && hi <= 1)) throw new RangeError('reputations must satisfy 0 < min ≤ max ≤ 1');
	const random = seededRandom(seed).fork(1);
	// 1e-6 is the group's weight resolution: finer digits would not change any quota.
	const reputations = Array.from({ length: count }, () => round(lo + (hi - lo) * random.float()));
	const members = reputations.map((r, i) => devMember(i, r).member);
	const ranking = reputations.map((_, i) => i).sort((a, b) => reputations[b]! - reputations[a]! || a - b);
	const group = new ConsensusGroup(ranking.slice(0, groupSize).map((i) => members[i]!));
	const total = reputations.reduce((a, b) => a + b, 0);
	const load = scalar(params, 'load');
	if (!(load > 0)) throw new RangeError('load must be > 0');
	return {
		ids: members.map((m) => m.id),
		reputations,
		group,
		ranking,
		victim: ranking[victimRank - 1]!,
		demand: reputations.map((r) => (load * capacity * r) / total),
		capacity
	};
}

/** The f most reputable group members other than the victim. */
export function inhibitingCoalition(consortium: Consortium, inhibitors: number): Set<number> {
	const { group, ranking, victim } = consortium;
	const candidates = ranking.slice(0, group.size).filter((i) => i !== victim);
	if (!Number.isSafeInteger(inhibitors) || inhibitors < 0 || inhibitors >= group.size)
		throw new RangeError(`inhibitors must be an integer in [0, ${group.size - 1}] (X = ${group.size})`);
	return new Set(candidates.slice(0, inhibitors));
}

export function simulateInhibition(
	params: ParamValues,
	seed: number,
	mode: InhibitionMode,
	inhibitors: number,
	consortium = inhibitionConsortium(params, seed)
): InhibitionRun {
	const { ids, reputations, group, victim, demand, capacity } = consortium;
	const rounds = scalar(params, 'rounds');
	if (!Number.isSafeInteger(rounds) || rounds < 1) throw new RangeError('rounds must be a count ≥ 1');
	const coalition = inhibitingCoalition(consortium, inhibitors);
	const indexOf = new Map(ids.map((id, i) => [bytesToHex(id), i]));
	const memberIndex = (i: number) => group.indexOf(ids[i]!);
	const members = ids.map((_, i) => i).filter((i) => memberIndex(i) >= 0);
	const fullTable = (): InstitutionQueue[] =>
		ids.map((id, i) => ({ institution: id, reputation: reputations[i]!, transactions: [] }));
	const quota = quotas(fullTable(), capacity);
	const coalitionQuota = [...coalition].reduce((s, i) => s + quota[i]!, 0);
	// Same stream in every mode: the arrivals are identical, only the rule differs.
	const arrivals = seededRandom(seed).fork(2);
	const queues = ids.map(() => [] as { id: Bytes; round: number }[]);
	let next = 0;
	let height = 1;
	let attempt = 0;
	const stats = { rejected: 0, pinned: 0, victim: 0, entitled: 0, coalition: 0 };
	const waits = { victim: 0, victimMax: 0, others: 0, othersCount: 0 };
	const samples: InhibitionRun['samples'] = [];
	const sampleEvery = Math.max(1, Math.round(rounds / 50));

	/** Members' prevotes (section 5.3 (6)); the proposal is pinned iff they form the double quorum. */
	const decides = (table: InstitutionQueue[], proposal: SelectedTransaction[], byCoalition: boolean) => {
		if (mode === 'plain') return true;
		let fair = true;
		try {
			checkFairSelection(table, capacity, proposal);
		} catch (error) {
			if (!(error instanceof ValidationError)) throw error;
			fair = false;
		}
		const voters = members.filter((i) => fair || (byCoalition && coalition.has(i)));
		return group.isQuorum(voters.map(memberIndex));
	};

	for (let r = 0; r < rounds; r++) {
		// Step 1: every m_i sends T_i within Δ.
		demand.forEach((mean, i) => {
			for (let k = arrivals.poisson(mean); k > 0; k--)
				queues[i]!.push({ id: transactionIdOf(next++), round: r });
		});
		// Step 2: table B = [T_1 … T_n].
		const table = fullTable().map((row, i) => ({ ...row, transactions: queues[i]!.map((e) => e.id) }));
		const leader = indexOf.get(bytesToHex(group.members[group.proposer(height, attempt)]!.id))!;
		const byCoalition = coalition.has(leader);
		const proposal = !byCoalition
			? selectTransactions(table, capacity)
			: mode === 'spchain-squeeze'
				? squeezingSelection(table, capacity, coalition, victim)
				: excludingSelection(table, capacity, coalition, victim);
		if (decides(table, proposal, byCoalition)) {
			stats.entitled += fairShares(table, capacity)[victim]!;
			const chosen = new Set(proposal.map((s) => s.transaction));
			queues.forEach((queue, i) => {
				const left = queue.filter((e) => !chosen.has(e.id));
				for (const e of queue) {
					if (!chosen.has(e.id)) continue;
					const wait = r - e.round;
					if (i === victim) {
						stats.victim++;
						waits.victim += wait;
						waits.victimMax = Math.max(waits.victimMax, wait);
					} else if (coalition.has(i)) stats.coalition++;
					else {
						waits.others += wait;
						waits.othersCount++;
					}
				}
				queues[i] = left;
			});
			stats.pinned += proposal.length;
			height++;
			attempt = 0;
		} else {
			stats.rejected++;
			attempt++;
		}
		if ((r + 1) % sampleEvery === 0 || r === rounds - 1)
			samples.push({
				round: r + 1,
				victimShare: stats.pinned === 0 ? 0 : stats.victim / stats.pinned,
				fairShare: stats.pinned === 0 ? 0 : stats.entitled / stats.pinned,
				victimWait: stats.victim === 0 ? 0 : waits.victim / stats.victim,
				backlog: queues[victim]!.length
			});
	}
	const share = (n: number) => (stats.pinned === 0 ? 0 : n / stats.pinned);
	return {
		mode,
		inhibitors,
		coalitionSeats: coalition.size / group.size,
		coalitionReputation:
			[...coalition].reduce((s, i) => s + group.weights[memberIndex(i)]!, 0) / group.totalWeight,
		rejected: stats.rejected,
		pinned: stats.pinned,
		victimPinned: stats.victim,
		victimEntitled: stats.entitled,
		victimShare: share(stats.victim),
		fairShare: share(stats.entitled),
		quotaShare: quota[victim]! / capacity,
		coalitionShare: share(stats.coalition),
		coalitionQuotaShare: coalitionQuota / capacity,
		victimWaitMean: stats.victim === 0 ? 0 : waits.victim / stats.victim,
		victimWaitMax: waits.victimMax,
		othersWaitMean: waits.othersCount === 0 ? 0 : waits.others / waits.othersCount,
		victimBacklog: queues[victim]!.length,
		samples
	};
}

const SUMMARY_COLUMNS = [
	'mode',
	'f',
	'coalition seats',
	'coalition R share',
	'rejected',
	'pinned',
	'victim share',
	'fair share',
	'quota t_v/T_m',
	'victim ≥ fair',
	'victim wait (mean)',
	'victim wait (max)',
	'others wait (mean)',
	'victim backlog',
	'coalition share',
	'coalition quota'
];

const LABELS: Record<InhibitionMode, string> = {
	plain: 'plain',
	'spchain-exclude': 'SPChain, exclude',
	'spchain-squeeze': 'SPChain, squeeze'
};

export const inhibition: Scenario = {
	name: 'inhibition',
	title: "Inhibition attack: can leaders starve another institution's transactions?",
	description:
		'f group members, when leading, pin their own transactions first and ignore a victim; the victim’s share of pinned transactions under a plain leader-picks-anything rule and under SPChain’s Algorithm 2 check.',
	params: [
		{ name: 'inhibitors', label: 'Inhibiting members f', default: [0, 1, 2, 3] },
		{ name: 'institutions', label: 'Institutions n', default: 10 },
		{ name: 'groupSize', label: 'Consensus group size X', default: 10 },
		{ name: 'victimRank', label: 'Victim (rank by R, 1 = highest)', default: 5 },
		{ name: 'capacity', label: 'T_m (transactions per batch)', default: 30 },
		{ name: 'load', label: 'Offered load (× T_m per round)', default: 1.2 },
		{ name: 'rounds', label: 'Rounds Δ', default: 300 },
		{ name: 'minReputation', label: 'Lowest R_i (drawn uniformly)', default: 0.4 },
		{ name: 'maxReputation', label: 'Highest R_i', default: 0.9 }
	],
	run(params, seed) {
		const consortium = inhibitionConsortium(params, seed);
		const sizes = list(params, 'inhibitors');
		const runs = sizes.flatMap((f) =>
			INHIBITION_MODES.map((mode) => simulateInhibition(params, seed, mode, f, consortium))
		);
		const rows = runs.flatMap((run) =>
			run.samples.map((s) => [
				run.mode,
				run.inhibitors,
				s.round,
				round(s.victimShare),
				round(s.fairShare),
				round(s.victimWait, 3),
				s.backlog
			])
		);
		const summaryRows = runs.map((run) => [
			run.mode,
			run.inhibitors,
			round(run.coalitionSeats, 4),
			round(run.coalitionReputation, 4),
			run.rejected,
			run.pinned,
			round(run.victimShare, 4),
			round(run.fairShare, 4),
			round(run.quotaShare, 4),
			run.victimPinned >= run.victimEntitled ? 'yes' : 'no',
			round(run.victimWaitMean, 2),
			run.victimWaitMax,
			round(run.othersWaitMean, 2),
			run.victimBacklog,
			round(run.coalitionShare, 4),
			round(run.coalitionQuotaShare, 4)
		]);
		// f = 0 is the same run in every mode: drawn once.
		const shown = runs.filter((r) => r.inhibitors > 0 || r.mode === 'plain');
		const name = (r: InhibitionRun) =>
			r.inhibitors === 0 ? 'no inhibitor' : `${LABELS[r.mode]}, f = ${r.inhibitors}`;
		const series = (value: (s: InhibitionRun['samples'][number]) => number) =>
			shown.map((r): Series => ({
				name: name(r),
				points: r.samples.map((s) => [s.round, value(s)]),
				dashed: r.mode === 'plain' && r.inhibitors > 0
			}));
		const { victim, reputations, group, capacity } = consortium;
		const who = `rank ${scalar(params, 'victimRank')}, R = ${round(reputations[victim]!, 2)}, X = ${group.size}, T_m = ${capacity}, seed ${seed}`;
		const quotaShare = runs[0]!.quotaShare;
		const shareSvg = lineChartSvg({
			title: `Victim's share of pinned txs — ${who}`,
			xLabel: 'rounds Δ',
			yLabel: "victim's share of pinned transactions",
			guides: [{ y: quotaShare, label: `fair share t_v/T_m = ${round(quotaShare, 3)}` }],
			series: series((s) => s.victimShare)
		});
		const waitSvg = lineChartSvg({
			title: `Victim's mean wait in rounds — ${who}`,
			xLabel: 'rounds Δ',
			yLabel: 'mean rounds waited (pinned so far)',
			series: series((s) => s.victimWait)
		});
		const summary = { name: 'inhibition-summary', columns: SUMMARY_COLUMNS, rows: summaryRows };
		return {
			tables: [
				{
					name: 'inhibition',
					columns: [
						'mode',
						'inhibitors',
						'round',
						'victim_share',
						'fair_share',
						'victim_mean_wait',
						'victim_backlog'
					],
					rows
				},
				summary
			],
			charts: [
				{ name: 'inhibition', svg: shareSvg },
				{ name: 'inhibition-latency', svg: waitSvg }
			],
			summary
		};
	}
};
