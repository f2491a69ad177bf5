/**
 * The reward system (section 5.2). Two kinds of income, both paid only for PINNED facts:
 * - Keyblock: the miner of a pinned keyblock gets the mining reward plus the register fees of the
 *   register transactions packed in it.
 * - Microblock (a pinned transaction batch): the microblock reward plus the batch's transaction fees are
 *   "shared among the reputable miners who create the microblocks and verify the transactions": the
 *   institutions that append the batch's transactions to their patients' microblocks (the creators) take
 *   `creatorShare` basis points, split by the number of transactions each appends, and the members of
 *   the group that pinned the batch (the verifiers) share the rest in proportion to their reputation
 *   (the members, not one certificate's signers: nodes hold different quorums' certificates of one batch).
 *
 * Amounts are integers (bigint, smallest unit). Splits use the largest-remainder method with ties going
 * to the lower member id, so every node derives the same balances from the same pinned facts, and the
 * parts always add up to the whole (nothing is created or lost by rounding). Who pays the fees, and
 * when each fact is credited, is balances.ts (the chain's accounts).
 */
import { bytesToHex, compareBytes, type Bytes } from './bytes.ts';
import { reputationWeight } from './consensus/group.ts';
import { ensure } from './errors.ts';

export interface RewardParams {
	/** Mining reward of a pinned keyblock. */
	keyblockReward: bigint;
	/** Mining reward of a pinned transaction batch (microblock reward). */
	microblockReward: bigint;
	/** Part of a batch's reward and fees for the institutions that append it, in basis points (0-10000). */
	creatorShare: number;
}

export interface Verifier {
	id: Bytes;
	reputation: number;
}

export type PinnedFact =
	| { type: 'keyblock'; height: number; miner: Bytes; registerFees: bigint }
	| { type: 'batch'; sequence: number; creators: Creator[]; fees: bigint; verifiers: Verifier[] };

/** An institution appending `transactions` of the batch's transactions to its patients' microblocks. */
export interface Creator {
	id: Bytes;
	transactions: number;
}

function checkParams(params: RewardParams): void {
	ensure(
		params.keyblockReward >= 0n && params.microblockReward >= 0n,
		'reward-params',
		'rewards must be ≥ 0'
	);
	ensure(
		Number.isSafeInteger(params.creatorShare) && params.creatorShare >= 0 && params.creatorShare <= 10_000,
		'reward-params',
		'creatorShare is in basis points, 0..10000'
	);
}

/** Splits `amount` by integer weights, largest remainder, ties to the lower id; equal split if all weights are 0. */
export function splitByWeight(
	amount: bigint,
	parties: readonly { id: Bytes; weight: number }[]
): Map<string, bigint> {
	ensure(amount >= 0n, 'reward-amount', 'amount must be ≥ 0');
	ensure(parties.length > 0, 'reward-parties', 'nobody to share with');
	const sorted = [...parties].sort((a, b) => compareBytes(a.id, b.id));
	const weights = sorted.map((p) => {
		ensure(Number.isSafeInteger(p.weight) && p.weight >= 0, 'reward-weight', 'weights are integers ≥ 0');
		return BigInt(p.weight);
	});
	let total = weights.reduce((a, b) => a + b, 0n);
	if (total === 0n) {
		weights.fill(1n);
		total = BigInt(weights.length);
	}
	const shares = sorted.map((p, i) => {
		const exact = amount * weights[i]!;
		return { key: bytesToHex(p.id), i, value: exact / total, remainder: exact % total };
	});
	let left = amount - shares.reduce((s, x) => s + x.value, 0n);
	for (const share of [...shares].sort((a, b) =>
		a.remainder === b.remainder ? a.i - b.i : a.remainder > b.remainder ? -1 : 1
	)) {
		if (left === 0n) break;
		share.value++;
		left--;
	}
	const out = new Map<string, bigint>();
	for (const share of shares) out.set(share.key, (out.get(share.key) ?? 0n) + share.value);
	return out;
}

/** What one pinned fact pays, per institution id (hex). */
export function rewardsOf(fact: PinnedFact, params: RewardParams): Map<string, bigint> {
	checkParams(params);
	if (fact.type === 'keyblock') {
		ensure(fact.registerFees >= 0n, 'reward-amount', 'fees must be ≥ 0');
		return new Map([[bytesToHex(fact.miner), params.keyblockReward + fact.registerFees]]);
	}
	ensure(fact.fees >= 0n, 'reward-amount', 'fees must be ≥ 0');
	ensure(fact.verifiers.length > 0, 'reward-verifiers', 'a pinned batch has at least one verifier');
	ensure(fact.creators.length > 0, 'reward-creators', 'a pinned batch has at least one creator');
	const pot = params.microblockReward + fact.fees;
	const creatorPart = (pot * BigInt(params.creatorShare)) / 10_000n;
	const out = splitByWeight(
		pot - creatorPart,
		fact.verifiers.map((v) => ({ id: v.id, weight: reputationWeight(v.reputation) }))
	);
	const creators = splitByWeight(
		creatorPart,
		fact.creators.map((c) => ({ id: c.id, weight: c.transactions }))
	);
	for (const [id, amount] of creators) out.set(id, (out.get(id) ?? 0n) + amount);
	return out;
}
