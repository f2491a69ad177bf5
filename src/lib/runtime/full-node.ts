/**
 * A full SPChain node: the same code in a patient's phone, a clinic's tab and a headless clinic process.
 * It keeps and verifies the whole chain (chain-state.ts), relays and checks what peers gossip, syncs from
 * peers, and, when it is an institution of the consortium, mines keyblocks, takes part in the
 * consensus group (pinned keyblocks and pinned transactions), and appends its pinned records to its
 * patients' blocks. Storage, network, prover, verifier and miners are injected (adapters of the
 * browser or of Node).
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import type { Certificate, ConsensusKind } from '../core/certificate.ts';
import type { ChameleonVerifier } from '../core/chameleon.ts';
import type { ConsensusGroup } from '../core/consensus/group.ts';
import {
	ConsensusMachine,
	type ConsensusApplication,
	type TimeoutConfig
} from '../core/consensus/machine.ts';
import { blsSign } from '../core/consensus/bls.ts';
import { ValidationError } from '../core/errors.ts';
import type { EquivocationEvidence } from '../core/evidence.ts';
import type { GenesisConfig } from '../core/genesis.ts';
import {
	decodeAttachment,
	decodeBatchMessage,
	encodeAttachment,
	encodeBatchMessage,
	type Attachment
} from '../core/gossip.ts';
import { decodeKeyblock, encodeKeyblock, type Keyblock } from '../core/keyblock.ts';
import {
	decodeTransaction,
	encodeTransaction,
	transactionId,
	type Transaction
} from '../core/transaction.ts';
import type { ChameleonProver } from '../crypto/chameleon-prover.ts';
import type { MinerPool } from '../mining/pool.ts';
import type { PeerNet, Topic, Verdict } from '../net/peer-net.ts';
import type { Store } from '../store/store.ts';
import { BatchAgreement } from './batch-agreement.ts';
import { ChainState, type ChainFact } from './chain-state.ts';
import { serveSync, syncFrom, type SyncProgress } from './chain-sync.ts';
import { serveLight } from './light-sync.ts';
import { ConsensusDriver } from './consensus-driver.ts';
import { genesisGroup } from './genesis-group.ts';
import { KeyblockAgreement } from './keyblock-agreement.ts';
import { KeyblockMiner } from './keyblock-miner.ts';
import { RegistryPool } from './registry-pool.ts';
import { HandoverAgreement } from './membership-handover.ts';
import { Mempool } from './mempool.ts';
import { RecordAttacher } from './record-attacher.ts';
import { VerdictCache } from './verdict-cache.ts';
import { StoredVotingState } from './voting-store.ts';
import { consensusVerdict, judged } from './gossip-verdict.ts';

/** An institution's secrets and workers, for nodes run by a consortium member. */
export interface InstitutionRole {
	id: Bytes;
	signingKey: Bytes;
	blsKey: Bytes;
	chameleonKey: Bytes;
	trapdoor: bigint;
	prover: ChameleonProver;
	/** Mining workers; absent for an institution node that does not mine. */
	pool?: MinerPool;
	/** Share of time the miners hash (default 1). */
	miningDuty?: number;
}

export interface FullNodeOptions {
	genesis: GenesisConfig;
	store: Store;
	net: PeerNet;
	verifier: ChameleonVerifier;
	institution?: InstitutionRole;
	/** T_m of Algorithm 2. */
	batchCapacity?: number;
	timeouts?: TimeoutConfig;
	clock?: () => number;
}

export interface NodeStatus {
	peerId: string;
	peers: number;
	height: number;
	batches: number;
	patients: number;
	mempool: number;
	member: boolean;
	mining: boolean;
	syncing: SyncProgress | null;
}

export type NodeEvent =
	| { type: 'fact'; fact: ChainFact }
	| { type: 'status' }
	| { type: 'error'; message: string }
	| { type: 'penalised'; peer: string; reason: string }
	/** A gossip message this node did not take, and why (a log's view of what the network sends). */
	| { type: 'refused'; topic: Topic; code: string; message: string; blamed: boolean }
	/** A transaction waiting here that the chain can no longer take (mempool.ts prune): it left the pool. */
	| { type: 'dropped'; id: Bytes; code: string; message: string };

