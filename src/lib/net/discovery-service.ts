/**
 * Peer discovery and the member list, a libp2p service. Every node answers MEMBER_PROTOCOL with the
 * SPChain peers it is connected to (`directory.ts`); the relay answers the same under
 * RELAY_DIRECTORY_PROTOCOL. Every second while alone (or while a listed peer is unreached), every
 * fifth second otherwise, the node asks its connected peers and dials the ones it does not know, each
 * with its own back-off (1 s · 2^failures, at most a minute). A member is a peer that speaks
 * MEMBER_PROTOCOL over a direct connection and is not banned; `peer:connect`/`peer:disconnect` on this
 * service's `members` target tell the node runtime.
 */
import type {
	Connection,
	IdentifyResult,
	Libp2pEvents,
	PeerId,
	PeerStore,
	Startable,
	TypedEventTarget
} from '@libp2p/interface';
import type { Identify } from '@libp2p/identify';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import {
	answerDirectory,
	HOP_PROTOCOL,
	MEMBER_PROTOCOL,
	readDirectory,
	RELAY_DIRECTORY_PROTOCOL,
	type DirectoryEntry
} from './directory.ts';
import { LogLimiter } from './limits.ts';
import type { PeerGuard } from './peer-guard.ts';
import type { PeerEventType } from './peer-net.ts';

const DISCOVERY_TICK_MS = 1000;
const DISCOVERY_EVERY = 5;
/** A peer with the larger id waits this long for the smaller one to dial before dialling itself. */
const DIAL_TIE_BREAK_MS = 6000;
/** A WebRTC dial through the relay takes ~0.3 s on loopback; a stuck one is retried on the next round. */
const DISCOVERY_DIAL_TIMEOUT_MS = 5000;
/** Addresses tried per directory entry (an attacker's entry may list many that lead nowhere). */
const DIAL_CANDIDATES = 4;
/** Discovery bookkeeping (firstSeen, dialFailures) is forgotten after this long, and capped. */
const DISCOVERY_MEMORY_MS = 10 * 60_000;
const DISCOVERY_MEMORY_ENTRIES = 1024;

export interface DiscoveryComponents {
	peerId: PeerId;
	peerStore: Pick<PeerStore, 'get'>;
	connectionManager: {
		getConnections(peer?: PeerId): Connection[];
		openConnection(
			target: PeerId | Multiaddr,
			options?: { signal?: AbortSignal; priority?: number }
		): Promise<Connection>;
	};
	registrar: {
		handle(
			protocol: string,
			handler: (stream: import('@libp2p/interface').Stream, connection: Connection) => void | Promise<void>,
			options?: { maxInboundStreams?: number }
		): Promise<void>;
	};
	events: TypedEventTarget<Libp2pEvents>;
	identify?: Pick<Identify, 'identify'>;
	guard: PeerGuard;
}

export interface DiscoveryInit {
	/** Most peers discovery dials on its own. */
	maxPeers: number;
}

export class DiscoveryService implements Startable {
	/** Emits `peer:connect` / `peer:disconnect` (detail: peer id string) as members come and go. */
	readonly members = new EventTarget();
	private readonly memberSet = new Set<string>();
	private readonly firstSeen = new Map<string, number>();
	private readonly dialFailures = new Map<string, { count: number; next: number; at: number }>();
	private readonly dialing = new Set<string>();
	private readonly identified = new WeakSet<Connection>();
	private readonly reidentified = new WeakSet<Connection>();
	private readonly debugLogs = new LogLimiter(5, 60_000, (line) => console.debug(line));
	private stopController = new AbortController();
	private timer: ReturnType<typeof setInterval> | undefined;
	private discovering = false;
	private unreached = 0;
	private ticks = 0;

	constructor(
		private readonly components: DiscoveryComponents,
		private readonly init: DiscoveryInit
	) {}

	readonly [Symbol.toStringTag] = 'spchain/discovery';

	async start(): Promise<void> {
		this.stopController = new AbortController();
		const { events, registrar } = this.components;
		const directory = {
			getPeers: () => this.connectedPeers(),
			peerStore: this.components.peerStore
		};
		await registrar.handle(
			MEMBER_PROTOCOL,
			(stream, connection) => answerDirectory(directory, stream, connection.remotePeer),
			{ maxInboundStreams: 16 }
		);
		events.addEventListener('peer:identify', this.onIdentify);
		events.addEventListener('connection:close', this.onConnectionClose);
		events.addEventListener('peer:disconnect', this.onPeerDisconnect);
		this.timer = setInterval(() => this.tick(), DISCOVERY_TICK_MS);
	}

