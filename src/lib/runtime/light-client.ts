/**
 * A light client: what a patient's phone can keep instead of the whole chain. It follows the consensus
 * group's hand-overs from the genesis group and the pinned batches' headers (core/light-proof.ts), each
 * verified against the group the full nodes' rule assigns to it (batch n: the group of the epoch of
 * batch n−1's round: the full node's own GroupSchedule, group-schedule.ts), and then checks records of its own patient block:
 * the patient's signature, and a Merkle path from the transaction id to a pinned batch it holds. Its
 * work and storage grow with hand-overs and batches (a few hundred bytes each), not with the network's
 * transactions.
 *
 * `lightFacts` and `recordProver` are the full node's side: what it sends a light client (light-sync.ts
 * serves them over a request stream).
 */
import { bytesToHex, equalBytes, type Bytes } from '../core/bytes.ts';
import type { ConsensusGroup } from '../core/consensus/group.ts';
import { encodeHandover, epochOf, type Handover } from '../core/consensus/membership.ts';
import { ensure } from '../core/errors.ts';
import { genesisHash, type GenesisConfig } from '../core/genesis.ts';
import { keyblockHash, type KeyblockHeader } from '../core/keyblock.ts';
import { InstitutionRegistry } from '../core/institution-registry.ts';
import { encodeRegistryFact, type RegistryFact } from '../core/registry-facts.ts';
import {
	batchHeaderOf,
	batchIdOf,
	encodeBatchHeader,
	proveInclusion,
	verifyBatchHeader,
	verifyInclusion,
	type BatchHeader,
	type InclusionProof
} from '../core/light-proof.ts';
import type { LeafEntry } from '../core/patient-block.ts';
import { decodePin, pinnedBatchId, verifyKeyblockPin } from '../core/pinning.ts';
import { checkTransaction, transactionId } from '../core/transaction.ts';
import type { ChainState } from './chain-state.ts';
import { GroupSchedule } from './group-schedule.ts';

export class LightClient {
	/** Which group certifies what: the same schedule a full node keeps (group-schedule.ts). */
	private readonly schedule: GroupSchedule;
	private readonly headers: BatchHeader[] = [];
	/** Pinned keyblocks: only what a phone needs of them (its hash links the next; rounds and their time). */
	private readonly keyblocks: { hash: Bytes; timestamp: number }[] = [];
	/** Bytes of what this client keeps (encoded hand-overs and batch headers). */
	storedBytes = 0;

	/** The consortium as the registry facts received so far make it (core institution-registry.ts). */
	readonly registry: InstitutionRegistry;

	constructor(
		readonly genesis: GenesisConfig,
		genesisGroup: ConsensusGroup
	) {
		this.schedule = new GroupSchedule(
			genesisGroup,
			{ groupSize: genesis.consensusGroupSize, epochLength: genesis.epochLength },
			(sequence) => this.headers[sequence - 1]?.round
		);
		this.registry = InstitutionRegistry.ofGenesis(genesis, genesisHash(genesis));
	}

	/**
	 * The next admission or key rotation, carried by keyblock `height`: its approval is verified against
	 * the group of that keyblock's epoch or the one before, which this client holds (the server sends the
	 * facts of an epoch before the hand-over that ends it).
	 */
	applyRegistryFact(height: number, fact: RegistryFact): void {
		const last = this.registry.facts.at(-1)?.height ?? 0;
		ensure(
			height >= last,
			'registry-fact',
			`registry facts must come in chain order (${height} after ${last})`
		);
		this.registry.applyFacts([fact], height, {
			epochOf: (h) => epochOf(h, this.schedule.membership),
			groupOfEpoch: (epoch) => this.schedule.groupOfEpoch(epoch)
		});
		this.storedBytes += encodeRegistryFact(fact).length;
	}

	get epochs(): number {
		return this.schedule.epochs;
	}

	get batchCount(): number {
		return this.headers.length;
	}

	/** Pinned keyblocks held: the chain's height as far as this client knows (rounds for its transactions). */
	get height(): number {
		return this.keyblocks.length;
	}

	/** The hash of pinned keyblock `height` (the genesis hash for 0), undefined beyond what is held. */
	keyblockHash(height: number): Bytes | undefined {
		return height === 0 ? genesisHash(this.genesis) : this.keyblocks[height - 1]?.hash;
	}

