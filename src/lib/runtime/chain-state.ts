/**
 * A node's chain: the core Ledger plus what the consensus group made final, persisted as a journal.
 *
 * Five kinds of facts change the chain, each verified before it is applied and written in one atomic
 * store write with its journal position:
 *   - a pinned keyblock (the keyblock with the group's certificate over its hash at its height);
 *   - a pinned batch of record transaction ids (the group's certificate over the batch hash);
 *   - an attachment (an institution appends pinned records behind its leaf of a patient block);
 *   - a hand-over (the outgoing group's certificate over the next epoch's group, membership.ts);
 *   - evidence (two conflicting votes signed by one member, evidence.ts), which sets that member's
 *     honest flag H = 0 from the keyblock height of the offence on (Algorithm 1).
 * Facts are keyed by their journal position (zero-padded), alone at first and then packed into
 * segments (journal-segments.ts), so a restart replays them in the order they were applied, and a peer
 * syncing from us receives them in an order that is valid.
 * The facts' bytes and tables are chain-fact.ts; which group certifies what, group-schedule.ts.
 * A fact may also be applied certified-first (certified-sync.ts): every rule but its signatures and
 * proofs, which `verification` checks in the background.
 * Why this file is long: each kind of fact is applied twice here, checked (apply) and restored from
 * the verified journal (open), over the same private state, which a split would have to expose.
 */
import { bytesToHex, equalBytes, type Bytes } from '../core/bytes.ts';
import { Ledger } from '../core/chain.ts';
import type { ChameleonVerifier } from '../core/chameleon.ts';
import { FeeAccounts, type Payable } from '../core/balances.ts';
import type { ConsensusKind } from '../core/certificate.ts';
import { decodeVerifiedCanonical } from '../core/encoding.ts';
import { decodeAttachment } from '../core/gossip.ts';
import { readAttachmentSummary, type AttachmentSummary } from '../core/attachment-summary.ts';
import type { ConsensusGroup, GroupMember } from '../core/consensus/group.ts';
import { epochOf, type Handover, type MembershipParams } from '../core/consensus/membership.ts';
import { ensure, ValidationError } from '../core/errors.ts';
import { verifyEvidence } from '../core/evidence.ts';
import type { GenesisConfig } from '../core/genesis.ts';
import type { ProvenMisbehaviour } from '../core/reputation.ts';
import { keyblockHash, type Keyblock } from '../core/keyblock.ts';
import {
	assertNotConflictingWithPins,
	decodePin,
	pinnedBatchId,
	verifyKeyblockPin,
	verifyPinnedBatch,
	type PinnedBatch
} from '../core/pinning.ts';
import { transactionId, type RecordBody } from '../core/transaction.ts';
import type { Store } from '../store/store.ts';
import {
	attachmentKey,
	decodeFact,
	encodeFact,
	FACT_TYPES,
	offenceKey,
	pinValueOf,
	type ChainFact
} from './chain-fact.ts';
import { GroupSchedule } from './group-schedule.ts';
import { JournalTail, layOutJournal, type JournalEntry } from './journal-segments.ts';
import { listJournal, readStoredJournal, type JournalReads, type JournalRow } from './stored-journal.ts';
import {
	derivedOf,
	EMPTY_HEAD,
	extendHead,
	headWrite,
	knownPatientBlocks,
	splitHashes,
	type JournalDistrust,
	type VerifiedHead
} from './verified-journal.ts';
import { checkHandoverRanking } from './chain-metrics.ts';
import { BackgroundVerification, deferChecks, readTrust, type DeferredChecks } from './certified-sync.ts';

export interface ChainStateOptions {
	genesis: GenesisConfig;
	store: Store;
	/** The genesis epoch's group (see genesis-group.ts); later groups come from hand-overs. */
	group: ConsensusGroup;
	verifier: ChameleonVerifier;
	clock?: () => number;
	/** The store's journal, read ahead by the caller (readJournalRows); read here when absent. */
	journal?: Promise<JournalReads>;
	/** Bytes of facts a journal segment holds (journal-segments.ts); smaller in tests. */
	segmentBytes?: number;
}

