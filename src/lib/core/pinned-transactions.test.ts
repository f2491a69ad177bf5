/**
 * Pinned transactions end to end through real consensus: institutions submit their transactions (table B),
 * the round's proposer selects a batch with Algorithm 2, members validate the batch (fair selection) before
 * prevoting, the group pins it, and the certificate pays creators and verifiers. The proposer of round 0 is
 * an inhibiting leader that proposes only its own transactions: honest members refuse it, and the batch
 * that gets pinned gives every institution at least its fair share.
 */
import { describe, expect, it } from 'vitest';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { bytesToHex, fromHex, type Bytes } from './bytes.ts';
import type { Certificate } from './certificate.ts';
import { devMembers } from '../../../tests/fixtures/dev-members.ts';
import { ConsensusGroup } from './consensus/group.ts';
import { attachMachine, InMemoryNetwork } from './consensus/in-memory-network.ts';
import { ConsensusMachine } from './consensus/machine.ts';
import { MemoryVotingStateStore } from './consensus/voting-state.ts';
import { ValidationError } from './errors.ts';
import { sha256 } from './hash.ts';
import { batchHash, verifyPinnedBatch, type TransactionBatch } from './pinning.ts';
import { verifiersOf } from './balances.ts';
import { rewardsOf } from './rewards.ts';
import {
	checkFairSelection,
	fairShares,
	selectTransactions,
	type InstitutionQueue,
	type SelectedTransaction
} from './selection.ts';

const CAPACITY = 12;
const reputations = [0.9, 0.6, 0.5, 0.4];
const dev = devMembers(reputations);
const group = new ConsensusGroup(dev.map((d) => d.member));
const memberAt = (index: number) => dev.find((d) => group.indexOf(d.member.id) === index)!;

/** Table B: every institution (here: the members) submitted 10 transactions within Δ. */
const table: InstitutionQueue[] = dev.map((d, i) => ({
	institution: d.member.id,
	reputation: reputations[i]!,
	transactions: Array.from({ length: 10 }, (_, k) => sha256(new Uint8Array([0x7c, i, k])))
}));
const owner = new Map(
	table.flatMap((row) => row.transactions.map((t) => [bytesToHex(t), row.institution] as const))
);

/** Batches proposers have disseminated, by hash (stands for the batch gossip of the network layer). */
const disseminated = new Map<string, TransactionBatch>();
function disseminate(proposer: Bytes, selection: readonly SelectedTransaction[]): Bytes {
	const batch: TransactionBatch = {
		round: 1,
		institution: proposer,
		transactions: selection.map((s) => s.transaction)
	};
	const hash = batchHash(batch);
	disseminated.set(bytesToHex(hash), batch);
	return hash;
}

/** What each member checks before prevoting for a batch: it is known and a fair Algorithm 2 selection. */
async function validate(value: Bytes): Promise<boolean> {
	const batch = disseminated.get(bytesToHex(value));
	if (!batch) return false;
	const selection = batch.transactions.map((transaction) => ({
		institution: owner.get(bytesToHex(transaction)) ?? new Uint8Array(32),
		transaction
	}));
	try {
		checkFairSelection(table, CAPACITY, selection);
		return true;
	} catch (error) {
		if (error instanceof ValidationError) return false;
		throw error;
	}
}

describe('pinned transactions through consensus, against an inhibiting leader', () => {
	it('the inhibiting proposal is refused and the pinned batch gives everyone their fair share', async () => {
		const inhibitor = memberAt(group.proposer(1, 0));
		const greedy = table
			.find((row) => row.institution === inhibitor.member.id)!
			.transactions.slice(0, CAPACITY)
			.map((transaction) => ({ institution: inhibitor.member.id, transaction }));
		const greedyHash = disseminate(inhibitor.member.id, greedy);

		const rng = xoroshiro128plus(42);
		const network = new InMemoryNetwork(
			{ int: (from, to) => uniformInt(rng, from, to) },
			{ gst: 0, dropPerMille: 0, duplicatePerMille: 0, maxDelayBeforeGst: 0, maxDelayAfterGst: 100 }
		);
		const decisions = new Map<string, Certificate>();
		for (const d of dev) {
			const self = bytesToHex(d.member.id);
			const machine = new ConsensusMachine({
				kind: 'transactions',
				signer: d.signer,
				store: new MemoryVotingStateStore(),
				application: {
					propose: async () =>
						d === inhibitor ? greedyHash : disseminate(d.member.id, selectTransactions(table, CAPACITY)),
					validate
				}
			});
			const start = attachMachine(network, self, machine, (output) => {
				if (output.type === 'decision') decisions.set(self, output.certificate);
			});
			start(1, group);
		}
		await network.run(() => decisions.size === dev.length, 120_000);

		expect(decisions.size).toBe(dev.length);
		const values = new Set([...decisions.values()].map((c) => bytesToHex(c.value)));
		expect(values.size).toBe(1);
		const certificate = [...decisions.values()][0]!;
		expect(bytesToHex(certificate.value)).not.toBe(bytesToHex(greedyHash));
		expect(certificate.round).toBeGreaterThan(0);

		const batch = disseminated.get(bytesToHex(certificate.value))!;
		const pinned = { sequence: 1, batch, certificate };
		verifyPinnedBatch(pinned, group);
		expect(new Set(batch.transactions.map(bytesToHex)).size).toBe(batch.transactions.length);
		const counts = new Map<string, number>();
		for (const t of batch.transactions) {
			const institution = bytesToHex(owner.get(bytesToHex(t))!);
			counts.set(institution, (counts.get(institution) ?? 0) + 1);
		}
		fairShares(table, CAPACITY).forEach((share, i) =>
			expect(counts.get(bytesToHex(table[i]!.institution)) ?? 0).toBeGreaterThanOrEqual(share)
		);

		// The batch pays the institutions that append the transactions and the group that pinned it.
		const paid = rewardsOf(
			{
				type: 'batch',
				sequence: 1,
				creators: [...counts].map(([id, transactions]) => ({ id: fromHex(id, 32), transactions })),
				fees: BigInt(batch.transactions.length) * 2n,
				verifiers: verifiersOf(group.members)
			},
			{ keyblockReward: 1000n, microblockReward: 100n, creatorShare: 2000 }
		);
		expect([...paid.values()].reduce((a, b) => a + b, 0n)).toBe(100n + 24n);
	});
});
