/**
 * Pinned transactions on a node (section 5.3 steps (5)-(6), Algorithm 2). The proposer of a height of the
 * transaction consensus selects waiting record transactions in proportion to the institutions'
 * reputation (Algorithm 2), publishes the batch, and proposes its hash; every member verifies each
 * transaction (signature, fees, round, a registered patient, label rules, the chameleon proof, batched)
 * and that the selection is fair to every institution whose transactions it already held, before it
 * votes. The decided batch, with the group's certificate, is applied and gossiped.
 *
 * Proposals carry no signature of their own (the group votes on their hash), so anyone can publish one
 * under any member's name. A proposal from the network is therefore checked before it is kept or
 * forwarded (`offer`): it must be for the next batch, name a member of the group that pins it, and
 * every transaction in it must pass the chain's rules and its proof; what cannot be checked yet (a
 * later batch) is kept, unforwarded, one per proposer. Checked proposals are kept per (batch,
 * proposer) up to PROPOSALS_PER_PROPOSER; when a slot is full the oldest is dropped, never one this
 * member found valid (it may vote or have voted on it) nor our own.
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
import { settleOrFetch } from './wait.ts';
import { refusedAsInvalid } from './value-fetch.ts';

const PROPOSAL_WAIT_MS = 4000;
/** How long validate waits for gossip before asking peers for the proposal (value-fetch.ts). */
const GOSSIP_GRACE_MS = 1000;
/** A transaction that reached us this long before a proposal surely reached its proposer too. */
export const INHIBITION_GRACE_MS = 5000;
/** Checked proposals kept per (batch, proposer): one per consensus round the proposer leads, and spare. */
export const PROPOSALS_PER_PROPOSER = 4;

/** What became of a proposal from the network: kept after checks (forward it), or not (see offer). */
export type ProposalIntake = 'stored' | 'known' | 'stale' | 'later' | 'not-member';

interface Kept {
	proposal: BatchProposal;
	/** Our own, or found valid by validate(): never dropped to make room. */
	protected: boolean;
}

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
	/** Asks peers for a proposal by hash (value-fetch.ts); null when none had it. */
	fetchProposal?(hash: Bytes): Promise<BatchProposal | null>;
	clock?: () => number;
}

export class BatchAgreement {
	private readonly proposals = new Map<string, Kept>();
	/** Proposals for the batch after the next, unchecked and unforwarded, one per proposer. */
	private readonly later = new Map<string, BatchProposal>();
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

	/**
	 * A proposal from the network (structurally decoded already). Checked before it is kept: throws
	 * ValidationError for a breach (a state-dependent code when we may only be behind); 'stored' means
	 * checked and kept (forward it), anything else is neither kept nor forwarded.
	 */
	async offer(proposal: BatchProposal): Promise<ProposalIntake> {
		const { chain } = this.options;
		const key = bytesToHex(proposalHash(proposal));
		if (this.proposals.has(key)) return 'known';
		const next = chain.batchCount + 1;
		if (proposal.sequence < next) return 'stale';
		if (proposal.sequence > next) {
			// Kept aside only under a name in the group we know (one each), so it stays bounded.
			const known = chain.groupForBatch(next) ?? chain.group;
			if (proposal.sequence === next + 1 && known.indexOf(proposal.institution) >= 0)
				this.later.set(bytesToHex(proposal.institution), proposal);
			return 'later';
		}
		const group = chain.groupForBatch(next);
		if (!group)
			throw new ValidationError('batch-sequence', 'the group that pins this batch is not known here yet');
		// Only members vote on proposals; a phone or observer need not spend proof checks on them.
		if (!this.options.driverFor(group)) return 'not-member';
		if (group.indexOf(proposal.institution) < 0)
			throw new ValidationError('batch-proposer', 'the proposal names an institution outside the group');
		await this.checkTransactions(proposal, next);
		if (this.proposals.has(key)) return 'known'; // arrived again while we checked
		if (chain.batchCount + 1 !== next) return 'stale';
		this.keep(proposal, key, false);
		return 'stored';
	}

	/**
	 * Whether the proposal behind `value` is here: by gossip, or else from a peer that holds it, since
	 * gossip will not bring it again (value-fetch.ts); checked through `offer` like a gossiped one.
	 */
	private async arrived(value: Bytes, sequence: number): Promise<boolean> {
		const key = bytesToHex(value);
		// A batch the chain has pinned is settled: answer at once (see KeyblockAgreement.validate).
		const stale = () => sequence !== this.options.chain.batchCount + 1;
		const settled = () => stale() || this.proposals.has(key);
		const fetch = async () => {
			const fetched = await this.options.fetchProposal?.(value);
			if (fetched && !stale()) await this.offer(fetched).catch(refusedAsInvalid);
		};
		await settleOrFetch(
			this.arrivals,
			'proposal',
			settled,
			fetch,
			GOSSIP_GRACE_MS,
			PROPOSAL_WAIT_MS,
			this.clock
		);
		return !stale() && this.proposals.has(key);
	}