export type FactOutcome = 'applied' | 'known';

export class ChainState {
	readonly ledger: Ledger;
	/** Balances: fees debited from their payers, rewards credited (core balances.ts). */
	readonly accounts: FeeAccounts;
	/** Which group certifies what (group-schedule.ts). */
	private readonly schedule: GroupSchedule;
	private readonly store: Store;
	private readonly verifier: ChameleonVerifier;
	private readonly clock: () => number;
	private readonly batches: PinnedBatch[] = [];
	private readonly attachments = new Set<string>();
	private readonly misbehaviours: ProvenMisbehaviour[] = [];
	private readonly offences = new Set<string>();
	private journalLength = 0;
	/** The journal's single rows after its last segment (journal-segments.ts). */
	private tail = new JournalTail();
	/** Facts of a journal in an older format that open() dropped (0 when the journal was current). */
	discardedFacts = 0;
	/** How open() applied the stored journal: replayed as verified before, or verified again. */
	opened: 'restored' | 'verified' = 'verified';
	/** Why open() verified a stored journal again (undefined: it was restored, or empty). */
	distrust: JournalDistrust | undefined;
	/** Hash chain over the journal applied so far (verified-journal.ts), stored with each fact. */
	private head: VerifiedHead = EMPTY_HEAD;
	/** Serialises fact application: a fact is checked against the state the previous one left. */
	private queue: Promise<unknown> = Promise.resolve();
	private readonly listeners = new Set<(fact: ChainFact) => void>();
	/** The certified part of the journal and its background verification (certified-sync.ts). */
	readonly verification: BackgroundVerification;

	private constructor(options: ChainStateOptions) {
		this.ledger = new Ledger(options.genesis, {
			epochOf: (height) => epochOf(height, this.schedule.membership),
			groupOfEpoch: (epoch) => this.schedule.groupOfEpoch(epoch)
		});
		this.accounts = new FeeAccounts(options.genesis);
		const membership = {
			groupSize: options.genesis.consensusGroupSize,
			epochLength: options.genesis.epochLength
		};
		this.schedule = new GroupSchedule(
			options.group,
			membership,
			(sequence) => this.batches[sequence - 1]?.batch.round
		);
		this.store = options.store;
		this.verifier = options.verifier;
		this.clock = options.clock ?? Date.now;
		this.verification = new BackgroundVerification(
			this.verifier,
			this,
			(writes) => this.serially(() => this.store.write(writes)),
			this.clock
		);
	}

