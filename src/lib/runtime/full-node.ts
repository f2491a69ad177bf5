/**
 * A full SPChain node: the same code in a patient's phone, a clinic's tab and a headless clinic process.
 * It keeps and verifies the whole chain (chain-state.ts), relays and checks what peers gossip, syncs from
 * peers, and, when it is an institution of the consortium, mines keyblocks, takes part in the
 * consensus group (pinned keyblocks and pinned transactions), and appends its pinned records to its
 * patients' blocks. Storage, network, prover, verifier and miners are injected (adapters of the
 * browser or of Node). While its chain is certified only (certified-sync.ts) it votes, mines and
 * forwards nothing. What it announces again until the chain has it is reannouncer.ts.
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import type { EquivocationEvidence } from '../core/evidence.ts';
import {
	decodeAttachment,
	decodeBatchMessage,
	encodeAttachment,
	encodeBatchMessage
} from '../core/gossip.ts';
import { decodeKeyblock, encodeKeyblock, type Keyblock } from '../core/keyblock.ts';
import {
	decodeTransaction,
	encodeTransaction,
	transactionId,
	type Transaction
} from '../core/transaction.ts';
import type { PeerNet, Topic, Verdict } from '../net/peer-net.ts';
import { BatchAgreement } from './batch-agreement.ts';
import type { FullNodeOptions, NodeEvent, NodeStatus } from './node-api.ts';
import type { ChainFact } from './chain-fact.ts';
import { ChainState } from './chain-state.ts';
import { serveSync, type SyncProgress } from './chain-sync.ts';
import { PeerSyncs } from './peer-syncs.ts';
import { serveLight } from './light-sync.ts';
import { ConsensusDrivers } from './consensus-drivers.ts';
import { genesisGroup } from './genesis-group.ts';
import { KeyblockAgreement } from './keyblock-agreement.ts';
import { KeyblockMiner } from './keyblock-miner.ts';
import { RegistryPool } from './registry-pool.ts';
import { HandoverAgreement } from './membership-handover.ts';
import { Mempool } from './mempool.ts';
import { RecordAttacher } from './record-attacher.ts';
import { VerdictCache } from './verdict-cache.ts';
import { fetchValue, serveValues } from './value-fetch.ts';
import { Reannouncer } from './reannouncer.ts';
import { HeldAttachments } from './held-attachments.ts';
import { consensusVerdict, judged } from './gossip-verdict.ts';
import { describeCertifiers } from './certified-sync.ts';

/** How often a node asks a peer for the newest part of its journal (peer-syncs.ts catchUp). */
const CATCH_UP_INTERVAL_MS = 15_000;

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
	/** This institution's consensus drivers (consensus-drivers.ts). */
	private readonly drivers: ConsensusDrivers;
	private readonly miner: KeyblockMiner | null;
	private readonly attacher: RecordAttacher | null;
	private readonly heldAttachments = new HeldAttachments(async (attachment) =>
		this.chain.apply({ type: 'attachment', attachment })
	);
	private readonly listeners = new Set<(event: NodeEvent) => void>();
	/** Syncs from peers running now (peer-syncs.ts), shown in status(). */
	private readonly syncs: PeerSyncs;
	private readonly announcer: Reannouncer;
	private catchUpTimer: ReturnType<typeof setInterval> | undefined;
	private stopped = false;
	/** Mining was asked for while the chain was certified only: it starts once the chain is verified. */
	private miningWanted = false;

	private constructor(options: FullNodeOptions, chain: ChainState) {
		this.options = options;
		this.chain = chain;
		this.net = options.net;
		const clock = options.clock ?? Date.now;
		this.mempool = new Mempool(chain.ledger, options.verifier, clock, chain.accounts);
		this.syncs = new PeerSyncs(
			options.net,
			chain,
			() => this.emit({ type: 'status' }),
			() => this.stopped
		);
		this.registryPool = new RegistryPool(chain.ledger);
		const role = options.institution;
		this.drivers = new ConsensusDrivers({
			signer: role,
			chain,
			store: options.store,
			timeouts: options.timeouts,
			agreement: (kind) =>
				kind === 'keyblock' ? this.keyblocks : kind === 'transactions' ? this.batches : this.handovers,
			publish: (bytes) => this.publish('consensus', bytes),
			evidence: (evidence) => this.recordEvidence(evidence),
			fail: (error) => this.fail(error),
			stopped: () => this.stopped
		});
		const { driverFor } = this.drivers;
		this.keyblocks = new KeyblockAgreement({
			chain,
			driverFor: driverFor('keyblock'),
			publishPinned: (block) => this.publish('keyblocks', encodeKeyblock(block)),
			fetchCandidate: (hash) =>
				fetchValue(this.net, 'keyblock', hash, chain.ledger.genesis.maxRegistersPerKeyblock),
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
			fetchProposal: (hash) => fetchValue(this.net, 'proposal', hash),
			clock
		});
		this.miner =
			role?.pool !== undefined
				? new KeyblockMiner({
						ledger: chain.ledger,
						mempool: this.mempool,
						pool: role.pool,
						signingKeyFor: (height) =>
							chain.ledger.registry.secretInForce(
								role.id,
								[role.signingKey, ...(role.rotatedKeys ?? [])],
								height
							),
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
		this.announcer = new Reannouncer({
			publish: (topic, data) => this.publish(topic, data),
			nextHeight: () => chain.height + 1,
			waiting: (id) => !chain.isPinned(id) && this.mempool.has(id)
		});
		chain.onFact((fact) => this.factApplied(fact));
		chain.verification.onChange(() => this.verificationChanged());
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
			clock: options.clock,
			journal: options.journal
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
			syncing: this.syncs.progress(),
			verification: this.chain.verification.progress()
		};
	}

	on(listener: (event: NodeEvent) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	startMining(): void {
		// Never on a chain not verified in full (certified-sync.ts): it starts once the chain is.
		if (this.chain.fullyVerified) this.miner?.start();
		else this.miningWanted = true;
		this.emit({ type: 'status' });
	}

	stopMining(): void {
		this.miningWanted = false;
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
		this.announcer.submittedHere(id, encoded);
		await this.publish('transactions', encoded);
		void this.batches.maybeStart().catch((error) => this.fail(error));
		return id;
	}

	/** Pulls the chain from every connected peer in turn (verifying all of it). */
	async syncNow(onProgress?: (progress: SyncProgress) => void): Promise<void> {
		for (const peer of this.net.peers()) {
			try {
				await this.syncs.syncWith(peer, onProgress);
			} catch (error) {
				this.emit({ type: 'error', message: `sync from ${peer.slice(-8)} stopped: ${describe(error)}` });
			}
		}
	}

	async stop(): Promise<void> {
		this.stopped = true;
		this.announcer.stop();
		clearInterval(this.catchUpTimer);
		this.miner?.stop();
		this.drivers.stop();
	}

	// ------------------------------------------------------------------------------ wiring

	private wire(): void {
		const { net } = this;
		serveSync(net, this.chain);
		serveLight(net, this.chain); // phones as light clients (light-sync.ts)
		serveValues(net, {
			keyblockCandidate: (hash) => this.keyblocks.candidate(hash),
			proposal: (hash) => this.batches.proposal(hash)
		});
		net.subscribe('transactions', (data) => this.guard('transactions', () => this.onTransaction(data)));
		net.subscribe('keyblocks', (data, from) => this.guard('keyblocks', () => this.onKeyblock(data, from)));
		net.subscribe('consensus', (data) => this.guard('consensus', () => this.onConsensus(data)));
		net.subscribe('batches', (data, from) => this.guard('batches', () => this.onBatch(data, from)));
		net.subscribe('patient-blocks', (data) => this.guard('patient-blocks', () => this.onAttachment(data)));
		net.addEventListener('peer:connect', (event) => {
			void this.syncs.syncWith(event.detail).catch(() => undefined);
		});
		// Peers that connected while the chain was opening (a bootstrap peer dialled directly) came before
		// the listener: sync from them now, or a quiet network would leave this node behind.
		for (const peer of net.peers()) void this.syncs.syncWith(peer).catch(() => undefined);
		this.announcer.start();
		// Gossip is best effort (an attachment or a pin is published once): ask a peer for the tail of its
		// journal now and then, and its whole journal if the tail does not apply here.
		this.catchUpTimer = setInterval(() => void this.syncs.catchUp(), CATCH_UP_INTERVAL_MS);
	}

	/** Maps a handler's outcome to a gossip verdict: peers are blamed only for what is wrong in itself. */
	private async guard(topic: Topic, handler: () => Promise<Verdict>): Promise<Verdict> {
		if (this.stopped) return 'ignore';
		try {
			const verdict = await judged(handler, (error, blamed) =>
				this.emit({ type: 'refused', topic, code: error.code, message: error.message, blamed })
			);
			// Nothing is forwarded from a chain not verified in full (certified-sync.ts).
			return verdict === 'accept' && !this.chain.fullyVerified ? 'ignore' : verdict;
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
				void this.syncs.syncWith(from).catch(() => undefined);
				return 'ignore';
			}
			return (await this.chain.apply({ type: 'keyblock', block })) === 'applied' ? 'accept' : 'ignore';
		}
		return (await this.keyblocks.offer(block)) ? 'accept' : 'ignore';
	}

	/** See consensusVerdict. */
	private onConsensus(data: Uint8Array): Promise<Verdict> {
		// A member of the newest group listens from the first message on, so early votes are buffered.
		return consensusVerdict(
			data,
			(kind) => this.drivers.running(kind) ?? this.drivers.driverFor(kind)(this.chain.group)
		);
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
				void this.syncs.syncWith(from).catch(() => undefined);
				return 'ignore';
			}
			const outcome = await this.chain.apply({ type: 'handover', handover: message.handover });
			return outcome === 'applied' ? 'accept' : 'ignore';
		}
		if (message.pinned.sequence > this.chain.batchCount + 1) {
			void this.syncs.syncWith(from).catch(() => undefined);
			return 'ignore';
		}
		return (await this.chain.apply({ type: 'batch', pinned: message.pinned })) === 'applied'
			? 'accept'
			: 'ignore';
	}

	private async onAttachment(data: Uint8Array): Promise<Verdict> {
		return (await this.heldAttachments.offer(decodeAttachment(data))) ? 'accept' : 'ignore';
	}

	// ------------------------------------------------------------------------------ reactions

	private async minedCandidate(block: Keyblock): Promise<void> {
		this.announcer.setCandidate(block);
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
			this.announcer.setCandidate(null);
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
			this.heldAttachments.retry();
			void this.batches.maybeStart().catch((error) => this.fail(error));
		}
		this.emit({ type: 'fact', fact });
		this.emit({ type: 'status' });
	}

	/**
	 * The background verification moved on: mining asked for starts once the chain is verified; a fact
	 * found invalid stops mining and voting, and is raised loudly.
	 */
	private verificationChanged(): void {
		const { invalid } = this.chain.verification;
		if (invalid) {
			this.miner?.stop();
			this.drivers.stop();
			this.emit({ type: 'invalid', invalid });
			this.emit({
				type: 'error',
				message: `INVALID CHAIN: ${invalid.message} [${invalid.code}]; ${describeCertifiers(invalid.certifiedBy)}`
			});
		} else if (this.chain.fullyVerified && this.miningWanted) {
			this.miningWanted = false;
			this.miner?.start();
		}
		this.emit({ type: 'status' });
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
