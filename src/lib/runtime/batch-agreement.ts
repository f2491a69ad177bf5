/**
 * Pinned transactions on a node (section 5.3 steps (5)-(6), Algorithm 2). The proposer of a height of the
 * transaction consensus selects waiting record transactions in proportion to the institutions'
 * reputation (Algorithm 2), publishes the batch, and proposes its hash; every member verifies each
 * transaction (signature, fees, round, a registered patient, label rules, the chameleon proof, batched)
 * and that the selection is fair to every institution whose transactions it already held, before it
 * votes. The decided batch, with the group's certificate, is applied and gossiped.
 */
import { bytesToHex, equalBytes, type Bytes } from '../core/bytes.ts';
import type { Certificate } from '../core/certificate.ts';
import { ValidationError } from '../core/errors.ts';
import {
	proposalBatch,
	proposalHash,
	MAX_PROPOSAL_TRANSACTIONS,
	type BatchProposal
} from '../core/gossip.ts';
import type { LeafEntry } from '../core/patient-block.ts';
import type { PinnedBatch } from '../core/pinning.ts';
import { checkFairSelection, selectTransactions, type InstitutionQueue } from '../core/selection.ts';
import { transactionId, type RecordBody, type Transaction } from '../core/transaction.ts';
import type { ChameleonStatement, ChameleonVerifier } from '../core/chameleon.ts';
import type { ChainState } from './chain-state.ts';
import { chainReputations } from './chain-metrics.ts';
import type { ConsensusGroup } from '../core/consensus/group.ts';
import type { ConsensusDriver } from './consensus-driver.ts';
import type { Mempool } from './mempool.ts';
import { waitFor } from './wait.ts';

const PROPOSAL_WAIT_MS = 4000;
/** A transaction that reached us this long before a proposal surely reached its proposer too. */
export const INHIBITION_GRACE_MS = 5000;
/** Proposals kept for heights not yet pinned (bounded: one per proposer and round is plenty). */
const MAX_PROPOSALS = 256;

export interface BatchAgreementOptions {
	chain: ChainState;
	mempool: Mempool;
	verifier: ChameleonVerifier;
	/** Null on nodes outside the consensus group. */
	/** The transactions driver when this node is a member of `group`, else null. */
	driverFor(group: ConsensusGroup): ConsensusDriver | null;
	/** This node's institution id (proposer field), when it is an institution. */
	self: Bytes | null;
	/** T_m: transactions per batch. */
	capacity: number;
	publishProposal(proposal: BatchProposal): Promise<void>;
	publishPinned(pinned: PinnedBatch): Promise<void>;
	clock?: () => number;
}

export class BatchAgreement {
	private readonly proposals = new Map<string, BatchProposal>();
	private readonly verdicts = new Map<string, boolean>();
	private readonly arrivals = new EventTarget();
	private readonly clock: () => number;

	constructor(private readonly options: BatchAgreementOptions) {
		this.clock = options.clock ?? Date.now;
	}

	/** R of the institutions outside the group, by epoch (see reputationOf). */
	private outsiders: { epoch: number; reputation: Map<string, number> } | null = null;

	/**
	 * R_i of Algorithm 2 for every institution, not only the members: a member's is the one its group
	 * fixed at the hand-over; another's is computed from the same chain facts the hand-over ranked (the
	 * epoch's boundary), so proposer and verifiers derive the same quotas whatever else they hold.
	 */
	private reputationOf = (institution: Bytes): number => {
		const { chain } = this.options;
		const group = chain.groupForBatch(chain.batchCount + 1) ?? chain.group;
		const index = group.indexOf(institution);
		if (index >= 0) return group.members[index]!.reputation;
		if (this.outsiders?.epoch !== group.epoch) {
			const { epochLength } = chain.membershipParams;
			const end = Math.min(chain.height, group.epoch * epochLength);
			const ranked = chainReputations(chain, end, Math.max(0, end - epochLength));
			this.outsiders = { epoch: group.epoch, reputation: new Map(ranked.map((r) => [r.institution, r.r])) };
		}
		return this.outsiders.reputation.get(bytesToHex(institution)) ?? 0;
	};

	/** Members start the next height when transactions wait and they are not already agreeing on it. */
	async maybeStart(): Promise<void> {
		const { chain, mempool } = this.options;
		if (mempool.recordCount() === 0) return;
		const next = chain.batchCount + 1;
		const group = chain.groupForBatch(next);
		const driver = group && this.options.driverFor(group);
		if (driver && driver.height < next) await driver.start(next, group);
	}

	/** A proposal from the network (or ours). Structurally decoded already. */
	receiveProposal(proposal: BatchProposal): void {
		if (proposal.sequence <= this.options.chain.batchCount) return;
		if (this.proposals.size >= MAX_PROPOSALS) this.proposals.delete(this.proposals.keys().next().value!);
		this.proposals.set(bytesToHex(proposalHash(proposal)), proposal);
		this.arrivals.dispatchEvent(new Event('proposal'));
	}

	proposal(value: Bytes): BatchProposal | undefined {
		return this.proposals.get(bytesToHex(value));
	}

