/**
 * The peer guard, a libp2p service: who is the consortium's own (protected), what each peer may spend,
 * and who is banned.
 *
 * Sybil cost (issue 18): a fresh identity is free to make, so strangers (peers that are neither
 * bootstrap peers nor protected by the `isProtected` callback, which the admitted-institutions
 * registry answers) share a fixed part of the connection limit and get the least per-peer budget of
 * messages, bytes, requests and open streams; protected peers are tagged in the peer store so libp2p's
 * pruner keeps them first, and a crowd of strangers can never take their connection slots.
 *
 * Bans: our own points (rate limits, oversize frames, `penalise()`) ban a peer when they reach the
 * threshold; gossipsub's score (which counts rejected messages itself and includes our points as the
 * application score) bans it when it falls below minus the threshold. The connection gater refuses a
 * banned peer for `banMs`.
 */
import type {
	Connection,
	Libp2pEvents,
	PeerId,
	PeerStore,
	Startable,
	TypedEventTarget
} from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { LogLimiter, Scoreboard, TokenBuckets } from './limits.ts';
import type { NetLimits } from './peer-net.ts';

/** A protected peer's tag value; libp2p prunes the connections of the lowest summed tag values first. */
export const PROTECTED_TAG = 'spchain-protected';
const PROTECTED_TAG_VALUE = 100;
/** How often the protection callback is asked again for every connected peer. */
const REFRESH_MS = 5000;

export type PeerClass = 'protected' | 'stranger';

export interface PeerGuardInit {
	limits: NetLimits;
	/** Shared with the connection gater, which is built before the services. */
	scores: Scoreboard;
	/** Bootstrap peer ids: always protected. */
	bootstrapIds?: readonly string[];
	isProtected?: (peer: string) => boolean;
	/** Called with a peer just banned (after its connections are closed). */
	onBan?: (peer: string, reason: string) => void;
}

export interface PeerGuardComponents {
	peerId: PeerId;
	peerStore: Pick<PeerStore, 'merge'>;
	connectionManager: { getConnections(peer?: PeerId): Connection[] };
	events: TypedEventTarget<Libp2pEvents>;
}

interface Budgets {
	messages: TokenBuckets;
	bytes: TokenBuckets;
	requests: TokenBuckets;
}

export class PeerGuard implements Startable {
	readonly scores: Scoreboard;
	private readonly limits: NetLimits;
	private readonly bootstrapIds: Set<string>;
	private readonly budgets: Record<PeerClass, Budgets>;
	private readonly openStreams = new Map<string, number>();
	/** Gossip messages being validated, per peer. */
	private readonly validating = new Map<string, number>();
	private readonly tagged = new Set<string>();
	private readonly logs = new LogLimiter(5, 60_000, (line) => console.warn(line));
	private timer: ReturnType<typeof setInterval> | undefined;

	constructor(
		private readonly components: PeerGuardComponents,
		private readonly init: PeerGuardInit
	) {
		this.limits = init.limits;
		this.scores = init.scores;
		this.bootstrapIds = new Set(init.bootstrapIds ?? []);
		const budgets = (factor: number): Budgets => ({
			messages: new TokenBuckets(this.limits.gossipPerSecond * factor, this.limits.gossipBurst * factor),
			bytes: new TokenBuckets(
				this.limits.gossipBytesPerSecond * factor,
				this.limits.gossipBytesBurst * factor
			),
			requests: new TokenBuckets(this.limits.requestsPerSecond * factor, this.limits.requestBurst * factor)
		});
		this.budgets = { protected: budgets(this.limits.protectedFactor), stranger: budgets(1) };
	}

	readonly [Symbol.toStringTag] = 'spchain/peer-guard';

	start(): void {
		this.components.events.addEventListener('connection:open', this.onConnectionOpen);
		this.components.events.addEventListener('peer:disconnect', this.onPeerDisconnect);
		this.timer = setInterval(() => this.refreshProtection(), REFRESH_MS);
	}

	stop(): void {
		this.components.events.removeEventListener('connection:open', this.onConnectionOpen);
		this.components.events.removeEventListener('peer:disconnect', this.onPeerDisconnect);
		clearInterval(this.timer);
	}

	classOf(peer: string): PeerClass {
		if (this.bootstrapIds.has(peer)) return 'protected';
		try {
			return this.init.isProtected?.(peer) ? 'protected' : 'stranger';
		} catch {
			return 'stranger';
		}
	}

	isBanned(peer: string): boolean {
		return this.scores.isBanned(peer);
	}

	/** One gossip message of `bytes` from `peer`: false (and a small penalty) when over its budget. */
	takeGossip(peer: string, bytes: number): boolean {
		const budget = this.budgets[this.classOf(peer)];
		if (budget.messages.take(peer) && budget.bytes.take(peer, bytes)) return true;
		this.penalise(peer, this.limits.rateLimitPoints, 'gossip over its budget');
		return false;
	}

	/** One request from `peer`: false (and a small penalty) when over its rate. */
	takeRequest(peer: string): boolean {
		if (this.budgets[this.classOf(peer)].requests.take(peer)) return true;
		this.penalise(peer, this.limits.rateLimitPoints, 'requests over its rate');
		return false;
	}

