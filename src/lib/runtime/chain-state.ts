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
 * Each table keys its rows by the journal position (zero-padded), so a restart replays them in the
 * order they were applied, and a peer syncing from us receives them in an order that is valid.
 *
 * Which group certifies what, so that every node picks the same group without a clock: keyblock h is
 * pinned by the group of epochOf(h) (the keyblocks of a new epoch wait for its hand-over); batch n is
 * pinned by the group of the epoch of batch n−1's keyblock round (batch 1 by the genesis group), a fact
 * every node holds before it can start batch n.
 */
import { bytesToHex, equalBytes, type Bytes } from '../core/bytes.ts';
import { Ledger } from '../core/chain.ts';
import type { ChameleonVerifier } from '../core/chameleon.ts';
import { FeeAccounts } from '../core/balances.ts';
import type { ConsensusKind } from '../core/certificate.ts';
import { ConsensusGroup, type GroupMember } from '../core/consensus/group.ts';
import {
	decodeHandover,
	encodeHandover,
	epochOf,
	verifyHandover,
	type Handover,
	type MembershipParams
} from '../core/consensus/membership.ts';
import { ensure, ValidationError } from '../core/errors.ts';
import {
	decodeEvidence,
	encodeEvidence,
	verifyEvidence,
	type EquivocationEvidence
} from '../core/evidence.ts';
import type { GenesisConfig } from '../core/genesis.ts';
import type { ProvenMisbehaviour } from '../core/reputation.ts';
import { decodeAttachment, encodeAttachment, type Attachment } from '../core/gossip.ts';
import { decodeKeyblock, encodeKeyblock, keyblockHash, type Keyblock } from '../core/keyblock.ts';
import {
	assertNotConflictingWithPins,
	decodePin,
	decodePinnedBatch,
	encodePinnedBatch,
	pinnedBatchId,
	PinnedTransactions,
	verifyKeyblockPin,
	verifyPinnedBatch,
	type PinnedBatch
} from '../core/pinning.ts';
import { transactionId, type RecordBody } from '../core/transaction.ts';
import type { Store, StoreWrite, TableName } from '../store/store.ts';
import {
	checkJournal,
	decodeHead,
	DERIVED_RANGE,
	derivedOf,
	derivedWrite,
	EMPTY_HEAD,
	extendHead,
	headWrite,
	positionOfDerived,
	splitHashes,
	VERIFIED_HEAD_KEY,
	type JournalDistrust,
	type VerifiedHead
} from './verified-journal.ts';
import { checkHandoverRanking } from './chain-metrics.ts';

export type ChainFact =
	| { type: 'keyblock'; block: Keyblock }
	| { type: 'batch'; pinned: PinnedBatch }
	| { type: 'attachment'; attachment: Attachment }
	| { type: 'handover'; handover: Handover }
	| { type: 'evidence'; evidence: EquivocationEvidence };

const TABLE_OF: Record<ChainFact['type'], TableName> = {
	keyblock: 'keyblocks',
	batch: 'certificates',
	attachment: 'patientBlocks',
	handover: 'handovers',
	evidence: 'evidence'
};

export const FACT_TYPES = Object.keys(TABLE_OF) as readonly ChainFact['type'][];

/**
 * The journal's format, kept in the store's meta table. Bump it when stored facts stop replaying under
 * the current rules. 2: leaf entries name the pinned batch (pinning.ts pinnedBatchId), not a certificate.
 * 3: hand-overs must match the node's own ranking (lifetime R, presence) and fees are debited.
 */
export const JOURNAL_FORMAT = new TextEncoder().encode('spchain-journal/3');
const JOURNAL_FORMAT_KEY = 'journal-format';

const POSITION_DIGITS = 12;
const position = (n: number) => String(n).padStart(POSITION_DIGITS, '0');

export function encodeFact(fact: ChainFact): Bytes {
	switch (fact.type) {
		case 'keyblock':
			return encodeKeyblock(fact.block);
		case 'batch':
			return encodePinnedBatch(fact.pinned);
		case 'attachment':
			return encodeAttachment(fact.attachment);
		case 'handover':
			return encodeHandover(fact.handover);
		case 'evidence':
			return encodeEvidence(fact.evidence);
	}
}

export function decodeFact(type: ChainFact['type'], bytes: Bytes, genesis: GenesisConfig): ChainFact {
	switch (type) {
		case 'keyblock':
			return { type, block: decodeKeyblock(bytes, genesis.maxRegistersPerKeyblock) };
		case 'batch':
			return { type, pinned: decodePinnedBatch(bytes) };
		case 'attachment':
			return { type, attachment: decodeAttachment(bytes) };
		case 'handover':
			return { type, handover: decodeHandover(bytes) };
		case 'evidence':
			return { type, evidence: decodeEvidence(bytes) };
	}
}