/** How often a node asks a peer for the newest part of its journal, and how much of it. */
const CATCH_UP_INTERVAL_MS = 15_000;
/** How often a node re-announces its keyblock candidate and the transactions it submitted. */
const ANNOUNCE_INTERVAL_MS = 5000;
/** Bound on the transactions one node re-announces (a clinic's own queue, not a relay's). */
const MAX_REANNOUNCED = 4096;
const CATCH_UP_WINDOW = 512;

export class FullNode {
	readonly chain: ChainState;
	readonly mempool: Mempool;
	/** Approved admissions and key rotations this node's miner carries (registry-pool.ts). */
	readonly registryPool: RegistryPool;
	readonly net: PeerNet;
	private readonly options: FullNodeOptions;
	private readonly keyblocks: KeyblockAgreement;
	private readonly batches: BatchAgreement;
	private readonly handovers: HandoverAgreement;
	private readonly driverFor: (kind: ConsensusKind) => (group: ConsensusGroup) => ConsensusDriver | null;
	private readonly drivers = new Map<string, ConsensusDriver>();
	private readonly miner: KeyblockMiner | null;
	private readonly attacher: RecordAttacher | null;
	/** Attachments that arrived before the batch that pins their records. */
	private readonly heldAttachments: Attachment[] = [];
	private readonly listeners = new Set<(event: NodeEvent) => void>();
	/** Syncs running now, at most one per peer (a peer's messages may ask for many), shown in status(). */
	private readonly syncs = new Map<
		string,
		{ progress: SyncProgress; done: Promise<void>; listeners: Set<(progress: SyncProgress) => void> }
	>();
	private ownCandidate: Keyblock | null = null;
	private announceTimer: ReturnType<typeof setInterval> | undefined;
	private catchUpTimer: ReturnType<typeof setInterval> | undefined;
	private catchingUp = false;
	private catchUpTurn = 0;
	/** Transactions submitted through this node, re-announced until they leave its mempool. */
	private readonly submitted = new Map<string, { id: Bytes; encoded: Bytes }>();
	private stopped = false;