	/**
	 * Opens the chain kept in `store`. A journal that hashes to the head this node wrote as it verified
	 * it (verified-journal.ts) is replayed without checking its signatures, certificates and proofs
	 * again; any other is re-verified fact by fact (`opened` says which, `distrust` why). A journal
	 * written in another format is discarded (see JOURNAL_FORMAT; `discardedFacts` says how many facts):
	 * it is a replica of the public chain, which the node syncs again from its peers.
	 */
	static async open(options: ChainStateOptions): Promise<ChainState> {
		const state = new ChainState(options);
		const { store } = options;
		const { journal, head, distrust, tail, storedKeys, discarded } = await readStoredJournal(
			store,
			options.journal
		);
		const { certifiedFrom = Infinity, invalid } = await readTrust(store);
		state.verification.invalid = invalid;
		state.discardedFacts = discarded;
		state.distrust = journal.length > 0 ? distrust : undefined;
		state.opened = distrust === undefined ? 'restored' : 'verified';
		// Verifying: the journal is written again with what verification derives, and a new head.
		const verifiedAgain: JournalEntry[] = [];
		for (const row of journal) {
			const type = FACT_TYPES[row.type]!;
			state.journalLength = row.position + 1;
			const verified = distrust === undefined && row.position < certifiedFrom;
			if (verified && type === 'attachment' && state.restoreEncoded(row)) {
				state.verification.restored(row.position);
				continue;
			}
			const fact = decodeFact(type, row.bytes, options.genesis, verified);
			// Facts applied certified-first are certified again, and verified again in the background.
			if (distrust === undefined && !verified)
				state.verification.applied(row.position, fact, await state.checkDeferred(fact));
			else if (verified) {
				await state.restore(fact, row);
				state.verification.restored(row.position);
			} else {
				await state.check(fact);
				const again = derivedOf(fact, state.ledger);
				state.head = await extendHead(state.head, row.position, row.type, row.bytes, again);
				verifiedAgain.push({ ...row, derived: again });
				state.verification.applied(row.position, fact, undefined);
			}
		}
		if (distrust === undefined) {
			state.head = head;
			state.tail = new JournalTail(tail, options.segmentBytes);
			return state;
		}
		const laidOut = layOutJournal(verifiedAgain, options.segmentBytes);
		const written = new Set(laidOut.writes.map(({ table, key }) => `${table}/${key}`));
		const stale = storedKeys.filter(({ table, key }) => !written.has(`${table}/${key}`));
		await store.write([
			...stale.map(({ table, key }) => ({ table, key, value: null })),
			...laidOut.writes,
			headWrite(state.head),
			state.verification.markerWrite()
		]);
		state.tail = laidOut.tail;
		return state;
	}

	/** Re-applies a fact this node verified before (open() checked the journal's head): no rules run. */
	private async restore(fact: ChainFact, row: JournalRow): Promise<void> {
		const { derived, bytes } = row;
		switch (fact.type) {
			case 'keyblock': {
				this.ledger.restoreKeyblock(fact.block, knownPatientBlocks(derived, fact.block.registers.length));
				// Balances are derived state: replayed (cheap integer sums), never trusted from storage.
				const { height } = fact.block.header;
				this.accounts.applyKeyblock(
					height,
					this.ledger.minerOf(fact.block.header),
					fact.block.registers.map((tx) => tx.body)
				);
				return;
			}
			case 'batch': {
				const { pinned } = fact;
				const id = (derived && splitHashes(derived, 1)?.[0]) ?? pinnedBatchId(pinned);
				this.ledger.recordPinnedBatch(id, pinned.batch.transactions, pinned.sequence);
				this.batches.push(pinned);
				const group = this.groupForBatch(pinned.sequence)!;
				this.accounts.applyBatch(pinned.sequence, pinned.batch.institution, group.members);
				return;
			}
			case 'handover':
				this.schedule.admit(fact.handover);
				return;
			case 'attachment': {
				const { patient, institution, entries, leafProof } = fact.attachment;
				const stored = derived && splitHashes(derived, entries.length);
				const ids = stored ?? entries.map((e) => transactionId(e.tx.body));
				// The leaf keeps the bytes; the decoded attachment is dropped after this (encoded-leaf.ts).
				const decode = () => decodeAttachment(bytes, decodeVerifiedCanonical).entries;
				const encoded = { count: entries.length, decode };
				const sequences = this.ledger.restoreRecords(patient, institution, encoded, leafProof, ids);
				this.accounts.applyAttachment(institution, this.attachmentParts(bodiesOf(entries), sequences));
				this.attachments.add(attachmentKey(fact.attachment, ids, stored ? row.derivedDigest : undefined));
				return;
			}
			case 'evidence': // rare, and verifyEvidence also names the offender
				return this.check(fact);
		}
	}

