/**
 * Selfish mining (Eyal–Sirer SM1) with and without pinned keyblocks, on the same seeds.
 *
 * Without pinning: the longest chain wins; the classic state machine (lead, 0' race), where γ is the
 * share of honest power that mines on the selfish block during a tie. Revenue = selfish share of the
 * main chain; the closed form of Eyal–Sirer is reported next to it as a check.
 * With pinning: every honest keyblock is proposed to the consensus group at once; the selfish miner,
 * seeing it, releases its withheld block at the same height; the group pins by `choosePin` (first
 * non-conflicting arrival) and everything conflicting with a pin is dropped (`conflictsWithPinned`).
 * The reactive release reaches a group majority first with probability w: w = 0 when the group
 * decides on what it received first (the release is always later); w = γ for an attacker as well
 * connected to the group as Eyal–Sirer's γ assumes; w = 1 for an attacker who always reaches the group
 * first. The sweep shows how much the rule's protection rests on pinning the first-seen block.
 */
import { lineChartSvg } from './chart.ts';
import { choosePin, conflictsWithPinned, type KeyblockLink } from './pinning.ts';
import { seededRandom } from './random.ts';
import { list, round, scalar, type Scenario } from './scenario.ts';

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

/** Pinned keyblocks, SM1 as far as the rule lets it: withhold, release on seeing an honest block. */
export function selfishWithPinning(
	alpha: number,
	releaseWins: number,
	events: number,
	seed: number
): Revenue {
	const root = seededRandom(seed);
	const mining = root.fork(1);
	const race = root.fork(2);
	const pins = new Map<number, string>([[0, 'genesis']]);
	let tip = 0;
	let withheld: KeyblockLink[] = [];
	let selfish = 0;
	let honest = 0;
	for (let i = 0; i < events; i++) {
		if (mining.float() < alpha) {
			const last = withheld[withheld.length - 1];
			withheld.push({
				id: `s${i}`,
				height: (last?.height ?? tip) + 1,
				parent: last?.id ?? pins.get(tip)!
			});
			continue;
		}
		const found: KeyblockLink = { id: `h${i}`, height: tip + 1, parent: pins.get(tip)! };
		const release = withheld[0];
		const arrivals = !release ? [found] : race.float() < releaseWins ? [release, found] : [found, release];
		const pinned = choosePin(arrivals, pins)!;
		pins.set(pinned.height, pinned.id);
		tip = pinned.height;
		if (pinned === found) honest++;
		else selfish++;
		// Whatever was withheld on top of a block that lost the pin now conflicts and is worthless.
		withheld = withheld.filter((b) => b !== pinned);
		if (withheld[0] && conflictsWithPinned(withheld[0], pins)) withheld = [];
	}
	return revenue(selfish, honest);
}

export const selfish: Scenario = {
	name: 'selfish',
	title: 'Selfish mining: revenue share with and without pinned keyblocks',
	description:
		'Eyal–Sirer SM1 on the same seeds under the longest-chain rule and under pinning (first non-conflicting keyblock the group receives is pinned).',
	params: [
		{ name: 'alphas', label: 'Selfish hash shares α', default: [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45] },
		{ name: 'gamma', label: 'γ (tie share mining on the selfish block)', default: 0.5 },
		{ name: 'events', label: 'Keyblocks found per run', default: 200000 },
		{ name: 'releaseWins', label: 'Pinned: chance w a reactive release wins', default: [0, 0.5, 0.9, 1] }
	],
	run(params, seed) {
		const gamma = scalar(params, 'gamma');
		const events = scalar(params, 'events');
		const ws = list(params, 'releaseWins');
		if (ws.some((w) => w < 0 || w > 1)) throw new RangeError('releaseWins must be probabilities');
		const rows = list(params, 'alphas').map((alpha) => [
			alpha,
			round(eyalSirerRevenue(alpha, gamma)),
			round(selfishWithoutPinning(alpha, gamma, events, seed).share),
			...ws.map((w) => round(selfishWithPinning(alpha, w, events, seed).share))
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