	private constructor(options: FullNodeOptions, chain: ChainState) {
		this.options = options;
		this.chain = chain;
		this.net = options.net;
		const clock = options.clock ?? Date.now;
		this.mempool = new Mempool(chain.ledger, options.verifier, clock, chain.accounts);
		this.registryPool = new RegistryPool(chain.ledger);
		const role = options.institution;
		const voting = new StoredVotingState(options.store);
		const applications: Record<ConsensusKind, ConsensusApplication> = {
			keyblock: {
				propose: (height) => this.keyblocks.propose(height),
				validate: (value, height) => this.keyblocks.validate(value, height)
			},
			transactions: {
				propose: (sequence) => this.batches.propose(sequence),
				validate: (value, sequence) => this.batches.validate(value, sequence)
			},
			membership: {
				propose: (epoch) => this.handovers.propose(epoch),
				validate: (value, epoch) => this.handovers.validate(value, epoch)
			}
		};
		const decided = (kind: ConsensusKind, height: number, value: Bytes, certificate: Certificate) =>
			kind === 'keyblock'
				? this.keyblocks.decided(height, value, certificate)
				: kind === 'transactions'
					? this.batches.decided(height, value, certificate)
					: this.handovers.decided(height, value, certificate);
		/**
		 * The driver of `kind` when this institution is a member of `group` (created the first time it is):
		 * membership changes at hand-overs, so a node joins the voting when a group names it.
		 */
		const driverFor = (this.driverFor =
			(kind: ConsensusKind) =>
			(group: ConsensusGroup): ConsensusDriver | null => {
				if (!role || group.indexOf(role.id) < 0) return null;
				let existing = this.drivers.get(kind);
				if (!existing) {
					const machine = new ConsensusMachine({
						kind,
						signer: { id: role.id, sign: (message) => blsSign(role.blsKey, message) },
						application: applications[kind],
						store: voting,
						timeouts: options.timeouts,
						groupOf: (height) => chain.groupForVotes(kind, height)
					});
					existing = new ConsensusDriver(machine, {
						publish: (bytes) => this.publish('consensus', bytes),
						decided: (height, value, certificate) =>
							void decided(kind, height, value, certificate).catch((error) => this.fail(error)),
						evidence: (evidence) => void this.recordEvidence(evidence).catch((error) => this.fail(error)),
						error: (error) => this.fail(error)
					});
					if (this.stopped) existing.stop();
					this.drivers.set(kind, existing);
				}
				return existing;
			});
		this.keyblocks = new KeyblockAgreement({
			chain,
			driverFor: driverFor('keyblock'),
			publishPinned: (block) => this.publish('keyblocks', encodeKeyblock(block)),
			clock
		});
		this.handovers = new HandoverAgreement({
			chain,
			driverFor: driverFor('membership'),
			publish: (handover) => this.publish('batches', encodeBatchMessage({ type: 'handover', handover }))
		});
		this.batches = new BatchAgreement({
			chain,
			mempool: this.mempool,
			verifier: options.verifier,
			driverFor: driverFor('transactions'),
			self: role?.id ?? null,
			capacity: options.batchCapacity ?? 512,
			publishProposal: (proposal) =>
				this.publish('batches', encodeBatchMessage({ type: 'proposal', proposal })),
			publishPinned: (pinned) => this.publish('batches', encodeBatchMessage({ type: 'pinned', pinned })),
			clock
		});
		this.miner =
			role?.pool !== undefined
				? new KeyblockMiner({
						ledger: chain.ledger,
						mempool: this.mempool,
						pool: role.pool,
						minerId: role.id,
						signingKey: role.signingKey,
						found: (block) => this.minedCandidate(block),
						registryFacts: (height) => this.registryPool.forKeyblock(height),
						duty: role.miningDuty,
						error: (error) => this.fail(error),
						clock
					})
				: null;
		this.attacher = role
			? new RecordAttacher({
					chain,
					prover: role.prover,
					institution: { id: role.id, chameleonKey: role.chameleonKey, trapdoor: role.trapdoor },
					publish: (attachment) => this.publish('patient-blocks', encodeAttachment(attachment)),
					error: (error) => this.fail(error)
				})
			: null;
		chain.onFact((fact) => this.factApplied(fact));
	}

	/** Opens the stored chain (re-verifying it), joins the topics, serves sync, and syncs from peers. */
	static async start(options: FullNodeOptions): Promise<FullNode> {
		// Each proof is verified once per node: the mempool, the batch vote and the chain share verdicts.
		options = { ...options, verifier: new VerdictCache(options.verifier) };
		const chain = await ChainState.open({
			genesis: options.genesis,
			store: options.store,
			group: genesisGroup(options.genesis),
			verifier: options.verifier,
			clock: options.clock
		});
		const node = new FullNode(options, chain);
		node.wire();
		return node;
	}

	/** A member of the group that pins the next keyblock (or of the newest group, while it is unknown). */
	get isMember(): boolean {
		const role = this.options.institution;
		const group = this.chain.groupFor(this.chain.height + 1) ?? this.chain.group;
		return role !== undefined && group.indexOf(role.id) >= 0;
	}

	status(): NodeStatus {
		return {
			peerId: this.net.peerId,
			peers: this.net.peers().length,
			height: this.chain.height,
			batches: this.chain.batchCount,
			patients: this.chain.ledger.patientCount,
			mempool: this.mempool.size,
			member: this.isMember,
			mining: this.miner?.mining ?? false,
			syncing: this.syncProgress()
		};
	}

