/**
 * Selfish mining (Eyal–Sirer SM1) under the longest-chain rule and under SPChain's pinned keyblocks,
 * on the same seeds.
 *
 * Without pinning: the longest chain wins; the classic state machine (lead, 0' race), where γ is the
 * share of honest power that mines on the selfish block during a tie. Revenue = selfish share of the
 * main chain; the closed form of Eyal–Sirer is reported next to it as a check.
 *
 * With pinning, the node's own rules decide every height: each honest keyblock reaches the group; the
 * selfish miner, seeing it, releases its withheld block at the same height. Each member receives the
 * release first with probability w (the attacker's connectivity, Eyal–Sirer's γ read per member), the
 * other block `RELEASE_LAG_MS` later. Then rounds run as the consensus machine runs them: the proposer is
 * `ConsensusGroup.proposer(height, round)`, it proposes `pinProposal` of its arrivals, every member
 * prevotes by `acceptsPin` at the round's start time (core pin-choice.ts, what KeyblockAgreement calls),
 * and the value is pinned when its prevoters are a `ConsensusGroup.isQuorum`; round r starts after the
 * machine's DEFAULT_TIMEOUTS of the rounds before it. Whatever conflicts with the pin is dropped by
 * core pinning.ts `isConflictingWithPin`. Nothing of the rule is re-implemented here.
 */
import { DEFAULT_TIMEOUTS } from '../core/consensus/machine.ts';
import { ConsensusGroup } from '../core/consensus/group.ts';
import { acceptsPin, pinProposal, type CandidateArrival } from '../core/consensus/pin-choice.ts';
import { isConflictingWithPin, type KeyblockPin } from '../core/pinning.ts';
import { lineChartSvg } from './chart.ts';
import { seededRandom, type Random } from './random.ts';
import { list, round, scalar, type Scenario } from './scenario.ts';
import { simulatedMember } from './sim-members.ts';

/** How much later the second of two competing keyblocks reaches a member (one gossip hop). */
export const RELEASE_LAG_MS = 500;
const MAX_ROUNDS = 64;

export interface Revenue {
	selfish: number;
	honest: number;
	share: number;
}

function revenue(selfish: number, honest: number): Revenue {
	return { selfish, honest, share: selfish / (selfish + honest) };
}

/** Eyal–Sirer's closed-form relative revenue of SM1 for hash share α and tie parameter γ. */
export function eyalSirerRevenue(alpha: number, gamma: number): number {
	const a = alpha;
	return (a * (1 - a) ** 2 * (4 * a + gamma * (1 - 2 * a)) - a ** 3) / (1 - a * (1 + (2 - a) * a));
}

/** Longest-chain rule, SM1. */
export function selfishWithoutPinning(alpha: number, gamma: number, events: number, seed: number): Revenue {
	const root = seededRandom(seed);
	const mining = root.fork(1);
	const race = root.fork(2);
	let lead = 0;
	let tie = false;
	let selfish = 0;
	let honest = 0;
	for (let i = 0; i < events; i++) {
		const bySelfish = mining.float() < alpha;
		if (tie) {
			// Two branches of equal length, one selfish: the next block decides.
			if (bySelfish) selfish += 2;
			else if (race.float() < gamma) {
				selfish += 1;
				honest += 1;
			} else honest += 2;
			tie = false;
		} else if (bySelfish) lead++;
		else if (lead === 0) honest++;
		else if (lead === 1) {
			// The selfish miner publishes its block: a tie.
			tie = true;
			lead = 0;
		} else if (lead === 2) {
			// Publishing both blocks orphans the honest one.
			selfish += 2;
			lead = 0;
		} else {
			// Far ahead: publish one block, which the longer private chain will keep.
			selfish += 1;
			lead--;
		}
	}
	return revenue(selfish, honest);
}

/** A simulated keyblock: its hash stands in for the real one (32 bytes from a counter). */
interface SimBlock {
	height: number;
	hash: Uint8Array;
	prev: Uint8Array;
	selfish: boolean;
	/** The hash as the pin rule sees it (hex of a real keyblock hash; any unique string here). */
	key: string;
}

function blockHash(n: number): Uint8Array {
	const out = new Uint8Array(32);
	new DataView(out.buffer).setFloat64(0, n + 1);
	return out;
}

/** Start of round r in ms after the first arrival, as the consensus machine's timeouts run. */
export function roundStart(r: number): number {
	const { propose, prevote, precommit, increment } = DEFAULT_TIMEOUTS;
	let t = 0;
	for (let j = 0; j < r; j++) t += propose + prevote + precommit + 3 * j * increment;
	return t;
}

/**
 * One contested height decided by the node's rules: `first[i]` says whether member i received the
 * selfish release before the honest block. Returns which block the group pins.
 */