	/** ConsensusApplication.propose: Algorithm 2 over table B, valid transactions only. */
	async propose(sequence: number): Promise<Bytes> {
		const { mempool, chain, self, capacity } = this.options;
		if (!self) return new Uint8Array(32);
		const selected = selectTransactions(
			mempool.table(this.reputationOf),
			Math.min(capacity, MAX_PROPOSAL_TRANSACTIONS)
		);
		const transactions: Transaction<RecordBody>[] = [];
		const staged = new Map<string, LeafEntry[]>();
		for (const { transaction } of selected) {
			const tx = mempool.record(transaction);
			if (!tx || chain.isPinned(transaction)) continue;
			const leaf = leafKey(tx);
			try {
				chain.ledger.checkRecordTransaction(tx, staged.get(leaf) ?? []);
			} catch {
				continue; // became invalid since admission (expired round); prune drops it
			}
			staged.set(leaf, [...(staged.get(leaf) ?? []), { tx, pin: new Uint8Array(32) }]);
			transactions.push(tx);
		}
		if (transactions.length === 0) return new Uint8Array(32);
		const proposal: BatchProposal = { sequence, round: chain.height, institution: self, transactions };
		this.receiveProposal(proposal);
		await this.options.publishProposal(proposal);
		return proposalHash(proposal);
	}

	/** ConsensusApplication.validate: every transaction valid, proofs verified, selection fair. */
	async validate(value: Bytes, sequence: number): Promise<boolean> {
		const key = bytesToHex(value);
		const present = await waitFor(this.arrivals, 'proposal', () => this.proposals.has(key), PROPOSAL_WAIT_MS);
		if (!present) return false;
		const cached = this.verdicts.get(key);
		if (cached !== undefined) return cached;
		let verdict = false;
		try {
			await this.check(this.proposals.get(key)!, sequence);
			verdict = true;
		} catch (error) {
			if (!(error instanceof ValidationError)) throw error;
		}
		this.verdicts.set(key, verdict);
		return verdict;
	}

	/** Every rule a member checks before voting for `proposal`; throws ValidationError naming the first breach. */
	async check(proposal: BatchProposal, sequence: number): Promise<void> {
		const { chain, verifier } = this.options;
		if (proposal.sequence !== sequence)
			throw new ValidationError(
				'batch-sequence',
				`proposal is for batch ${proposal.sequence}, not ${sequence}`
			);
		if (proposal.round > chain.height)
			throw new ValidationError('batch-round', 'the batch is for a round that has not started');
		const statements: ChameleonStatement[] = [];
		const staged = new Map<string, LeafEntry[]>();
		for (const tx of proposal.transactions) {
			const id = transactionId(tx.body);
			if (chain.isPinned(id))
				throw new ValidationError('tx-pinned-twice', 'the batch holds a transaction that is already pinned');
			const leaf = leafKey(tx);
			statements.push(chain.ledger.checkRecordTransaction(tx, staged.get(leaf) ?? []));
			staged.set(leaf, [...(staged.get(leaf) ?? []), { tx, pin: new Uint8Array(32) }]);
		}
		const results = await verifier.verifyAll(statements);
		const bad = results.findIndex((ok) => !ok);
		if (bad >= 0)
			throw new ValidationError('record-proof', `the chameleon proof of transaction ${bad + 1} is not valid`);
		this.checkFairness(proposal);
	}

	/**
	 * Inhibition (section 6.2.2): the selection must give every institution its fair share of the
	 * transactions this member already held well before the proposal, plus those in the proposal.
	 */
	private checkFairness(proposal: BatchProposal): void {
		const { mempool, capacity } = this.options;
		const table: InstitutionQueue[] = mempool
			.table(this.reputationOf, this.clock() - INHIBITION_GRACE_MS)
			.map((row) => ({ ...row, transactions: [...row.transactions] }));
		const rows = new Map(table.map((row) => [bytesToHex(row.institution), row]));
		for (const tx of proposal.transactions) {
			const id = transactionId(tx.body);
			const key = bytesToHex(tx.body.institution);
			let row = rows.get(key);
			if (!row) {
				row = {
					institution: tx.body.institution,
					reputation: this.reputationOf(tx.body.institution),
					transactions: []
				};
				rows.set(key, row);
				table.push(row);
			}
			if (!row.transactions.some((t) => equalBytes(t, id))) (row.transactions as Bytes[]).push(id);
		}
		checkFairSelection(
			table,
			Math.min(capacity, MAX_PROPOSAL_TRANSACTIONS),
			proposal.transactions.map((tx) => ({
				institution: tx.body.institution,
				transaction: transactionId(tx.body)
			}))
		);
	}

	/** The group decided: apply the pinned batch, tell the network, drop its transactions from the pool. */
	async decided(sequence: number, value: Bytes, certificate: Certificate): Promise<void> {
		const proposal = this.proposals.get(bytesToHex(value));
		if (!proposal || sequence !== this.options.chain.batchCount + 1) return;
		const pinned: PinnedBatch = { sequence, batch: proposalBatch(proposal), certificate };
		await this.options.chain.apply({ type: 'batch', pinned });
		await this.options.publishPinned(pinned);
	}

	/** A batch was pinned (here or by gossip): forget proposals for it and move on. */
	batchPinned(pinned: PinnedBatch): void {
		this.options.mempool.remove(pinned.batch.transactions);
		for (const [key, proposal] of this.proposals)
			if (proposal.sequence <= pinned.sequence) this.proposals.delete(key);
	}
}

function leafKey(tx: Transaction<RecordBody>): string {
	return `${bytesToHex(tx.body.patient)}:${bytesToHex(tx.body.institution)}`;
}
