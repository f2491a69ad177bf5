/**
 * A full node's syncs from its peers (chain-sync.ts): at most one running per peer, their progress for
 * the node's status, and the periodic catch-up on the tail of a peer's journal.
 */
import { ValidationError } from '../core/errors.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { syncFrom, type SyncProgress } from './chain-sync.ts';
import type { ChainState } from './chain-state.ts';

/** How much of a peer's journal a catch-up asks for. */
const CATCH_UP_WINDOW = 512;

export class PeerSyncs {
	/** Syncs running now, at most one per peer (a peer's messages may ask for many). */
	private readonly syncs = new Map<
		string,
		{ progress: SyncProgress; done: Promise<void>; listeners: Set<(progress: SyncProgress) => void> }
	>();
	private catchingUp = false;
	private catchUpTurn = 0;

	constructor(
		private readonly net: PeerNet,
		private readonly chain: ChainState,
		/** Called when a sync progresses or ends (the node's status changed). */
		private readonly changed: () => void,
		private readonly stopped: () => boolean
	) {}

	/**
	 * Pulls `peer`'s journal; its progress shows in status() (and the UI) while it runs. One at a time
	 * per peer: a call while one runs joins it (a stream of far-ahead keyblocks opens no more syncs).
	 */
	syncWith(peer: string, onProgress?: (progress: SyncProgress) => void): Promise<void> {
		const running = this.syncs.get(peer);
		if (running) {
			if (onProgress) running.listeners.add(onProgress);
			return running.done;
		}
		if (this.chain.verification.invalid) return Promise.resolve();
		const progress: SyncProgress = { total: 0, received: 0, applied: 0, height: this.chain.height };
		const listeners = new Set(onProgress ? [onProgress] : []);
		// A fresh node, or one still verifying a certified part, syncs certified-first (certified-sync.ts).
		const certified = this.chain.length === 0 || !this.chain.fullyVerified;
		const update = (update: SyncProgress) => {
			Object.assign(progress, update);
			for (const listener of listeners) listener(update);
			this.changed();
		};
		const done = syncFrom(this.net, this.chain, peer, update, undefined, undefined, certified)
			.then(() => undefined)
			.finally(() => {
				this.syncs.delete(peer);
				this.changed();
			});
		this.syncs.set(peer, { progress, done, listeners });
		return done;
	}

	/** The running sync with the most facts still to come, so a short catch-up does not hide a long one. */
	progress(): SyncProgress | null {
		let longest: SyncProgress | null = null;
		for (const { progress: sync } of this.syncs.values())
			if (!longest || sync.total - sync.received > longest.total - longest.received) longest = sync;
		return longest && { ...longest };
	}

	/**
	 * Gossip is best effort: asks the next peer in turn for the tail of its journal, and for its whole
	 * journal if the tail does not apply here.
	 */
	async catchUp(): Promise<void> {
		const peers = this.net.peers();
		if (this.stopped() || this.catchingUp || peers.length === 0 || this.chain.verification.invalid) return;
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
}