export function decideContest(
	group: ConsensusGroup,
	height: number,
	honest: string,
	release: string,
	releaseFirst: readonly boolean[]
): string {
	const arrivals: CandidateArrival[][] = releaseFirst.map((early) =>
		early
			? [
					{ hash: release, at: 0 },
					{ hash: honest, at: RELEASE_LAG_MS }
				]
			: [
					{ hash: honest, at: 0 },
					{ hash: release, at: RELEASE_LAG_MS }
				]
	);
	for (let r = 0; r < MAX_ROUNDS; r++) {
		const proposal = pinProposal(arrivals[group.proposer(height, r)]!)!;
		const now = roundStart(r);
		const prevoters = arrivals.flatMap((a, i) => (acceptsPin(a, proposal, now) ? [i] : []));
		if (group.isQuorum(prevoters)) return proposal;
	}
	throw new Error(`no pin within ${MAX_ROUNDS} rounds`);
}

/** A group of n equal members (the rule's outcome depends on counts and weights, not on who). */
export function equalGroup(size: number): ConsensusGroup {
	return new ConsensusGroup(Array.from({ length: size }, (_, i) => simulatedMember(i, 1)));
}

/** Pinned keyblocks, SM1 as far as the node's rules let it: withhold, release on seeing an honest block. */
export function selfishWithPinning(
	alpha: number,
	releaseFirst: number,
	events: number,
	seed: number,
	group: ConsensusGroup = equalGroup(4)
): Revenue {
	const root = seededRandom(seed);
	const mining = root.fork(1);
	const race: Random = root.fork(2);
	let tip: SimBlock = { height: 0, hash: blockHash(-1), prev: new Uint8Array(32), selfish: false, key: 'g' };
	let withheld: SimBlock[] = [];
	let selfish = 0;
	let honest = 0;
	for (let i = 0; i < events; i++) {
		if (mining.float() < alpha) {
			const parent = withheld[withheld.length - 1] ?? tip;
			withheld.push({
				height: parent.height + 1,
				hash: blockHash(i),
				prev: parent.hash,
				selfish: true,
				key: `s${i}`
			});
			continue;
		}
		const found: SimBlock = {
			height: tip.height + 1,
			hash: blockHash(i),
			prev: tip.hash,
			selfish: false,
			key: `h${i}`
		};
		const release = withheld[0];
		let pinned = found;
		if (release && release.height === found.height) {
			const first = Array.from({ length: group.size }, () => race.float() < releaseFirst);
			const winner = decideContest(group, found.height, found.key, release.key, first);
			pinned = winner === release.key ? release : found;
		}
		tip = pinned;
		if (pinned.selfish) selfish++;
		else honest++;
		// What conflicts with the new pin (the losing release and everything built on it) is worthless.
		const pin: KeyblockPin = { height: pinned.height, keyblockHash: pinned.hash };
		withheld = withheld.filter((b) => b !== pinned);
		if (withheld[0] && isConflictingWithPin(withheld[0], pin)) withheld = [];
	}
	return revenue(selfish, honest);
}

export const selfish: Scenario = {
	name: 'selfish',
	title: 'Selfish mining: revenue share with and without pinned keyblocks',
	description:
		"Eyal–Sirer SM1 on the same seeds under the longest-chain rule and under the node's pin rule (members back their first valid arrival; group quorum and proposer rotation).",
	params: [
		{ name: 'alphas', label: 'Selfish hash shares α', default: [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45] },
		{ name: 'gamma', label: 'γ (tie share mining on the selfish block)', default: 0.5 },
		{ name: 'events', label: 'Keyblocks found per run', default: 50000 },
		{
			name: 'releaseFirst',
			label: 'Pinned: chance w each member receives the release first',
			default: [0, 0.5, 0.9, 1]
		},
		{ name: 'groupSize', label: 'Consensus group size X', default: 4 }
	],
	run(params, seed) {
		const gamma = scalar(params, 'gamma');
		const events = scalar(params, 'events');
		const ws = list(params, 'releaseFirst');
		if (ws.some((w) => w < 0 || w > 1)) throw new RangeError('releaseFirst must be probabilities');
		const group = equalGroup(scalar(params, 'groupSize'));
		const rows = list(params, 'alphas').map((alpha) => [
			alpha,
			round(eyalSirerRevenue(alpha, gamma)),
			round(selfishWithoutPinning(alpha, gamma, events, seed).share),
			...ws.map((w) => round(selfishWithPinning(alpha, w, events, seed, group).share))
		]);
		const columns = ['alpha', 'eyal_sirer_theory', 'longest_chain', ...ws.map((w) => `pinned_w${w}`)];
		const svg = lineChartSvg({
			title: `Selfish miner's revenue share, γ = ${gamma} (seed ${seed})`,
			xLabel: 'selfish hash share α',
			yLabel: 'share of rewarded keyblocks',
			yDomain: [0, 1],
			series: [
				{ name: 'honest mining (= α)', points: rows.map((r) => [r[0]!, r[0]!]), dashed: true },
				{ name: 'Eyal–Sirer theory', points: rows.map((r) => [r[0]!, r[1]!]), dashed: true },
				{ name: 'longest chain (sim)', points: rows.map((r) => [r[0]!, r[2]!]) },
				...ws.map((w, i) => ({
					name: `pinned, w = ${w}`,
					points: rows.map((r) => [r[0]!, r[3 + i]!] as const)
				}))
			]
		});
		const table = { name: 'selfish', columns, rows };
		return { tables: [table], charts: [{ name: 'selfish', svg }], summary: table };
	}
};
