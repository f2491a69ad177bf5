/**
 * What every node derives from the chain it holds, the same way: each institution's reputation
 * (Algorithm 1 over chunks of keyblocks, core reputation.ts), its standing for the next hand-over
 * (core membership.ts) and its balance (core balances.ts, kept by ChainState). Record transactions count
 * once they are attached (their body names the receiving institution and the fees).
 */
import { bytesToHex } from '../core/bytes.ts';
import { ConsensusGroup } from '../core/consensus/group.ts';
import { isEligible, rankIncomingGroup, type Standing } from '../core/consensus/membership.ts';
import { ValidationError } from '../core/errors.ts';
import {
	chunkCount,
	honestFlag,
	reputations,
	type InstitutionActivity,
	type Reputation
} from '../core/reputation.ts';
import type { ChainState } from './chain-state.ts';

/**
 * R of every institution over keyblocks 1..length; H = 0 (so R = 0) for an institution whose
 * equivocation at or below `length` is evidence on the chain. Record transactions count by their round; with
 * `recordsUpTo` only those of rounds up to it (the hand-over leaves out the newest epoch's records, which
 * may still be travelling, so that every member ranks from the same facts).
 */
export function chainReputations(
	chain: ChainState,
	length = chain.height,
	recordsUpTo = length
): Reputation[] {
	const { ledger } = chain;
	const { genesis } = ledger;
	const chunks = Math.max(1, chunkCount(length, genesis.reputation.chunkSize));
	const chunkOf = (height: number) =>
		Math.min(chunks - 1, Math.floor((height - 1) / genesis.reputation.chunkSize));
	const activity = new Map<
		string,
		InstitutionActivity & { keyblocks: number[]; registerTxs: number[]; medicalTxs: number[] }
	>();
	// Founders and every institution admitted by then (institution-registry.ts).
	for (const institution of ledger.registry.members(length + 1)) {
		const id = bytesToHex(institution.id);
		activity.set(id, {
			institution: id,
			keyblocks: new Array<number>(chunks).fill(0),
			registerTxs: new Array<number>(chunks).fill(0),
			medicalTxs: new Array<number>(chunks).fill(0),
			honest: honestFlag(id, chain.misbehaviour, length)
		});
	}
	for (let height = 1; height <= length; height++) {
		const { block } = ledger.keyblock(height)!;
		const chunk = chunkOf(height);
		const miner = activity.get(bytesToHex(ledger.minerOf(block.header)));
		if (miner) miner.keyblocks[chunk]!++;
		for (const tx of block.registers) {
			const receiver = activity.get(bytesToHex(tx.body.institution));
			if (receiver) receiver.registerTxs[chunk]!++;
		}
	}
	for (const patient of ledger.patientBlocks())
		for (const leaf of patient.leaves)
			for (const entry of leaf.entries) {
				const round = Math.max(1, Math.min(length, entry.tx.body.round));
				const receiver = activity.get(bytesToHex(entry.tx.body.institution));
				if (receiver && entry.tx.body.round <= Math.min(length, recordsUpTo))
					receiver.medicalTxs[chunkOf(round)]!++;
			}
	if (length === 0)
		return [...activity.values()].map((a) => ({ institution: a.institution, r1: 0, r2: 0, r: 0 }));
	return reputations(length, [...activity.values()], genesis.reputation);
}

/**
 * Every institution's standing for the hand-over to `epoch`, from this chain as it stands at the epoch's
 * boundary (end = epoch · L): lifetime R over keyblocks 1..end with the records of rounds up to end − L
 * (pinned and attached long before the boundary, so every node ranks the same facts), H, and when it
 * was last seen: the keyblocks it mined up to end and the pinned batches it proposed for rounds up to end − L.
 */
export function chainStandings(chain: ChainState, epoch: number): Standing[] {
	const { epochLength } = chain.membershipParams;
	const end = epoch * epochLength;
	const recordsUpTo = Math.max(0, end - epochLength);
	const seen = new Map<string, number>();
	for (let height = 1; height <= Math.min(end, chain.height); height++)
		seen.set(bytesToHex(chain.ledger.minerOf(chain.ledger.keyblock(height)!.block.header)), height);
	for (let sequence = 1; sequence <= chain.batchCount; sequence++) {
		const { batch } = chain.batch(sequence)!;
		if (batch.round > recordsUpTo) continue;
		const id = bytesToHex(batch.institution);
		seen.set(id, Math.max(seen.get(id) ?? 0, batch.round));
	}
	return chainReputations(chain, end, recordsUpTo).map((r) => ({
		institution: r.institution,
		r: r.r,
		honest: honestFlag(r.institution, chain.misbehaviour, end),
		lastSeen: seen.get(r.institution) ?? 0
	}));
}

/** The group every node expects the hand-over to `epoch` to name (members and weights). */
export function expectedGroup(chain: ChainState, epoch: number): ConsensusGroup {
	const standings = chainStandings(chain, epoch);
	const rOf = new Map(standings.map((s) => [s.institution, s.r]));
	const chosen = new Set(rankIncomingGroup(standings, epoch, chain.membershipParams));
	const members = chain.ledger.registry.all
		.filter((i) => chosen.has(bytesToHex(i.id)))
		.map((i) => ({ id: i.id, blsPublicKey: i.blsKey, reputation: rOf.get(bytesToHex(i.id))! }));
	return new ConsensusGroup(members, epoch);
}

/** Every institution's balance (core balances.ts, kept by the chain as it applies facts). */
/**
 * How far a certified member's reputation may differ from this node's own figure. R2 reads attached
 * records, and attachments are not ordered by consensus: a record attached just before the boundary may
 * have reached the deciding members and not this node, or the reverse, moving R by far less than this.
 */
export const RANKING_TOLERANCE = 0.01;

/**
 * Throws 'handover-ranking' unless `incoming` is the group this chain ranks for its epoch: every member
 * eligible here, its weight within RANKING_TOLERANCE of its R here, as many members as this node ranks,
 * and each of them at least as reputable (within the tolerance) as the last member this node would
 * seat. A group of one, an ineligible or unranked member, or inflated weights are refused.
 */
export function checkHandoverRanking(chain: ChainState, incoming: ConsensusGroup): void {
	const { epoch } = incoming;
	const params = chain.membershipParams;
	const standings = chainStandings(chain, epoch);
	const own = new Map(standings.map((s) => [s.institution, s]));
	const expected = rankIncomingGroup(standings, epoch, params);
	const refuse = (why: string): never => {
		throw new ValidationError('handover-ranking', `the hand-over to epoch ${epoch} ${why}`);
	};
	if (incoming.size !== expected.length)
		refuse(`names ${incoming.size} members; this chain ranks ${expected.length}`);
	const floor = Math.min(...expected.map((id) => own.get(id)!.r));
	for (const member of incoming.members) {
		const id = bytesToHex(member.id);
		const standing = own.get(id);
		if (!standing || !isEligible(standing, epoch, params))
			return refuse(`seats ${id.slice(0, 16)}…, which is not eligible on this chain`);
		if (Math.abs(member.reputation - standing.r) > RANKING_TOLERANCE)
			refuse(`weighs ${id.slice(0, 16)}… at ${member.reputation}; this chain gives it ${standing.r}`);
		if (standing.r < floor - RANKING_TOLERANCE)
			refuse(`seats ${id.slice(0, 16)}…, which this chain does not rank among the top ${params.groupSize}`);
	}
}

export function chainBalances(chain: ChainState): Map<string, bigint> {
	return chain.accounts.all();
}