export interface ChainStateOptions {
	genesis: GenesisConfig;
	store: Store;
	/** The genesis epoch's group (see genesis-group.ts); later groups come from hand-overs. */
	group: ConsensusGroup;
	verifier: ChameleonVerifier;
	clock?: () => number;
}

export type FactOutcome = 'applied' | 'known';

export class ChainState {
	readonly ledger: Ledger;
	/** Balances: fees debited from their payers, rewards credited (core balances.ts). */
	readonly accounts: FeeAccounts;
	/** Group of each epoch so far, by epoch number (epoch 0: genesis). */
	private readonly groups: ConsensusGroup[];
	private readonly membership: MembershipParams;
	private readonly store: Store;
	private readonly verifier: ChameleonVerifier;
	private readonly clock: () => number;
	private readonly pinned = new PinnedTransactions();
	private readonly batches: PinnedBatch[] = [];
	/** The hand-overs applied, in epoch order (light clients are served them, light-sync.ts). */
	private readonly handovers: Handover[] = [];
	private readonly attachments = new Set<string>();
	private readonly misbehaviours: ProvenMisbehaviour[] = [];
	private readonly offences = new Set<string>();
	private journalLength = 0;
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

	private constructor(options: ChainStateOptions) {
		this.ledger = new Ledger(options.genesis, {
			epochOf: (height) => epochOf(height, this.membership),
			groupOfEpoch: (epoch) => this.groups[epoch]
		});
		this.accounts = new FeeAccounts(options.genesis);
		this.groups = [options.group];
		this.membership = {
			groupSize: options.genesis.consensusGroupSize,
			epochLength: options.genesis.epochLength
		};
		this.store = options.store;
		this.verifier = options.verifier;
		this.clock = options.clock ?? Date.now;
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
		let rows: { at: string; table: TableName; type: ChainFact['type']; bytes: Bytes }[] = [];
		for (const type of FACT_TYPES)
			for (const [at, bytes] of await store.list(TABLE_OF[type]))
				rows.push({ at, table: TABLE_OF[type], type, bytes });
		const format = await store.get('meta', JOURNAL_FORMAT_KEY);
		if (!format || !equalBytes(format, JOURNAL_FORMAT)) {
			await store.write([
				...rows.map(({ table, at }) => ({ table, key: at, value: null })),
				{ table: 'meta', key: JOURNAL_FORMAT_KEY, value: JOURNAL_FORMAT }
			]);
			state.discardedFacts = rows.length;
			rows = [];
		}
		rows.sort((a, b) => (a.at < b.at ? -1 : 1));
		const derivedRows = await store.list('meta', DERIVED_RANGE);
		const derived = new Map(derivedRows.map(([key, value]) => [positionOfDerived(key), value]));
		const journal = rows.map((r) => ({
			position: Number(r.at),
			type: FACT_TYPES.indexOf(r.type),
			bytes: r.bytes,
			derived: derived.get(Number(r.at))
		}));
		const stored = decodeHead(await store.get('meta', VERIFIED_HEAD_KEY));
		const { head, distrust } = checkJournal(journal, stored);
		state.distrust = rows.length > 0 ? distrust : undefined;
		state.opened = distrust === undefined ? 'restored' : 'verified';
		// Verifying: the head and derived rows are written again for what verification derives.
		const rewrite: StoreWrite[] = derivedRows.map(([key]) => ({ table: 'meta', key, value: null }));
		for (const row of journal) {
			const fact = decodeFact(FACT_TYPES[row.type]!, row.bytes, options.genesis);
			if (distrust === undefined) await state.restore(fact, row.derived);
			else {
				await state.check(fact);
				const again = derivedOf(fact, state.ledger);
				state.head = extendHead(state.head, row.position, row.type, row.bytes, again);
				if (again) rewrite.push(derivedWrite(row.position, again));
			}
			state.journalLength = row.position + 1;
		}
		if (distrust === undefined) state.head = head;
		else await store.write([...rewrite, headWrite(state.head)]);
		return state;
	}