	/**
	 * Restores an attachment from its bytes and stored ids without decoding its records (core
	 * attachment-summary.ts); false when those are not there to read, and restore() then decodes it.
	 */
	private restoreEncoded({ bytes, derived, derivedDigest }: JournalRow): boolean {
		let summary: AttachmentSummary;
		try {
			summary = readAttachmentSummary(bytes);
		} catch {
			return false;
		}
		const { patient, institution, leafProof, entries } = summary;
		const ids = derived && splitHashes(derived, entries.length);
		if (!ids) return false;
		const decode = () => decodeAttachment(bytes, decodeVerifiedCanonical).entries;
		const encoded = { count: entries.length, decode };
		const sequences = this.ledger.restoreRecords(patient, institution, encoded, leafProof, ids);
		const bodies = entries.map((e) => ({ institution, fees: e.fees }));
		this.accounts.applyAttachment(institution, this.attachmentParts(bodies, sequences));
		this.attachments.add(attachmentKey({ patient, institution }, ids, derivedDigest));
		return true;
	}

	get height(): number {
		return this.ledger.height;
	}

	/** The newest group: the one in office (or about to be, once the chain reaches its epoch). */
	get group(): ConsensusGroup {
		return this.schedule.group;
	}

	get epochs(): number {
		return this.schedule.epochs;
	}

	/** The group that pins keyblock `height`, or undefined while its epoch's hand-over is missing. */
	groupFor(height: number): ConsensusGroup | undefined {
		return this.schedule.groupFor(height);
	}

	/** The group that pins batch `sequence`; undefined until batch sequence−1 is known. */
	groupForBatch(sequence: number): ConsensusGroup | undefined {
		return this.schedule.groupForBatch(sequence);
	}

	groupOfEpoch(epoch: number): ConsensusGroup | undefined {
		return this.schedule.groupOfEpoch(epoch);
	}

	get membershipParams(): MembershipParams {
		return this.schedule.membership;
	}

	get batchCount(): number {
		return this.batches.length;
	}

	get length(): number {
		return this.journalLength;
	}

	batch(sequence: number): PinnedBatch | undefined {
		return this.batches[sequence - 1];
	}

	/** The hand-over to `epoch` (1 onwards), once applied. */
	handover(epoch: number): Handover | undefined {
		return this.schedule.handover(epoch);
	}

	/**
	 * Throws 'keyblock-conflicts-pin' for a keyblock that cannot be on this chain: another block at a
	 * pinned height, or a child of anything but the pinned block below it. Pins are final, so such a
	 * block is invalid for good (this is what defeats withheld, selfish-mined branches).
	 */
	assertNotConflictingWithPins(block: Keyblock): void {
		const { height, prev } = block.header;
		const pins = [height, height - 1].flatMap((h) => {
			const pinned = h >= 1 ? this.ledger.keyblock(h) : undefined;
			return pinned ? [{ height: h, keyblockHash: pinned.hash }] : [];
		});
		assertNotConflictingWithPins({ height, hash: keyblockHash(block.header), prev }, pins);
	}

	/** Proven misbehaviour on this chain, for the honest flag H of reputation.ts. */
	get misbehaviour(): readonly ProvenMisbehaviour[] {
		return this.misbehaviours;
	}

	/** The group whose members vote at `height` of consensus `kind` (undefined while it is unknown). */
	groupForVotes(kind: ConsensusKind, height: number): ConsensusGroup | undefined {
		return this.schedule.groupForVotes(kind, height);
	}

	/** The whole journal is verified (no certified part left, nothing found invalid). */
	get fullyVerified(): boolean {
		return this.verification.caughtUp;
	}

	isPinned(txId: Bytes): boolean {
		return this.ledger.pinOf(txId) !== undefined;
	}

