/**
 * Which keyblock a consensus member proposes and prevotes for at the next height (§5.1.2 pinning,
 * §6.2.2 selfish mining). The chain only grows by pinned keyblocks, so the only place a withholding
 * miner can win is this choice. The rule: a member backs the FIRST valid candidate it received, and
 * nothing else, until the height has been open for `splitMs` since that first arrival; only then (two
 * blocks split the members and no quorum formed) does it accept any valid candidate it holds, so the
 * group still decides.
 *
 * Why it gives withholding no edge: a miner that keeps a block and releases it when it sees an honest
 * one reaches each member after the honest block unless it is better connected to that member than the
 * honest miner; a decision in the first rounds needs more than 2/3 of the members to have seen the
 * released block first. The simulator (`src/lib/sim/selfish-mining.ts`) runs exactly these functions
 * with the group's own proposer rotation and quorum, and docs/security-evaluation.md gives the table.
 */

/** A valid candidate as this member received it: its hash (hex) and local arrival time (ms). */
export interface CandidateArrival {
	hash: string;
	at: number;
}

/** After this long without a decision the first-arrival rule yields to any valid candidate. */
export const PIN_SPLIT_MS = 5_000;

/** What this member proposes: its first valid candidate, or undefined while it holds none. */
export function pinProposal(arrivals: readonly CandidateArrival[]): string | undefined {
	return arrivals[0]?.hash;
}

/**
 * Whether this member prevotes for `value`: it is the first valid candidate it received, or the height
 * has been open for `splitMs` and `value` is a valid candidate it holds. `arrivals` in arrival order.
 */
export function acceptsPin(
	arrivals: readonly CandidateArrival[],
	value: string,
	now: number,
	splitMs = PIN_SPLIT_MS
): boolean {
	const first = arrivals[0];
	if (!first) return false;
	if (first.hash === value) return true;
	return now - first.at >= splitMs && arrivals.some((a) => a.hash === value);
}