	/**
	 * Starts validating one gossip message of `peer`; the returned function ends it. Null (and a small
	 * penalty) when the peer already has its share being validated.
	 */
	beginValidation(peer: string): (() => void) | null {
		const factor = this.classOf(peer) === 'protected' ? this.limits.protectedFactor : 1;
		const busy = this.validating.get(peer) ?? 0;
		if (busy >= this.limits.gossipInFlight * factor) {
			this.penalise(peer, this.limits.rateLimitPoints, 'gossip faster than it can be checked');
			return null;
		}
		this.validating.set(peer, busy + 1);
		let done = false;
		return () => {
			if (done) return;
			done = true;
			const left = (this.validating.get(peer) ?? 1) - 1;
			if (left <= 0) this.validating.delete(peer);
			else this.validating.set(peer, left);
		};
	}

	/** Opens one inbound stream slot for `peer`; the returned function frees it. Null when it holds its share. */
	openStream(peer: string): (() => void) | null {
		const factor = this.classOf(peer) === 'protected' ? this.limits.protectedFactor : 1;
		const open = this.openStreams.get(peer) ?? 0;
		if (open >= this.limits.streamsPerPeer * factor) return null;
		this.openStreams.set(peer, open + 1);
		let freed = false;
		return () => {
			if (freed) return;
			freed = true;
			const left = (this.openStreams.get(peer) ?? 1) - 1;
			if (left > 0) this.openStreams.set(peer, left);
			else this.openStreams.delete(peer);
		};
	}

	/** Inbound request streams held open now, all peers together (tests: back to zero after a timeout). */
	get streamsOpen(): number {
		let total = 0;
		for (const count of this.openStreams.values()) total += count;
		return total;
	}

	/** Adds our points; at the threshold the peer is banned and its connections closed. */
	penalise(peer: string, points: number, reason: string): void {
		if (peer === this.components.peerId.toString()) return;
		if (this.scores.add(peer, points, reason)) this.banned(peer, reason);
	}

	/** Bans a peer whose gossipsub score fell to minus the threshold. */
	banForScore(peer: string, score: number): void {
		if (peer === this.components.peerId.toString()) return;
		const reason = `gossip score ${score.toFixed(1)}`;
		if (this.scores.ban(peer, reason)) this.banned(peer, reason);
	}

	private banned(peer: string, reason: string): void {
		this.logs.log(
			'[net] bans',
			`[net] banning ${peer.slice(-8)} for ${this.limits.banMs / 1000} s: ${reason}`
		);
		for (const connection of this.components.connectionManager.getConnections(peerIdFromString(peer)))
			void connection.close().catch(() => undefined);
		this.init.onBan?.(peer, reason);
	}

	private readonly onConnectionOpen = (event: CustomEvent<Connection>): void => {
		const peer = event.detail.remotePeer.toString();
		if (this.classOf(peer) === 'protected') {
			void this.tag(peer);
			return;
		}
		// Strangers share maxStrangerConnections; past it the newest stranger is turned away, so the
		// rest of the connection limit stays free for the consortium's own peers.
		const strangers = new Set<string>();
		for (const connection of this.components.connectionManager.getConnections()) {
			const id = connection.remotePeer.toString();
			if (connection.status === 'open' && this.classOf(id) === 'stranger') strangers.add(id);
		}
		if (strangers.size > this.limits.maxStrangerConnections) {
			this.logs.log('[net] strangers', `[net] stranger ${peer.slice(-8)} refused: stranger slots full`);
			void event.detail.close().catch(() => undefined);
		}
	};

	private readonly onPeerDisconnect = (event: CustomEvent<PeerId>): void => {
		const peer = event.detail.toString();
		for (const budget of Object.values(this.budgets)) {
			budget.messages.forget(peer);
			budget.bytes.forget(peer);
			budget.requests.forget(peer);
		}
	};

	/** Tags newly protected peers, untags those no longer protected (a registry may change its mind). */
	private refreshProtection(): void {
		const connected = new Set(
			this.components.connectionManager.getConnections().map((c) => c.remotePeer.toString())
		);
		for (const peer of connected) if (this.classOf(peer) === 'protected') void this.tag(peer);
		for (const peer of this.tagged)
			if (this.classOf(peer) === 'stranger') {
				this.tagged.delete(peer);
				void this.components.peerStore
					.merge(peerIdFromString(peer), { tags: { [PROTECTED_TAG]: undefined } })
					.catch(() => undefined);
			}
	}

	private async tag(peer: string): Promise<void> {
		if (this.tagged.has(peer)) return;
		this.tagged.add(peer);
		try {
			await this.components.peerStore.merge(peerIdFromString(peer), {
				tags: { [PROTECTED_TAG]: { value: PROTECTED_TAG_VALUE } }
			});
		} catch (error) {
			this.tagged.delete(peer);
			this.logs.log('[net] tags', `[net] could not protect ${peer.slice(-8)}: ${String(error)}`);
		}
	}
}

/** The js-libp2p service factory: `services: { guard: peerGuard(init) }`. */
export function peerGuard(init: PeerGuardInit): (components: PeerGuardComponents) => PeerGuard {
	return (components) => new PeerGuard(components, init);
}