	onFact(listener: (fact: ChainFact) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/**
	 * Verifies and applies a fact, then persists it. Resolves 'known' for a fact already applied (gossip
	 * and sync deliver facts more than once); throws ValidationError for a fact that is not valid here.
	 * 'certified': its signatures and proofs are checked in the background (certified-sync.ts).
	 */
	apply(fact: ChainFact, mode: 'verified' | 'certified' = 'verified'): Promise<FactOutcome> {
		const run = this.queue.then(async () => {
			const { invalid } = this.verification;
			if (invalid)
				throw new ValidationError('chain-invalid', `this node's chain is invalid: ${invalid.message}`);
			if (this.isKnown(fact)) return 'known' as const;
			let checks: DeferredChecks | undefined;
			if (mode === 'certified') checks = await this.checkDeferred(fact);
			else await this.check(fact);
			const at = this.journalLength++;
			const bytes = encodeFact(fact);
			const derived = derivedOf(fact, this.ledger);
			const type = FACT_TYPES.indexOf(fact.type);
			this.head = await extendHead(this.head, at, type, bytes, derived);
			const writes = [...this.tail.append({ position: at, type, bytes, derived }), headWrite(this.head)];
			this.verification.applied(at, fact, checks);
			if (!this.verification.caughtUp) writes.push(this.verification.markerWrite());
			await this.store.write(writes);
			for (const listener of this.listeners) listener(fact);
			return 'applied' as const;
		});
		this.queue = run.catch(() => undefined);
		return run;
	}

	/** The verified journal from position `from`, in order (what a syncing peer receives). */
	async *journal(from = 0): AsyncGenerator<{ type: ChainFact['type']; bytes: Bytes }> {
		const { verifiedLength } = this.verification;
		for (const { position, type, bytes } of await listJournal(this.store, from))
			if (position < verifiedLength) yield { type, bytes };
	}

	/** Runs `task` after the facts being applied (so the certified-sync marker is written in order). */
	private serially<T>(task: () => Promise<T>): Promise<T> {
		const run = this.queue.then(task);
		this.queue = run.catch(() => undefined);
		return run;
	}

	/** Every rule for `fact` but its signatures and proofs, which are returned for the background. */
	private checkDeferred(fact: ChainFact): Promise<DeferredChecks> {
		return deferChecks((verifier) => this.check(fact, verifier));
	}

	private isKnown(fact: ChainFact): boolean {
		switch (fact.type) {
			case 'keyblock': {
				const known = this.ledger.keyblock(fact.block.header.height);
				return known !== undefined && equalBytes(known.hash, keyblockHash(fact.block.header));
			}
			case 'batch': {
				const known = this.batch(fact.pinned.sequence);
				return known !== undefined && equalBytes(pinValueOf(known), pinValueOf(fact.pinned));
			}
			case 'attachment':
				return this.attachments.has(
					attachmentKey(
						fact.attachment,
						fact.attachment.entries.map((e) => transactionId(e.tx.body))
					)
				);
			case 'handover':
				return this.schedule.knows(fact.handover);
			case 'evidence':
				return this.offences.has(offenceKey(fact.evidence));
		}
	}

	private verifyBatchPin(pinned: PinnedBatch): void {
		const group = this.groupForBatch(pinned.sequence);
		ensure(
			group !== undefined,
			'handover-missing',
			`batch ${pinned.sequence} belongs to an epoch whose group has not been handed over yet`
		);
		verifyPinnedBatch(pinned, group);
	}

	/**
	 * An attachment's entries grouped by the pinned batch each belongs to (`sequences`, one per entry),
	 * with that batch's group.
	 */
	private attachmentParts(
		bodies: readonly Payable[],
		sequences: readonly (number | undefined)[]
	): { sequence: number; bodies: Payable[]; group: GroupMember[] }[] {
		const parts = new Map<number, { sequence: number; bodies: Payable[]; group: GroupMember[] }>();
		bodies.forEach((body, i) => {
			const sequence = sequences[i];
			if (sequence === undefined)
				throw new ValidationError('tx-unpinned', 'an attached record was not pinned by the consensus group');
			const part = parts.get(sequence) ?? {
				sequence,
				bodies: [],
				group: [...this.groupForBatch(sequence)!.members]
			};
			part.bodies.push(body);
			parts.set(sequence, part);
		});
		return [...parts.values()];
	}

	/** Every rule for `fact` on top of the current state; applies it to the in-memory state if it holds. */
	private async check(fact: ChainFact, verifier = this.verifier): Promise<void> {
		switch (fact.type) {
			case 'keyblock': {
				const { block } = fact;
				ensure(block.pin !== undefined, 'keyblock-unpinned', 'only pinned keyblocks extend the chain');
				const hash = keyblockHash(block.header);
				const group = this.groupFor(block.header.height);
				ensure(
					group !== undefined,
					'handover-missing',
					`keyblock ${block.header.height} belongs to an epoch whose group has not been handed over yet`
				);
				verifyKeyblockPin(decodePin(block.pin), { height: block.header.height, keyblockHash: hash }, group);
				// After the certificate: a forged pin is the sender's fault, a second real one the group's.
				this.assertNotConflictingWithPins(block);
				this.accounts.checkPayable(
					block.registers.map((tx) => tx.body),
					`keyblock ${block.header.height}`
				);
				this.ledger.appendKeyblock(block, this.clock());
				const { height } = block.header;
				this.accounts.applyKeyblock(
					height,
					this.ledger.minerOf(block.header),
					block.registers.map((tx) => tx.body)
				);
				return;
			}
			case 'batch': {
				const { pinned } = fact;
				ensure(
					pinned.sequence === this.batches.length + 1,
					'batch-sequence',
					`expected pinned batch ${this.batches.length + 1}, got ${pinned.sequence}`
				);
				this.verifyBatchPin(pinned);
				// A transaction is pinned at most once, even by a batch of the same id.
				const again = pinned.batch.transactions.find((id) => this.isPinned(id));
				if (again)
					throw new ValidationError(
						'transaction-pinned-twice',
						`transaction ${bytesToHex(again).slice(0, 16)}… was already pinned in batch ${this.ledger.pinnedSequence(again)}`
					);
				this.ledger.recordPinnedBatch(pinnedBatchId(pinned), pinned.batch.transactions, pinned.sequence);
				this.batches.push(pinned);
				const group = this.groupForBatch(pinned.sequence)!;
				this.accounts.applyBatch(pinned.sequence, pinned.batch.institution, group.members);
				return;
			}
			case 'handover': {
				const { handover } = fact;
				const incoming = this.schedule.checkHandover(handover, this.height, (m) => {
					const institution = this.ledger.registry.memberAt(m.id, this.height + 1);
					return institution !== undefined && equalBytes(institution.blsKey, m.blsPublicKey);
				});
				// The certificate is necessary, not sufficient: this node ranks its own chain (issue 11).
				checkHandoverRanking(this, incoming);
				this.schedule.admit(handover, incoming);
				return;
			}
			case 'attachment': {
				const { attachment } = fact;
				const ids = attachment.entries.map((e) => transactionId(e.tx.body));
				const sequences = ids.map((id) => this.ledger.pinnedSequence(id));
				const parts = this.attachmentParts(bodiesOf(attachment.entries), sequences);
				this.accounts.checkPayable(bodiesOf(attachment.entries), 'attachment');
				await this.ledger.attachRecords(
					attachment.patient,
					attachment.institution,
					attachment.entries,
					attachment.leafProof,
					verifier
				);
				this.accounts.applyAttachment(attachment.institution, parts);
				this.attachments.add(attachmentKey(attachment, ids));
				return;
			}
			case 'evidence': {
				const { kind, height } = fact.evidence.first;
				const group = this.groupForVotes(kind, height);
				ensure(
					group !== undefined,
					'evidence-group',
					`the evidence is about ${kind} height ${height}, whose group this node does not know yet`
				);
				const { offender } = verifyEvidence(fact.evidence, group);
				this.misbehaviours.push({ offender, height: this.schedule.offenceHeight(kind, height) });
				this.offences.add(offenceKey(fact.evidence));
				return;
			}
		}
	}
}

const bodiesOf = (entries: readonly { tx: { body: RecordBody } }[]) => entries.map((e) => e.tx.body);
