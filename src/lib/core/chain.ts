/**
 * Chain rules that need no consensus (paper §5.1.2): the ledger a node keeps, and every contextual check
 * of a keyblock or record against it. Pure and synchronous except where a chameleon proof must be
 * verified, which is injected (`ChameleonVerifier`) so consensus members can batch it.
 *
 * Shape of the chain: keyblocks form a line (a keyblock is appended only on the current tip, which is the
 * last pinned keyblock once the consensus group pins; competing candidates for the next height are held
 * by the caller, and the group's pin decides which one is appended — so any keyblock conflicting with a
 * pin is never accepted). Each keyblock creates the patient blocks of its register transactions in
 * order; the microblock tip after round r is what keyblock r + 2 mines over (penu_microblock_hash).
 */
import { bytesToHex, equalBytes, type Bytes } from './bytes.ts';
import { messageFromDigest, type ChameleonStatement, type ChameleonVerifier } from './chameleon.ts';
import { checkTarget, checkTimestamp, nextTarget } from './difficulty.ts';
import { entryCount, LeafEntryCache, withEncodedEntries, type EncodedEntries } from './encoded-leaf.ts';
import { ensure, ValidationError } from './errors.ts';
import { genesisHash, type GenesisConfig } from './genesis.ts';
import { InstitutionRegistry, type ApprovingGroups } from './institution-registry.ts';
import type { RegistryFact } from './registry-facts.ts';
import type { Institution, PublicKey } from './identity.ts';
import { checkKeyblock, keyblockHash, type Keyblock } from './keyblock.ts';
import {
	checkPatientBlock,
	createPatientBlocks,
	leafMessage,
	initialLeafValue,
	patientBlockHash,
	type KnownPatientBlocks,
	type LeafEntry,
	type PatientBlock
} from './patient-block.ts';
import {
	checkTransaction,
	chameleonStatement,
	transactionId,
	type RecordBody,
	type Transaction
} from './transaction.ts';
import { TransactionIndex, type RecordLocation } from './transaction-index.ts';

export type { RecordLocation } from './transaction-index.ts';

export interface KeyblockEntry {
	block: Keyblock;
	hash: Bytes;
	/** Microblock tip after this keyblock's round. */
	microTip: Bytes;
}

export class Ledger {
	readonly genesis: GenesisConfig;
	readonly genesisHash: Bytes;
	readonly #keyblocks: KeyblockEntry[] = [];
	readonly #patients = new Map<string, PatientBlock>();
	readonly #registeredIdentities = new Set<string>();
	/** Pinned and attached transaction ids: the batch that pinned each, and where it sits. */
	readonly #transactions = new TransactionIndex();
	/** Decoded entries of restored leaves, most recently read first (encoded-leaf.ts). */
	readonly #entryCache = new LeafEntryCache();

	/** The consortium as the keyblocks so far make it (genesis founders, admissions, key rotations). */
	readonly registry: InstitutionRegistry;
	/** The groups that may approve registry facts; without them a keyblock carrying facts is refused. */
	readonly #approvingGroups: ApprovingGroups | undefined;

	constructor(genesis: GenesisConfig, approvingGroups?: ApprovingGroups) {
		this.genesis = genesis;
		this.genesisHash = genesisHash(genesis);
		this.registry = InstitutionRegistry.ofGenesis(genesis, this.genesisHash);
		this.#approvingGroups = approvingGroups;
	}

	/** Height of the tip (0 before the first keyblock). */
	get height(): number {
		return this.#keyblocks.length;
	}

	get tipHash(): Bytes {
		return this.#keyblocks.at(-1)?.hash ?? this.genesisHash;
	}

	keyblock(height: number): KeyblockEntry | undefined {
		return this.#keyblocks[height - 1];
	}

	/** The microblock tip at the end of round `height` (genesis value for rounds ≤ 0). */
	microTip(height: number): Bytes {
		return height <= 0 ? this.genesis.genesisMicroblock : this.#keyblocks[height - 1]!.microTip;
	}

	/** What keyblock `height` must mine over: penu_microblock_hash = microblock tip of round height − 2. */
	penuFor(height: number): Bytes {
		return this.microTip(height - 2);
	}

