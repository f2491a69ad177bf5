/**
 * A patient's phone on the network as a light client (light-client.ts): instead of a full node's
 * journal it keeps, in its store's `meta` table, the chain frames it verified (pinned keyblock headers,
 * the group's hand-overs, admissions and key rotations, pinned batch headers) and its own patient block
 * with one inclusion proof per record. It catches up from any full node that serves light sync
 * (light-sync.ts), now and then and whenever a peer connects, and sends its own transactions (a
 * registration) by gossip to the full nodes, which check and pin them.
 *
 * On open it verifies what it kept again (certificates, the block's leaf proofs, the records' paths):
 * work proportional to keyblocks, batches and its own history, never to the network's transactions.
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import type { ChameleonVerifier } from '../core/chameleon.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import type { GenesisConfig } from '../core/genesis.ts';
import type { PublicKey } from '../core/identity.ts';
import { decodeInclusionProof } from '../core/light-proof.ts';
import type { PatientBlock } from '../core/patient-block.ts';
import * as read from '../core/schema.ts';
import { checkTransaction, encodeTransaction, transactionId, type Transaction } from '../core/transaction.ts';
import type { PeerNet } from '../net/peer-net.ts';
import type { Store } from '../store/store.ts';
import { genesisGroup } from './genesis-group.ts';
import { LightClient } from './light-client.ts';
import { applyChainFrame, lightSyncFrom, readLightFrame, verifyBlock } from './light-sync.ts';

/** Store keys (table `meta`): the verified chain frames in order, and the patient's block with proofs. */
const FRAME_PREFIX = 'light/frame/';
const BLOCK_KEY = 'light/block';
const frameKey = (index: number) => `${FRAME_PREFIX}${String(index).padStart(10, '0')}`;
/** How often a light node asks a full node what is new (a keyblock, a batch, a record of its patient). */
const SYNC_INTERVAL_MS = 4000;
/** A transaction sent from here is sent again until it shows in the block, for at most this long. */
const RESEND_MS = 10 * 60_000;

export type LightEvent = { type: 'status' } | { type: 'error'; message: string };

export interface LightNodeOptions {
	genesis: GenesisConfig;
	store: Store;
	net: PeerNet;
	verifier: ChameleonVerifier;
	/** The patient whose block this phone keeps. */
	patient: PublicKey;
	syncIntervalMs?: number;
	clock?: () => number;
}

export interface LightStatus {
	peerId: string;
	peers: number;
	keyblocks: number;
	handovers: number;
	batches: number;
	/** Records of the patient's block, each verified against a pinned batch header. */
	records: number;
	/** Bytes this node keeps of the chain: its frames and its block with proofs. */
	storedBytes: number;
	syncing: boolean;
}

export class LightNode {
	readonly client: LightClient;
	#block: PatientBlock | undefined;
	#blockBytes: Bytes | undefined;
	#pinned = new Set<string>();
	#frames = 0;
	#frameBytes = 0;
	#keptBlockBytes = 0;
	#syncing: Promise<boolean> | undefined;
	#preferred: string | undefined;
	#timer: ReturnType<typeof setInterval> | undefined;
	#stopped = false;
	readonly #listeners = new Set<(event: LightEvent) => void>();
	readonly #outbox = new Map<string, { tx: Transaction; encoded: Bytes; since: number }>();
	readonly #clock: () => number;

	private constructor(private readonly options: LightNodeOptions) {
		this.client = new LightClient(options.genesis, genesisGroup(options.genesis));
		this.#clock = options.clock ?? Date.now;
	}