	stop(): void {
		this.stopController.abort();
		clearInterval(this.timer);
		const { events } = this.components;
		events.removeEventListener('peer:identify', this.onIdentify);
		events.removeEventListener('connection:close', this.onConnectionClose);
		events.removeEventListener('peer:disconnect', this.onPeerDisconnect);
	}

	peers(): string[] {
		return [...this.memberSet];
	}

	/** Drops a banned peer from the members at once (its connections are closing). */
	forget(peer: string): void {
		if (this.memberSet.delete(peer)) this.emit('peer:disconnect', peer);
	}

	private emit(type: PeerEventType, peer: string): void {
		this.members.dispatchEvent(new CustomEvent<string>(type, { detail: peer }));
	}

	private connectedPeers(): PeerId[] {
		const seen = new Map<string, PeerId>();
		for (const c of this.components.connectionManager.getConnections())
			seen.set(c.remotePeer.toString(), c.remotePeer);
		return [...seen.values()];
	}

	private directConnections(peer: string): Connection[] {
		return this.components.connectionManager
			.getConnections(peerIdFromString(peer))
			.filter((c) => c.status === 'open' && c.limits == null);
	}

	private async refreshMember(peerId: PeerId): Promise<void> {
		const peer = peerId.toString();
		let isMember = false;
		try {
			const record = await this.components.peerStore.get(peerId);
			isMember =
				record.protocols.includes(MEMBER_PROTOCOL) &&
				!this.components.guard.isBanned(peer) &&
				this.directConnections(peer).length > 0;
		} catch {
			isMember = false;
		}
		if (isMember && !this.memberSet.has(peer)) {
			this.memberSet.add(peer);
			this.emit('peer:connect', peer);
		} else if (!isMember) this.forget(peer);
	}

	private readonly onIdentify = (event: CustomEvent<IdentifyResult>): void => {
		this.identified.add(event.detail.connection);
		void this.refreshMember(event.detail.peerId);
		const { protocols } = event.detail;
		if (protocols.includes(RELAY_DIRECTORY_PROTOCOL) || protocols.includes(HOP_PROTOCOL)) this.discoverSoon();
	};

	private readonly onConnectionClose = (event: CustomEvent<Connection>): void =>
		void this.refreshMember(event.detail.remotePeer);

	private readonly onPeerDisconnect = (event: CustomEvent<PeerId>): void =>
		this.forget(event.detail.toString());

	private tick(): void {
		this.checkUnidentified();
		this.pruneMemory();
		if (this.memberSet.size === 0 || this.unreached > 0 || ++this.ticks % DISCOVERY_EVERY === 0)
			this.discoverSoon();
	}

	/** Forgets discovery bookkeeping older than DISCOVERY_MEMORY_MS, and the oldest beyond the cap. */
	private pruneMemory(): void {
		const now = Date.now();
		for (const map of [this.firstSeen, this.dialFailures] as Map<string, unknown>[]) {
			for (const [id, value] of map) {
				const at = typeof value === 'number' ? value : (value as { at: number }).at;
				if (now - at > DISCOVERY_MEMORY_MS || map.size > DISCOVERY_MEMORY_ENTRIES) map.delete(id);
				else break; // insertion order: the rest are newer
			}
		}
	}

	/**
	 * A direct connection whose identify exchange failed (it happens on a WebRTC connection that came up
	 * while the dialer gave up) would never count as a peer: identify it once more, then re-check.
	 */
	private checkUnidentified(): void {
		const { identify } = this.components;
		if (!identify) return;
		for (const connection of this.components.connectionManager.getConnections()) {
			if (this.identified.has(connection) || connection.limits != null || connection.status !== 'open')
				continue;
			if (this.reidentified.has(connection) || Date.now() - connection.timeline.open < 5000) continue;
			this.reidentified.add(connection);
			void identify
				.identify(connection, { signal: AbortSignal.timeout(5000) })
				.catch(async () => {
					// no answer on a direct connection: it is dead (the peer redials if it wants us)
					await connection.close().catch(() => undefined);
				})
				.finally(() => void this.refreshMember(connection.remotePeer));
		}
	}

	private discoverSoon(): void {
		if (this.discovering || this.stopController.signal.aborted) return;
		this.discovering = true;
		void this.discover()
			.catch(() => undefined)
			.finally(() => {
				this.discovering = false;
			});
	}

	/** Listed peers not connected in the last round: while there are any, ask again every tick. */
	private async discover(): Promise<void> {
		this.unreached = 0;
		const asked = new Set<string>();
		for (const connection of this.components.connectionManager.getConnections()) {
			const peer = connection.remotePeer.toString();
			if (asked.has(peer) || connection.status !== 'open') continue;
			let protocols: string[];
			try {
				protocols = (await this.components.peerStore.get(connection.remotePeer)).protocols;
			} catch {
				continue;
			}
			const protocol = protocols.includes(RELAY_DIRECTORY_PROTOCOL)
				? RELAY_DIRECTORY_PROTOCOL
				: protocols.includes(MEMBER_PROTOCOL)
					? MEMBER_PROTOCOL
					: undefined;
			if (!protocol) continue;
			asked.add(peer);
			await this.discoverFrom(connection, protocol);
		}
	}