	/** Target the next keyblock must carry (difficulty adjustment over the chain so far). */
	nextTarget(): Bytes {
		return nextTarget(this.#timedTargets(), this.genesis);
	}

	#timedTargets() {
		return this.#keyblocks.map((k) => ({
			timestamp: k.block.header.timestamp,
			target: k.block.header.target
		}));
	}

	patientBlock(patient: PublicKey): PatientBlock | undefined {
		return this.#patients.get(bytesToHex(patient));
	}

	/** Every patient block, in creation order. */
	patientBlocks(): IterableIterator<PatientBlock> {
		return this.#patients.values();
	}

	get patientCount(): number {
		return this.#patients.size;
	}

	recordLocation(txId: Bytes): RecordLocation | undefined {
		return this.#transactions.location(txId);
	}

	/**
	 * The key the holder of an attached record signed its content with: its signing key in force at the
	 * record's round (undefined: no such record here). A rotation leaves older records on the old key.
	 */
	recordAuthorKey(txId: Bytes): PublicKey | undefined {
		const at = this.recordLocation(txId);
		const entry = at && this.patientBlock(at.patient)!.leaves[at.leaf]!.entries[at.index]!;
		return entry && this.registry.signingKeyAt(entry.tx.body.institution, entry.tx.body.round);
	}

	institution(id: Bytes): Institution {
		const found = this.registry.byId(id);
		if (!found)
			throw new ValidationError('unknown-institution', 'this institution is not a member of the consortium');
		return found;
	}

	/** The institution id of a keyblock's miner (its signing key may be a rotated one, not the id). */
	minerOf(header: { miner: PublicKey; height: number }): PublicKey {
		return this.registry.signerAt(header.miner, header.height)?.id ?? header.miner;
	}

	// ------------------------------------------------------------ keyblocks

	/**
	 * Every rule for appending `block` at the tip: its own rules (PoW, signature, registers), linkage,
	 * penultimate microblock, expected target, timestamp (after the median of the last 11, not beyond the
	 * allowed drift past `now`), a consortium miner, register rounds, and no patient registered twice.
	 */
	checkNextKeyblock(block: Keyblock, now: number): void {
		const g = this.genesis;
		const { header } = block;
		const height = this.height + 1;
		ensure(header.height === height, 'keyblock-height', `expected keyblock ${height}, got ${header.height}`);
		ensure(
			equalBytes(header.prev, this.tipHash),
			'keyblock-prev',
			`keyblock ${height} does not extend the current tip`
		);
		ensure(
			equalBytes(header.penu, this.penuFor(height)),
			'keyblock-penu',
			`keyblock ${height} does not mine over the last microblock of round ${height - 2}`
		);
		this.registry.assertSigner(header.miner, height, 'keyblock-miner');
		checkTarget(header.target, this.#timedTargets(), g);
		checkTimestamp(
			header.timestamp,
			[g.timestamp, ...this.#keyblocks.map((k) => k.block.header.timestamp)],
			now,
			g.maxFutureDriftMs
		);
		checkKeyblock(block, g.fees, g.maxRegistersPerKeyblock);
		// Commitments registered by this keyblock itself count too, not only those of earlier keyblocks.
		const identities = new Set<string>();
		for (const tx of block.registers) {
			const body = tx.body;
			ensure(
				this.registry.memberAt(body.institution, height) !== undefined,
				'tx-institution',
				'a register transaction names an institution outside the consortium'
			);
			this.#checkRound(body.round, height);
			ensure(
				!this.#patients.has(bytesToHex(body.patient)),
				'register-again',
				'this patient is already registered; one registration serves every institution'
			);
			ensure(
				!this.#registeredIdentities.has(bytesToHex(body.identity)) &&
					!identities.has(bytesToHex(body.identity)),
				'register-identity',
				'this identity commitment is already registered'
			);
			identities.add(bytesToHex(body.identity));
		}
		this.checkRegistryFacts(block.registry ?? [], height);
	}

	/** Admissions and rotations for keyblock `height`: checked in order on a copy, applied with the keyblock. */
	checkRegistryFacts(facts: readonly RegistryFact[], height: number): void {
		this.registry.clone().applyFacts(facts, height, this.#approvingGroups);
	}

	/** Appends a checked keyblock and creates its round's patient blocks. */
	appendKeyblock(block: Keyblock, now: number): PatientBlock[] {
		this.checkNextKeyblock(block, now);
		return this.restoreKeyblock(block);
	}

	/**
	 * Appends a keyblock without its rules: only for one this node checked before, replayed from its own
	 * journal after runtime/verified-journal.ts found that journal intact (a restart reads, not verifies).
	 * `known`: what was derived from it then (its patient blocks' roots, each of which costs scalar
	 * multiplications, and hashes).
	 */
	restoreKeyblock(block: Keyblock, known?: KnownPatientBlocks): PatientBlock[] {
		ensure(
			block.header.height === this.height + 1,
			'keyblock-height',
			`expected keyblock ${this.height + 1}, got ${block.header.height}`
		);
		const { blocks, microTip } = createPatientBlocks(
			block,
			this.microTip(this.height),
			this.registry.members(block.header.height),
			known
		);
		this.registry.restoreFacts(block.registry ?? [], block.header.height);
		const hash = known?.keyblockHash ?? keyblockHash(block.header);
		this.#keyblocks.push({ block, hash, microTip });
		for (const tx of block.registers) this.#registeredIdentities.add(bytesToHex(tx.body.identity));
		for (const patientBlock of blocks)
			this.#patients.set(bytesToHex(patientBlock.header.patient), patientBlock);
		return blocks;
	}

	#checkRound(round: number, height: number): void {
		ensure(round <= height, 'tx-round', `the transaction is made for round ${round}, which has not started`);
		ensure(
			height - round <= this.genesis.roundWindow,
			'tx-round',
			`the transaction for round ${round} has expired`
		);
	}

	// ------------------------------------------------------------ record transactions

	/**
	 * Registers a batch the consensus group pinned (its certificate already verified by pinning.ts):
	 * only pinned transactions may be attached to patient blocks. `pin` is its id (pinning.ts
	 * pinnedBatchId), `sequence` its place among the chain's batches (when the caller keeps them).
	 */
	recordPinnedBatch(pin: Bytes, txIds: readonly Bytes[], sequence?: number): void {
		this.#transactions.pin(pin, txIds, sequence);
	}

	pinOf(txId: Bytes): Bytes | undefined {
		return this.#transactions.pinOf(txId);
	}

	/** The sequence of the batch that pinned `txId` (when recordPinnedBatch was given one). */
	pinnedSequence(txId: Bytes): number | undefined {
		return this.#transactions.sequenceOf(txId);
	}

	/**
	 * Rules a medical or label transaction must pass before the consensus group may pin it: signature and
	 * fees, a consortium author, a registered patient, a live round, not already attached, and for a label:
	 * a target record of the same patient written by the same institution and not yet labelled. `pending`
	 * are entries of the same leaf accepted earlier in the same batch, `pendingIds` their transaction ids
	 * (a caller staging many entries passes them, so no id is hashed twice). Returns the chameleon
	 * statement to verify (the caller batches proofs).
	 */
	checkRecordTransaction(
		tx: Transaction<RecordBody>,
		pending: readonly LeafEntry[] = [],
		pendingIds: readonly Bytes[] = pending.map((e) => transactionId(e.tx.body))
	): ChameleonStatement {
		const body = tx.body;
		checkTransaction(tx, this.genesis.fees);
		const author = this.institution(body.institution);
		const block = this.patientBlock(body.patient);
		ensure(block !== undefined, 'tx-unregistered', 'the patient has not registered yet');
		this.#checkRound(body.round, this.height);
		ensure(body.round >= block.header.round, 'tx-round', 'the transaction predates the patient registration');
		const leafIndex = block.leaves.findIndex((l) => equalBytes(l.institution, body.institution));
		ensure(
			leafIndex >= 0,
			'leaf-missing',
			`${author.name} was admitted after this patient registered, so the patient block has no leaf for it; records go to the institutions of the patient's registration`
		);
		const leaf = block.leaves[leafIndex]!;
		const entries = [...leaf.entries, ...pending];
		// checkPatientBlock keeps a leaf in round order: a transaction that could never be attached is not pinned.
		ensure(
			body.round >= (entries.at(-1)?.tx.body.round ?? 0),
			'leaf-order',
			'the transaction is for an earlier round than the last one attached behind this leaf'
		);
		// Attached entries are indexed by id (#transactions); only the staged ones are searched.
		const find = (id: Bytes): LeafEntry | undefined => {
			const location = this.recordLocation(id);
			if (location)
				return equalBytes(location.patient, body.patient) && location.leaf === leafIndex
					? leaf.entries[location.index]
					: undefined;
			const staged = pendingIds.findIndex((p) => equalBytes(p, id));
			return staged >= 0 ? pending[staged] : undefined;
		};
		const id = transactionId(body);
		ensure(
			this.recordLocation(id) === undefined && !pendingIds.some((p) => equalBytes(p, id)),
			'tx-duplicate',
			'this transaction is already on the chain'
		);
		if (body.kind === 'label') {
			const original = find(body.target);
			if (!original) {
				const elsewhere = this.recordLocation(body.target);
				throw elsewhere && equalBytes(elsewhere.patient, body.patient)
					? new ValidationError('label-author', 'only the institution that wrote a record can label it')
					: new ValidationError('label-target', 'the record to label is not on the chain');
			}
			ensure(
				!entries.some((e) => e.tx.body.kind === 'label' && equalBytes(e.tx.body.target, body.target)),
				'label-twice',
				'this record is already labelled'
			);
			ensure(
				equalBytes(original.tx.body.record.chameleon.h, body.record.chameleon.h),
				'label-hash',
				'a label must keep the chameleon hash of the record it corrects'
			);
		}
		return chameleonStatement(body, author.chameleonKey, messageFromDigest);
	}

	/**
	 * Attaches pinned record transactions behind `institution`'s leaf of `patient`'s block, with the
	 * institution's new proof that the unchanged leaf hash opens to the longer content. Verifies the
	 * transactions, the leaf proof and every record's proof before changing anything.
	 */
	async attachRecords(
		patient: PublicKey,
		institution: PublicKey,
		entries: readonly LeafEntry[],
		leafProof: Bytes,
		verifier: ChameleonVerifier
	): Promise<void> {
		const block = this.patientBlock(patient);
		ensure(block !== undefined, 'tx-unregistered', 'the patient has not registered yet');
		const leafIndex = block.leaves.findIndex((l) => equalBytes(l.institution, institution));
		ensure(leafIndex >= 0, 'unknown-institution', 'this institution has no leaf in the patient block');
		const leaf = block.leaves[leafIndex]!;
		const author = this.institution(institution);

		const statements: ChameleonStatement[] = [];
		const staged: LeafEntry[] = [...leaf.entries];
		// Ids of the entries this attachment adds, each hashed once.
		const stagedIds: Bytes[] = [];
		for (const entry of entries) {
			ensure(
				equalBytes(entry.tx.body.institution, institution),
				'leaf-institution',
				'a record was sent to another institution'
			);
			const id = transactionId(entry.tx.body);
			const pin = this.pinOf(id);
			ensure(
				pin !== undefined,
				'tx-unpinned',
				'only transactions pinned by the consensus group can be attached'
			);
			ensure(
				equalBytes(pin, entry.pin),
				'tx-pin',
				'the entry names another pinned batch than the one that pinned it'
			);
			statements.push(this.checkRecordTransaction(entry.tx, staged.slice(leaf.entries.length), stagedIds));
			staged.push(entry);
			stagedIds.push(id);
		}
		const ids = [...leaf.entries.map((e) => transactionId(e.tx.body)), ...stagedIds];
		statements.push({
			hk: author.chameleonKey,
			m: leafMessage(patient, institution, ids),
			hash: { h: initialLeafValue(patient, institution), proof: leafProof }
		});
		const results = await verifier.verifyAll(statements);
		const bad = results.findIndex((ok) => !ok);
		if (bad === results.length - 1)
			throw new ValidationError(
				'leaf-proof',
				"the institution's proof for the patient block leaf is not valid"
			);
		if (bad >= 0)
			throw new ValidationError('record-proof', `the chameleon hash proof of record ${bad + 1} is not valid`);

		// Every check passed: commit.
		const updated = { ...leaf, entries: staged, proof: leafProof };
		checkPatientBlock(
			{ ...block, leaves: block.leaves.map((l, i) => (i === leafIndex ? updated : l)) },
			this.registry.members(block.header.round)
		);
		block.leaves[leafIndex] = updated;
		this.#transactions.attach(stagedIds, patient, leafIndex, leaf.entries.length);
	}

	/**
	 * Attaches entries without their rules (see restoreKeyblock): `ids` are their transaction ids, which
	 * the caller has computed anyway. The entries stay encoded until read (encoded-leaf.ts). Returns the
	 * sequence of the batch that pinned each id (see recordPinnedBatch).
	 */
	restoreRecords(
		patient: PublicKey,
		institution: PublicKey,
		entries: EncodedEntries,
		leafProof: Bytes,
		ids: readonly Bytes[]
	): (number | undefined)[] {
		const block = this.patientBlock(patient);
		ensure(block !== undefined, 'tx-unregistered', 'the patient has not registered yet');
		const leafIndex = block.leaves.findIndex((l) => equalBytes(l.institution, institution));
		ensure(leafIndex >= 0, 'unknown-institution', 'this institution has no leaf in the patient block');
		const leaf = block.leaves[leafIndex]!;
		const first = entryCount(leaf);
		block.leaves[leafIndex] = withEncodedEntries(leaf, entries, leafProof, this.#entryCache);
		return this.#transactions.attach(ids, patient, leafIndex, first);
	}

	/** Hash of a patient's block: fixed from creation, whatever is attached later. */
	patientBlockHash(patient: PublicKey): Bytes | undefined {
		const block = this.patientBlock(patient);
		return block && patientBlockHash(block.header);
	}
}