	/** Opens what the store kept (verifying it again), then syncs from peers now and then. */
	static async open(options: LightNodeOptions): Promise<LightNode> {
		const node = new LightNode(options);
		await node.#load();
		const { net } = options;
		net.addEventListener('peer:connect', node.#onConnect);
		node.#timer = setInterval(() => void node.syncNow(), options.syncIntervalMs ?? SYNC_INTERVAL_MS);
		void node.syncNow();
		return node;
	}

	get genesis(): GenesisConfig {
		return this.options.genesis;
	}

	/** The patient's block as last verified (undefined before the registration is pinned). */
	get block(): PatientBlock | undefined {
		return this.#block;
	}

	/** Whether `txId` is a record of the block, verified against the pinned batch it names. */
	isPinned(txId: Bytes): boolean {
		return this.#pinned.has(bytesToHex(txId));
	}

	status(): LightStatus {
		const { client, options } = this;
		return {
			peerId: options.net.peerId,
			peers: options.net.peers().length,
			keyblocks: client.height,
			handovers: client.epochs - 1,
			batches: client.batchCount,
			records: this.#pinned.size,
			storedBytes: this.#frameBytes + this.#keptBlockBytes,
			syncing: this.#syncing !== undefined
		};
	}

	on(listener: (event: LightEvent) => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	/**
	 * Sends the patient's own transaction to the full nodes by gossip (checked here first for what a
	 * light client can check: signature and fees), and again on every sync until it shows in the block.
	 */
	async submit(tx: Transaction): Promise<Bytes> {
		checkTransaction(tx, this.options.genesis.fees);
		const id = transactionId(tx.body);
		const encoded = encodeTransaction(tx);
		this.#outbox.set(bytesToHex(id), { tx, encoded, since: this.#clock() });
		await this.options.net.publish('transactions', encoded);
		return id;
	}

	/** Catches up from one peer that serves light sync (the last one that did first); false if none did. */
	syncNow(): Promise<boolean> {
		this.#syncing ??= this.#syncFromPeers().finally(() => (this.#syncing = undefined));
		return this.#syncing;
	}

	/** A sync that starts after any running one: what the caller asks for next is what peers hold now. */
	async freshSync(): Promise<boolean> {
		await this.#syncing?.catch(() => undefined);
		return this.syncNow();
	}

	async stop(): Promise<void> {
		this.#stopped = true;
		clearInterval(this.#timer);
		this.options.net.removeEventListener('peer:connect', this.#onConnect);
		await this.#syncing?.catch(() => undefined);
	}

	readonly #onConnect = () => void this.syncNow();

	#emit(event: LightEvent): void {
		for (const listener of this.#listeners) listener(event);
	}

	async #syncFromPeers(): Promise<boolean> {
		const { net } = this.options;
		const peers = net.peers();
		const order = this.#preferred && peers.includes(this.#preferred) ? [this.#preferred] : [];
		for (const peer of [...order, ...peers.filter((p) => p !== this.#preferred)]) {
			if (this.#stopped) return false;
			try {
				await this.#syncFrom(peer);
				this.#preferred = peer;
				this.#resend();
				return true;
			} catch (error) {
				// A peer that is no full node (a relay, another phone) cannot answer: the next one may.
				if (error instanceof Error && error.name === 'ValidationError')
					this.#emit({ type: 'error', message: `light sync from ${peer.slice(-8)}: ${error.message}` });
			}
		}
		return false;
	}

	async #syncFrom(peer: string): Promise<void> {
		const { net, store, verifier, patient } = this.options;
		const frames: Bytes[] = [];
		let changed = false;
		try {
			const result = await lightSyncFrom(net, this.client, peer, patient, verifier, (raw) =>
				frames.push(raw)
			);
			if (result.block && result.blockBytes) {
				changed =
					this.#blockBytes === undefined || bytesToHex(this.#blockBytes) !== bytesToHex(result.blockBytes);
				this.#setBlock(result.block, result.blockBytes);
				if (changed) {
					const kept = encodeCanonical({ block: result.blockBytes, proofs: result.proofs });
					await store.write([{ table: 'meta', key: BLOCK_KEY, value: kept }]);
					this.#keptBlockBytes = kept.length;
				}
			}
		} finally {
			// What was verified is kept, even when a later frame of the same sync was refused.
			if (frames.length > 0) {
				await store.write(
					frames.map((value, i) => ({ table: 'meta' as const, key: frameKey(this.#frames + i), value }))
				);
				this.#frames += frames.length;
				this.#frameBytes += frames.reduce((sum, f) => sum + f.length, 0);
			}
			// The screens redraw only when there is something new.
			if (frames.length > 0 || changed) this.#emit({ type: 'status' });
		}
	}

	#setBlock(block: PatientBlock, bytes: Bytes): void {
		this.#block = block;
		this.#blockBytes = bytes;
		this.#pinned = new Set(
			block.leaves.flatMap((leaf) => leaf.entries.map((e) => bytesToHex(transactionId(e.tx.body))))
		);
	}

	/** Sends again what is not in the block yet; a registration is done once the block exists. */
	#resend(): void {
		const now = this.#clock();
		for (const [key, { tx, encoded, since }] of this.#outbox) {
			const done = tx.body.kind === 'register' ? this.#block !== undefined : this.#pinned.has(key);
			if (done || now - since > RESEND_MS) this.#outbox.delete(key);
			else void this.options.net.publish('transactions', encoded).catch(() => undefined);
		}
	}

	/** Replays the kept frames through the client and checks the kept block; a frame that fails is dropped with what follows. */
	async #load(): Promise<void> {
		const { store, verifier, patient } = this.options;
		const kept = await store.list('meta', { from: FRAME_PREFIX, to: `${FRAME_PREFIX}~` });
		for (const [i, [, raw]] of kept.entries()) {
			try {
				const { type, bytes } = readLightFrame(raw);
				applyChainFrame(this.client, type, bytes);
			} catch {
				// Damaged at rest: drop it and what follows; the next sync fetches them again.
				await store.write(kept.slice(i).map(([k]) => ({ table: 'meta' as const, key: k, value: null })));
				break;
			}
			this.#frames++;
			this.#frameBytes += raw.length;
		}
		const blockBytes = await store.get('meta', BLOCK_KEY);
		if (!blockBytes) return;
		try {
			const o = read.object(decodeCanonical(blockBytes), 'lightBlock', ['block', 'proofs']);
			const bytes = read.bytes(o.block, 'lightBlock.block', { max: 8 * 1024 * 1024 });
			const proofs = read.array(o.proofs, 'lightBlock.proofs', 1_000_000, (p, w) =>
				read.bytes(p, w, { max: 64 * 1024 })
			);
			const block = await verifyBlock(this.client, bytes, patient, verifier);
			const entries = block.leaves.flatMap((leaf) => leaf.entries);
			if (entries.length !== proofs.length) throw new Error('the kept block and its proofs differ');
			entries.forEach((entry, i) => this.client.verifyRecord(entry, decodeInclusionProof(proofs[i]!)));
			this.#setBlock(block, bytes);
			this.#keptBlockBytes = blockBytes.length;
		} catch {
			await store.write([{ table: 'meta', key: BLOCK_KEY, value: null }]);
		}
	}
}