	on(listener: (event: NodeEvent) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	startMining(): void {
		this.miner?.start();
		this.emit({ type: 'status' });
	}

	stopMining(): void {
		this.miner?.stop();
		this.emit({ type: 'status' });
	}

	/**
	 * A patient's transaction (register, medical or label), checked here first so the sender gets the
	 * reason right away, then gossiped to every node.
	 */
	async submit(tx: Transaction): Promise<Bytes> {
		await this.mempool.admit(tx, (id) => this.chain.isPinned(id));
		const encoded = encodeTransaction(tx);
		const id = transactionId(tx.body);
		if (this.submitted.size < MAX_REANNOUNCED) this.submitted.set(bytesToHex(id), { id, encoded });
		await this.publish('transactions', encoded);
		void this.batches.maybeStart().catch((error) => this.fail(error));
		return id;
	}

	/** Pulls the chain from every connected peer in turn (verifying all of it). */
	async syncNow(onProgress?: (progress: SyncProgress) => void): Promise<void> {
		for (const peer of this.net.peers()) {
			try {
				await this.syncWith(peer, onProgress);
			} catch (error) {
				this.emit({ type: 'error', message: `sync from ${peer.slice(-8)} stopped: ${describe(error)}` });
			}
		}
	}

	async stop(): Promise<void> {
		this.stopped = true;
		clearInterval(this.announceTimer);
		clearInterval(this.catchUpTimer);
		this.miner?.stop();
		for (const driver of this.drivers.values()) driver.stop();
	}

	// ------------------------------------------------------------------------------ wiring

	private wire(): void {
		const { net } = this;
		serveSync(net, this.chain);
		serveLight(net, this.chain); // phones as light clients (light-sync.ts)
		net.subscribe('transactions', (data) => this.guard('transactions', () => this.onTransaction(data)));
		net.subscribe('keyblocks', (data, from) => this.guard('keyblocks', () => this.onKeyblock(data, from)));
		net.subscribe('consensus', (data) => this.guard('consensus', () => this.onConsensus(data)));
		net.subscribe('batches', (data, from) => this.guard('batches', () => this.onBatch(data, from)));
		net.subscribe('patient-blocks', (data) => this.guard('patient-blocks', () => this.onAttachment(data)));
		net.addEventListener('peer:connect', (event) => {
			void this.syncWith(event.detail).catch(() => undefined);
		});
		// Peers that connected while the chain was opening (a bootstrap peer dialled directly) came before
		// the listener: sync from them now, or a quiet network would leave this node behind.
		for (const peer of net.peers()) void this.syncWith(peer).catch(() => undefined);
		// A candidate lost in gossip would stall pinning: re-announce ours until a block is pinned. So with
		// the transactions submitted here: one lost, or ignored by a peer that was behind (a label whose
		// record it had not attached yet), would otherwise wait until its round expires.
		this.announceTimer = setInterval(() => {
			if (this.ownCandidate && this.ownCandidate.header.height === this.chain.height + 1)
				void this.publish('keyblocks', encodeKeyblock(this.ownCandidate));
			this.reannounceSubmitted();
		}, ANNOUNCE_INTERVAL_MS);
		// Gossip is best effort (an attachment or a pin is published once): ask a peer for the tail of its
		// journal now and then, and its whole journal if the tail does not apply here.
		this.catchUpTimer = setInterval(() => void this.catchUp(), CATCH_UP_INTERVAL_MS);
	}

	/** Publishes again what this node submitted and is still waiting here (neither pinned nor dropped). */
	private reannounceSubmitted(): void {
		for (const [key, { id, encoded }] of this.submitted) {
			if (this.chain.isPinned(id) || !this.mempool.has(id)) this.submitted.delete(key);
			else void this.publish('transactions', encoded).catch(() => undefined);
		}
	}

	private async catchUp(): Promise<void> {
		const peers = this.net.peers();
		if (this.stopped || this.catchingUp || peers.length === 0) return;
		const peer = peers[this.catchUpTurn++ % peers.length]!;
		// a full sync with that peer is under way (another peer's, maybe held open, does not stop us)
		if (this.syncs.has(peer)) return;
		this.catchingUp = true;
		try {
			await syncFrom(this.net, this.chain, peer, undefined, undefined, {
				from: Math.max(0, this.chain.length - CATCH_UP_WINDOW)
			});
		} catch (error) {
			if (error instanceof ValidationError) await this.syncWith(peer).catch(() => undefined);
		} finally {
			this.catchingUp = false;
		}
	}

	/** Maps a handler's outcome to a gossip verdict: peers are blamed only for what is wrong in itself. */
	private async guard(topic: Topic, handler: () => Promise<Verdict>): Promise<Verdict> {
		if (this.stopped) return 'ignore';
		try {
			return await judged(handler, (error, blamed) =>
				this.emit({ type: 'refused', topic, code: error.code, message: error.message, blamed })
			);
		} catch (error) {
			this.fail(error);
			return 'ignore';
		}
	}

	private async onTransaction(data: Uint8Array): Promise<Verdict> {
		const tx = decodeTransaction(data);
		const admitted = await this.mempool.admit(tx, (id) => this.chain.isPinned(id));
		if (admitted) void this.batches.maybeStart().catch((error) => this.fail(error));
		return admitted ? 'accept' : 'ignore';
	}

	private async onKeyblock(data: Uint8Array, from: string): Promise<Verdict> {
		const block = decodeKeyblock(data, this.chain.ledger.genesis.maxRegistersPerKeyblock);
		if (block.pin) {
			if (block.header.height > this.chain.height + 1) {
				void this.syncWith(from).catch(() => undefined);
				return 'ignore';
			}
			return (await this.chain.apply({ type: 'keyblock', block })) === 'applied' ? 'accept' : 'ignore';
		}
		return (await this.keyblocks.offer(block)) ? 'accept' : 'ignore';
	}

	/** See consensusVerdict. */
	private onConsensus(data: Uint8Array): Promise<Verdict> {
		// A member of the newest group listens from the first message on, so early votes are buffered.
		return consensusVerdict(data, (kind) => this.drivers.get(kind) ?? this.driverFor(kind)(this.chain.group));
	}

	private async onBatch(data: Uint8Array, from: string): Promise<Verdict> {
		const message = decodeBatchMessage(data);
		if (message.type === 'proposal')
			return (await this.batches.offer(message.proposal)) === 'stored' ? 'accept' : 'ignore';
		if (message.type === 'evidence') {
			const outcome = await this.chain.apply({ type: 'evidence', evidence: message.evidence });
			return outcome === 'applied' ? 'accept' : 'ignore';
		}
		if (message.type === 'handover') {
			if (message.handover.epoch > this.chain.epochs) {
				void this.syncWith(from).catch(() => undefined);
				return 'ignore';
			}
			const outcome = await this.chain.apply({ type: 'handover', handover: message.handover });
			return outcome === 'applied' ? 'accept' : 'ignore';
		}
		if (message.pinned.sequence > this.chain.batchCount + 1) {
			void this.syncWith(from).catch(() => undefined);
			return 'ignore';
		}
		return (await this.chain.apply({ type: 'batch', pinned: message.pinned })) === 'applied'
			? 'accept'
			: 'ignore';
	}

	private async onAttachment(data: Uint8Array): Promise<Verdict> {
		const attachment = decodeAttachment(data);
		try {
			return (await this.chain.apply({ type: 'attachment', attachment })) === 'applied' ? 'accept' : 'ignore';
		} catch (error) {
			if (
				error instanceof ValidationError &&
				error.code === 'tx-unpinned' &&
				this.heldAttachments.length < 256
			) {
				this.heldAttachments.push(attachment);
				return 'ignore';
			}
			throw error;
		}
	}

	// ------------------------------------------------------------------------------ sync

	/**
	 * Pulls `peer`'s journal; its progress shows in status() (and the UI) while it runs. One at a time
	 * per peer: a call while one runs joins it (a stream of far-ahead keyblocks opens no more syncs).
	 */
	private syncWith(peer: string, onProgress?: (progress: SyncProgress) => void): Promise<void> {
		const running = this.syncs.get(peer);
		if (running) {
			if (onProgress) running.listeners.add(onProgress);
			return running.done;
		}
		const progress: SyncProgress = { total: 0, received: 0, applied: 0, height: this.chain.height };
		const listeners = new Set(onProgress ? [onProgress] : []);
		const done = syncFrom(this.net, this.chain, peer, (update) => {
			Object.assign(progress, update);
			for (const listener of listeners) listener(update);
			this.emit({ type: 'status' });
		})
			.then(() => undefined)
			.finally(() => {
				this.syncs.delete(peer);
				this.emit({ type: 'status' });
			});
		this.syncs.set(peer, { progress, done, listeners });
		return done;
	}

	/** The running sync with the most facts still to come, so a short catch-up does not hide a long one. */
	private syncProgress(): SyncProgress | null {
		let longest: SyncProgress | null = null;
		for (const { progress: sync } of this.syncs.values())
			if (!longest || sync.total - sync.received > longest.total - longest.received) longest = sync;
		return longest && { ...longest };
	}

	// ------------------------------------------------------------------------------ reactions

	private async minedCandidate(block: Keyblock): Promise<void> {
		this.ownCandidate = block;
		await this.keyblocks.offer(block);
		await this.publish('keyblocks', encodeKeyblock(block));
	}

	/** Two conflicting votes of one member, seen by our machine: on the chain, and to every node. */
	private async recordEvidence(evidence: EquivocationEvidence): Promise<void> {
		if ((await this.chain.apply({ type: 'evidence', evidence })) === 'applied')
			await this.publish('batches', encodeBatchMessage({ type: 'evidence', evidence }));
	}

	private factApplied(fact: ChainFact): void {
		if (fact.type === 'keyblock') {
			this.ownCandidate = null;
			this.keyblocks.chainAdvanced();
			this.mempool.remove(fact.block.registers.map((tx) => transactionId(tx.body)));
			for (const dropped of this.mempool.prune((id) => this.chain.isPinned(id)))
				this.emit({ type: 'dropped', ...dropped });
			this.miner?.tipChanged();
			void this.handovers.maybeStart().catch((error) => this.fail(error));
		} else if (fact.type === 'handover') {
			// The new epoch's group is known: its first keyblock and the next batch can be agreed.
			void this.keyblocks.maybeStart().catch((error) => this.fail(error));
			void this.batches.maybeStart().catch((error) => this.fail(error));
		} else if (fact.type === 'batch') {
			const { pinned } = fact;
			const proposal = this.batches.proposal(pinned.certificate.value);
			const bodies = new Map(
				(proposal?.transactions ?? []).map((tx) => [bytesToHex(transactionId(tx.body)), tx] as const)
			);
			const body = (id: Bytes) => bodies.get(bytesToHex(id)) ?? this.mempool.record(id);
			const attaching = this.attacher?.batchPinned(pinned, body);
			this.batches.batchPinned(pinned);
			void attaching?.catch((error) => this.fail(error));
			this.retryHeldAttachments();
			void this.batches.maybeStart().catch((error) => this.fail(error));
		}
		this.emit({ type: 'fact', fact });
		this.emit({ type: 'status' });
	}

	private retryHeldAttachments(): void {
		const held = this.heldAttachments.splice(0);
		for (const attachment of held)
			void this.chain.apply({ type: 'attachment', attachment }).catch((error) => {
				if (error instanceof ValidationError && error.code === 'tx-unpinned')
					this.heldAttachments.push(attachment);
			});
	}

	private async publish(topic: Topic, data: Uint8Array): Promise<void> {
		if (this.stopped) return;
		await this.net.publish(topic, data);
	}

	private fail(error: unknown): void {
		this.emit({ type: 'error', message: describe(error) });
	}

	private emit(event: NodeEvent): void {
		for (const listener of this.listeners) listener(event);
	}
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}
