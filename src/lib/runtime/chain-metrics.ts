/**
 * What every node derives from the chain it holds, the same way: each institution's reputation
 * (Algorithm 1 over chunks of keyblocks, core reputation.ts) and balances (rewards for pinned facts,
 * core rewards.ts). Record transactions count once they are attached (their body names the receiving
 * institution and the fees); a pinned batch whose records are not attached yet pays when they are.
 */
import { bytesToHex } from '../core/bytes.ts';
import { certificateSigners, balances, type Creator, type PinnedFact } from '../core/rewards.ts';
import {
	chunkCount,
	honestFlag,
	reputations,
	type InstitutionActivity,
	type Reputation
} from '../core/reputation.ts';
import type { ChainState } from './chain-state.ts';

/** Creators' part of a batch's reward and fees (basis points); the verifying members share the rest. */
export const CREATOR_SHARE_BPS = 2000;

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
	for (const institution of genesis.institutions) {
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
		const miner = activity.get(bytesToHex(block.header.miner));
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

export function chainBalances(chain: ChainState): Map<string, bigint> {
	const { ledger } = chain;
	const { genesis } = ledger;
	const facts: PinnedFact[] = [];
	for (let height = 1; height <= ledger.height; height++) {
		const { block } = ledger.keyblock(height)!;
		const registerFees = block.registers.reduce(
			(sum, tx) => sum + BigInt(tx.body.fees.service + tx.body.fees.transaction),
			0n
		);
		facts.push({ type: 'keyblock', height, miner: block.header.miner, registerFees });
	}
	for (let sequence = 1; sequence <= chain.batchCount; sequence++) {
		const pinned = chain.batch(sequence)!;
		const creators = new Map<string, Creator>();
		let fees = 0n;
		for (const id of pinned.batch.transactions) {
			const location = ledger.recordLocation(id);
			if (!location) continue;
			const entry = ledger.patientBlock(location.patient)!.leaves[location.leaf]!.entries[location.index]!;
			const { body } = entry.tx;
			fees += BigInt(body.fees.service + body.fees.transaction);
			const key = bytesToHex(body.institution);
			const creator = creators.get(key) ?? { id: body.institution, transactions: 0 };
			creator.transactions++;
			creators.set(key, creator);
		}
		if (creators.size === 0) continue;
		// The members who verified are those of the group that pinned this batch, not today's group.
		const group = chain.groupForBatch(sequence)!;
		facts.push({
			type: 'batch',
			sequence,
			creators: [...creators.values()],
			fees,
			verifiers: certificateSigners(pinned.certificate, group)
		});
	}
	return balances(facts, {
		keyblockReward: BigInt(genesis.keyblockReward),
		microblockReward: BigInt(genesis.microblockReward),
		creatorShare: CREATOR_SHARE_BPS
	});
}