	/** The time of keyblock `height` (ms), undefined beyond what is held. */
	timeOf(height: number): number | undefined {
		return this.keyblocks[height - 1]?.timestamp;
	}

	/**
	 * The next pinned keyblock's header and pin: it links to the last one held, and the group of its
	 * epoch certified it. Its registers and registry facts stay on full nodes (the facts come separately).
	 */
	applyKeyblock(header: KeyblockHeader, pin: Bytes): void {
		const height = this.keyblocks.length + 1;
		ensure(header.height === height, 'keyblock-height', `expected keyblock ${height}, got ${header.height}`);
		ensure(
			equalBytes(header.prev, this.keyblockHash(height - 1)!),
			'keyblock-prev',
			`keyblock ${height} does not link to the keyblock ${height - 1} this client holds`
		);
		const group = this.schedule.groupFor(height);
		ensure(
			group !== undefined,
			'handover-missing',
			`keyblock ${height} belongs to an epoch whose group has not been handed over yet`
		);
		const hash = keyblockHash(header);
		verifyKeyblockPin(decodePin(pin), { height, keyblockHash: hash }, group);
		this.keyblocks.push({ hash, timestamp: header.timestamp });
		this.storedBytes += hash.length + 8;
	}

	/** The next epoch's group, certified by the current one (the same rules as ChainState's hand-over). */
	applyHandover(handover: Handover): void {
		this.schedule.admit(
			handover,
			this.schedule.checkHandover(handover, undefined, (m) => {
				const institution = this.registry.byId(m.id);
				return institution !== undefined && equalBytes(institution.blsKey, m.blsPublicKey);
			})
		);
		this.storedBytes += encodeHandover(handover).length;
	}

	/** The next pinned batch's header, verified against the group that pins it. */
	applyBatch(header: BatchHeader): void {
		ensure(
			header.sequence === this.headers.length + 1,
			'batch-sequence',
			`expected pinned batch ${this.headers.length + 1}, got ${header.sequence}`
		);
		const group = this.schedule.groupForBatch(header.sequence);
		ensure(
			group !== undefined,
			'handover-missing',
			`batch ${header.sequence} belongs to an epoch whose group has not been handed over yet`
		);
		verifyBatchHeader(header, group);
		this.headers.push(header);
		this.storedBytes += encodeBatchHeader(header).length;
	}

	/**
	 * Throws ValidationError unless `entry` (a record of the patient's block) is signed by its patient,
	 * names a pinned batch this client holds, and `proof` places its transaction in that batch.
	 */
	verifyRecord(entry: LeafEntry, proof: InclusionProof): void {
		checkTransaction(entry.tx, this.genesis.fees);
		const header = this.headers[proof.sequence - 1];
		ensure(header !== undefined, 'tx-unpinned', `this client holds no pinned batch ${proof.sequence} yet`);
		ensure(
			equalBytes(batchIdOf(header), entry.pin),
			'tx-pin',
			'the entry names another pinned batch than the one the proof is for'
		);
		verifyInclusion(transactionId(entry.tx.body), proof, header);
	}
}

/** What a full node sends a light client: its hand-overs and batch headers, in order (from memory). */
export function lightFacts(chain: ChainState): { handovers: Handover[]; batches: BatchHeader[] } {
	const handovers: Handover[] = [];
	for (let epoch = 1; epoch < chain.epochs; epoch++) handovers.push(chain.handover(epoch)!);
	const batches: BatchHeader[] = [];
	for (let sequence = 1; sequence <= chain.batchCount; sequence++)
		batches.push(batchHeaderOf(chain.batch(sequence)!));
	return { handovers, batches };
}

/**
 * What a full node uses to send inclusion proofs for its records: a function from an entry to the proof
 * of its transaction in the batch it names (undefined if this node holds no such batch). The batches'
 * ids are computed once, when it is made.
 */
export function recordProver(chain: ChainState): (entry: LeafEntry) => InclusionProof | undefined {
	const byId = new Map<string, number>();
	for (let sequence = 1; sequence <= chain.batchCount; sequence++)
		byId.set(bytesToHex(pinnedBatchId(chain.batch(sequence)!)), sequence);
	return (entry) => {
		const sequence = byId.get(bytesToHex(entry.pin));
		return sequence === undefined
			? undefined
			: proveInclusion(chain.batch(sequence)!, transactionId(entry.tx.body));
	};
}