	/** Re-applies a fact this node verified before (open() checked the journal's head): no rules run. */
	private async restore(fact: ChainFact, derived: Bytes | undefined): Promise<void> {
		switch (fact.type) {
			case 'keyblock': {
				const roots = derived && splitHashes(derived, fact.block.registers.length);
				this.ledger.restoreKeyblock(fact.block, roots);
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
				this.pinned.admit(pinned);
				this.ledger.recordPinnedBatch(pinnedBatchId(pinned), pinned.batch.transactions);
				this.batches.push(pinned);
				const group = this.groupForBatch(pinned.sequence)!;
				this.accounts.applyBatch(pinned.sequence, pinned.batch.institution, group.members);
				return;
			}
			case 'handover':
				this.groups.push(new ConsensusGroup(fact.handover.members, fact.handover.epoch));
				this.handovers.push(fact.handover);
				return;
			case 'attachment': {
				const { patient, institution, entries, leafProof } = fact.attachment;
				const ids =
					(derived && splitHashes(derived, entries.length)) ?? entries.map((e) => transactionId(e.tx.body));
				this.ledger.restoreRecords(patient, institution, entries, leafProof, ids);
				this.accounts.applyAttachment(institution, this.attachmentParts(entries, ids));
				this.attachments.add(attachmentKey(fact.attachment, ids));
				return;
			}
			case 'evidence': // rare, and verifyEvidence also names the offender
				return this.check(fact);
		}
	}

	get height(): number {
		return this.ledger.height;
	}

	/** The newest group: the one in office (or about to be, once the chain reaches its epoch). */
	get group(): ConsensusGroup {
		return this.groups[this.groups.length - 1]!;
	}

	get epochs(): number {
		return this.groups.length;
	}

	/** The group that pins keyblock `height`, or undefined while its epoch's hand-over is missing. */
	groupFor(height: number): ConsensusGroup | undefined {
		return this.groups[epochOf(height, this.membership)];
	}

	/** The group that pins batch `sequence` (see the header); undefined until batch sequence−1 is known. */
	groupForBatch(sequence: number): ConsensusGroup | undefined {
		if (sequence <= 1) return this.groups[0];
		const previous = this.batches[sequence - 2];
		return previous && this.groupFor(Math.max(1, previous.batch.round));
	}

	groupOfEpoch(epoch: number): ConsensusGroup | undefined {
		return this.groups[epoch];
	}

	get membershipParams(): MembershipParams {
		return this.membership;
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
		return this.handovers[epoch - 1];
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
		switch (kind) {
			case 'keyblock':
				return this.groupFor(height);
			case 'transactions':
				return this.groupForBatch(height);
			case 'membership':
				return this.groupOfEpoch(height - 1);
		}
	}

	/**
	 * The keyblock height an offence at `height` of `kind` belongs to, the same on every node however late
	 * the evidence reaches it: the keyblock itself, the round whose group pins the batch, or the epoch's end.
	 */
	private offenceHeight(kind: ConsensusKind, height: number): number {
		switch (kind) {
			case 'keyblock':
				return height;
			case 'transactions':
				return Math.max(1, this.batches[height - 2]?.batch.round ?? 1);
			case 'membership':
				return height * this.membership.epochLength;
		}
	}

	isPinned(txId: Bytes): boolean {
		return this.pinned.has(txId);
	}