	private async discoverFrom(connection: Connection, protocol: string): Promise<void> {
		let entries: DirectoryEntry[];
		try {
			const stream = await connection.newStream(protocol, {
				signal: AbortSignal.timeout(10_000),
				runOnLimitedConnection: true
			});
			try {
				entries = await readDirectory(stream);
			} catch {
				stream.abort(new Error('bad directory answer'));
				return;
			}
		} catch {
			return;
		}
		const relay = protocol === RELAY_DIRECTORY_PROTOCOL ? relayAddressOf(connection) : undefined;
		const selfId = this.components.peerId.toString();
		const now = Date.now();
		for (const entry of entries) {
			if (entry.id === selfId || this.memberSet.has(entry.id) || this.components.guard.isBanned(entry.id))
				continue;
			this.unreached++;
			if (this.memberSet.size + this.dialing.size >= this.init.maxPeers) break;
			if (this.directConnections(entry.id).length > 0) {
				this.firstSeen.delete(entry.id);
				continue;
			}
			const seen = this.firstSeen.get(entry.id) ?? now;
			if (!this.firstSeen.has(entry.id)) this.firstSeen.set(entry.id, seen);
			// Both sides learn of each other at once; the smaller id dials, the other waits its turn.
			if (selfId > entry.id && now - seen < DIAL_TIE_BREAK_MS) continue;
			void this.dialEntry(entry, relay);
		}
	}

	private async dialEntry(entry: DirectoryEntry, relay: string | undefined): Promise<void> {
		const failures = this.dialFailures.get(entry.id);
		if (this.dialing.has(entry.id) || (failures && failures.next > Date.now())) return;
		this.dialing.add(entry.id);
		try {
			for (const candidate of dialCandidates(entry, relay)) {
				if (this.stopController.signal.aborted || this.directConnections(entry.id).length > 0) return;
				let target: Multiaddr;
				try {
					target = multiaddr(candidate);
				} catch {
					continue;
				}
				try {
					await this.components.connectionManager.openConnection(target, {
						// what libp2p's own dial() gives a user's dial: ahead of background dials in the queue
						priority: 75,
						signal: AbortSignal.any([
							this.stopController.signal,
							AbortSignal.timeout(DISCOVERY_DIAL_TIMEOUT_MS)
						])
					});
					if (this.directConnections(entry.id).length > 0) return;
				} catch (error) {
					const reason = error instanceof Error ? error.message : String(error);
					this.debugLogs.log('[net] dial failures', `[net] dial ${candidate} failed: ${reason}`);
				}
			}
		} finally {
			this.dialing.delete(entry.id);
			if (this.directConnections(entry.id).length > 0) this.dialFailures.delete(entry.id);
			else {
				const count = (failures?.count ?? 0) + 1;
				const now = Date.now();
				this.dialFailures.delete(entry.id); // re-inserted last: pruning walks the oldest first
				this.dialFailures.set(entry.id, { count, next: now + Math.min(60_000, 1000 * 2 ** count), at: now });
			}
		}
	}
}

function relayAddressOf(connection: Connection): string {
	const addr = connection.remoteAddr.toString();
	const id = connection.remotePeer.toString();
	return addr.includes(`/p2p/${id}`) ? addr : `${addr}/p2p/${id}`;
}

/** Direct addresses first, then WebRTC through the relay that listed the entry; at most DIAL_CANDIDATES. */
export function dialCandidates(entry: DirectoryEntry, relay: string | undefined): string[] {
	const direct = entry.addrs.filter((a) => !a.includes('/p2p-circuit') && !a.includes('/webrtc'));
	const viaRelay = entry.addrs.filter((a) => a.includes('/p2p-circuit/webrtc'));
	if (relay) viaRelay.unshift(`${relay}/p2p-circuit/webrtc/p2p/${entry.id}`);
	return [...direct, ...new Set(viaRelay)]
		.slice(0, DIAL_CANDIDATES)
		.map((a) => (a.includes(`/p2p/${entry.id}`) ? a : `${a}/p2p/${entry.id}`));
}

/** The js-libp2p service factory: `services: { discovery: spchainDiscovery(init) }` (after the guard). */
export function spchainDiscovery(init: DiscoveryInit): (components: DiscoveryComponents) => DiscoveryService {
	return (components) => new DiscoveryService(components, init);
}