	/** Keeps a checked proposal in its (batch, proposer) slot, dropping the oldest unprotected one if full. */
	private keep(proposal: BatchProposal, key: string, isOwn: boolean): void {
		const slot = [...this.proposals].filter(
			([, kept]) =>
				kept.proposal.sequence === proposal.sequence &&
				equalBytes(kept.proposal.institution, proposal.institution)
		);
		if (slot.length >= PROPOSALS_PER_PROPOSER) {
			const victim = slot.find(([, kept]) => !kept.protected);
			if (!victim) return; // every one is ours or found valid: keep those
			this.proposals.delete(victim[0]);
			this.verdicts.delete(victim[0]);
		}
		this.proposals.set(key, { proposal, protected: isOwn });
		this.arrivals.dispatchEvent(new Event('proposal'));
	}

	proposal(value: Bytes): BatchProposal | undefined {
		return this.proposals.get(bytesToHex(value))?.proposal;
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
		this.keep(proposal, bytesToHex(proposalHash(proposal)), true);
		await this.options.publishProposal(proposal);
		return proposalHash(proposal);
	}

	/** ConsensusApplication.validate: every transaction valid, proofs verified, selection fair. */
	async validate(value: Bytes, sequence: number): Promise<boolean> {
		const key = bytesToHex(value);
		if (!(await this.arrived(value, sequence))) return false;
		const cached = this.verdicts.get(key);
		if (cached !== undefined) return cached;
		const kept = this.proposals.get(key)!;
		let verdict = false;
		try {
			// Every kept proposal's proofs were verified (on arrival; ours in the mempool): not again.
			await this.checkTransactions(kept.proposal, sequence, false);
			this.checkFairness(kept.proposal);
			verdict = true;
		} catch (error) {
			if (!(error instanceof ValidationError)) throw error;
		}
		this.verdicts.set(key, verdict);
		if (verdict) kept.protected = true;
		return verdict;
	}

	/**
	 * The rules any member can check alike (the fairness of the selection depends on what this member
	 * held, so validate() checks it only before voting): the batch, its round, every transaction and
	 * (unless `proofs` is false) every proof. Throws ValidationError naming the first breach.
	 */
	private async checkTransactions(proposal: BatchProposal, sequence: number, proofs = true): Promise<void> {
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
		if (!proofs) return;
		const results = await verifier.verifyAll(statements);
		const bad = results.findIndex((ok) => !ok);
		if (bad >= 0)
			throw new ValidationError('record-proof', `the chameleon proof of transaction ${bad + 1} is not valid`);
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
		// Ids by hex: a proposal of 512 against a pool of thousands is looked up, not scanned.
		const held = new Set(table.flatMap((row) => row.transactions.map(bytesToHex)));
		const selected = proposal.transactions.map((tx) => ({
			institution: tx.body.institution,
			transaction: transactionId(tx.body)
		}));
		for (const { institution, transaction } of selected) {
			const key = bytesToHex(institution);
			let row = rows.get(key);
			if (!row) {
				row = { institution, reputation: this.reputationOf(institution), transactions: [] };
				rows.set(key, row);
				table.push(row);
			}
			const id = bytesToHex(transaction);
			if (!held.has(id)) {
				held.add(id);
				(row.transactions as Bytes[]).push(transaction);
			}
		}
		checkFairSelection(table, Math.min(capacity, MAX_PROPOSAL_TRANSACTIONS), selected);
	}

	/** The group decided: apply the pinned batch, tell the network, drop its transactions from the pool. */
	async decided(sequence: number, value: Bytes, certificate: Certificate): Promise<void> {
		const proposal = this.proposal(value);
		if (!proposal || sequence !== this.options.chain.batchCount + 1) return;
		const pinned: PinnedBatch = { sequence, batch: proposalBatch(proposal), certificate };
		await this.options.chain.apply({ type: 'batch', pinned });
		await this.options.publishPinned(pinned);
	}

	/** A batch was pinned (here or by gossip): forget proposals for it and move on. */
	batchPinned(pinned: PinnedBatch): void {
		this.options.mempool.remove(pinned.batch.transactions);
		for (const [key, { proposal }] of this.proposals)
			if (proposal.sequence <= pinned.sequence) {
				this.proposals.delete(key);
				this.verdicts.delete(key);
			}
		// The proposals that waited for this batch can be checked now.
		const waiting = [...this.later.values()];
		this.later.clear();
		for (const proposal of waiting) void this.offer(proposal).catch(() => undefined);
		this.arrivals.dispatchEvent(new Event('proposal')); // a validate() of a pinned batch ends
	}
}

function leafKey(tx: Transaction<RecordBody>): string {
	return `${bytesToHex(tx.body.patient)}:${bytesToHex(tx.body.institution)}`;
}