	onFact(listener: (fact: ChainFact) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/**
	 * Verifies and applies a fact, then persists it. Resolves 'known' for a fact already applied (gossip
	 * and sync deliver facts more than once); throws ValidationError for a fact that is not valid here.
	 */
	apply(fact: ChainFact): Promise<FactOutcome> {
		const run = this.queue.then(async () => {
			if (this.isKnown(fact)) return 'known' as const;
			await this.check(fact);
			const at = this.journalLength++;
			const bytes = encodeFact(fact);
			const derived = derivedOf(fact, this.ledger);
			this.head = extendHead(this.head, at, FACT_TYPES.indexOf(fact.type), bytes, derived);
			const writes: StoreWrite[] = [
				{ table: TABLE_OF[fact.type], key: position(at), value: bytes },
				headWrite(this.head)
			];
			if (derived) writes.push(derivedWrite(at, derived));
			await this.store.write(writes);
			for (const listener of this.listeners) listener(fact);
			return 'applied' as const;
		});
		this.queue = run.catch(() => undefined);
		return run;
	}

	/** The journal from position `from`, in order (what a syncing peer receives). */
	async *journal(from = 0): AsyncGenerator<{ type: ChainFact['type']; bytes: Bytes }> {
		const rows: { at: string; type: ChainFact['type']; bytes: Bytes }[] = [];
		for (const type of FACT_TYPES)
			for (const [at, bytes] of await this.store.list(TABLE_OF[type], { from: position(from) }))
				rows.push({ at, type, bytes });
		rows.sort((a, b) => (a.at < b.at ? -1 : 1));
		for (const { type, bytes } of rows) yield { type, bytes };
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
				return this.attachments.has(attachmentKey(fact.attachment));
			case 'handover': {
				const known = this.groups[fact.handover.epoch];
				return known !== undefined && equalBytes(known.hash, fact.handover.certificate.value);
			}
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

	/** An attachment's entries grouped by the pinned batch each belongs to, with that batch's group. */
	private attachmentParts(
		entries: readonly { tx: { body: RecordBody } }[],
		ids: readonly Bytes[]
	): { sequence: number; bodies: RecordBody[]; group: GroupMember[] }[] {
		const parts = new Map<number, { sequence: number; bodies: RecordBody[]; group: GroupMember[] }>();
		entries.forEach((entry, i) => {
			const sequence = this.pinned.batchOf(ids[i]!);
			if (sequence === undefined)
				throw new ValidationError('tx-unpinned', 'an attached record was not pinned by the consensus group');
			const part = parts.get(sequence) ?? {
				sequence,
				bodies: [],
				group: [...this.groupForBatch(sequence)!.members]
			};
			part.bodies.push(entry.tx.body);
			parts.set(sequence, part);
		});
		return [...parts.values()];
	}

	/** Every rule for `fact` on top of the current state; applies it to the in-memory state if it holds. */
	private async check(fact: ChainFact): Promise<void> {
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
				this.pinned.admit(pinned);
				this.ledger.recordPinnedBatch(pinnedBatchId(pinned), pinned.batch.transactions);
				this.batches.push(pinned);
				const group = this.groupForBatch(pinned.sequence)!;
				this.accounts.applyBatch(pinned.sequence, pinned.batch.institution, group.members);
				return;
			}
			case 'handover': {
				const { handover } = fact;
				ensure(
					handover.epoch === this.groups.length,
					'handover-epoch',
					`expected the hand-over to epoch ${this.groups.length}, got epoch ${handover.epoch}`
				);
				// The outgoing group hands over once its last keyblock is pinned, not before.
				ensure(
					this.height >= handover.epoch * this.membership.epochLength,
					'handover-early',
					`the hand-over to epoch ${handover.epoch} comes before the end of epoch ${handover.epoch - 1}`
				);
				ensure(
					handover.members.length <= this.membership.groupSize,
					'handover-size',
					`the hand-over names ${handover.members.length} members; the group has at most ${this.membership.groupSize}`
				);
				ensure(
					handover.members.every((m) => {
						const institution = this.ledger.registry.memberAt(m.id, this.height + 1);
						return institution !== undefined && equalBytes(institution.blsKey, m.blsPublicKey);
					}),
					'handover-member',
					'the hand-over names a member that is not a consortium institution with its BLS key'
				);
				const incoming = verifyHandover(this.groups[handover.epoch - 1]!, handover);
				// The certificate is necessary, not sufficient: this node ranks its own chain (issue 11).
				checkHandoverRanking(this, incoming);
				this.groups.push(incoming);
				this.handovers.push(handover);
				return;
			}
			case 'attachment': {
				const { attachment } = fact;
				const parts = this.attachmentParts(
					attachment.entries,
					attachment.entries.map((e) => transactionId(e.tx.body))
				);
				this.accounts.checkPayable(
					attachment.entries.map((e) => e.tx.body),
					'attachment'
				);
				await this.ledger.attachRecords(
					attachment.patient,
					attachment.institution,
					attachment.entries,
					attachment.leafProof,
					this.verifier
				);
				this.accounts.applyAttachment(attachment.institution, parts);
				this.attachments.add(attachmentKey(attachment));
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
				this.misbehaviours.push({ offender, height: this.offenceHeight(kind, height) });
				this.offences.add(offenceKey(fact.evidence));
				return;
			}
		}
	}
}

/** One record per member and consensus position: a second pair for the same offence adds nothing. */
function offenceKey(evidence: EquivocationEvidence): string {
	const { kind, height, sender } = evidence.first;
	return `${kind}:${height}:${bytesToHex(sender)}`;
}

function pinValueOf(pinned: PinnedBatch): Bytes {
	return pinned.certificate.value;
}

function attachmentKey(
	attachment: Attachment,
	ids = attachment.entries.map((e) => transactionId(e.tx.body))
): string {
	return [attachment.patient, attachment.institution, ...ids].map(bytesToHex).join(':');
}
