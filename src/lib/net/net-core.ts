/**
 * The libp2p core shared by the browser and Node PeerNets; the platform files only choose transports
 * and listen addresses.
 *
 * Gossip: gossipsub with unsigned messages (StrictNoSign: payloads carry their own signatures) and
 * message id = SHA-256 of the data, so the same payload from two nodes is one message. The consensus
 * layer re-sends its messages every 2 s on purpose, so the seen-cache must forget an id before the next
 * re-send (else the re-send is dropped for gossipsub's default 2 minutes), yet remember it for longer
 * than any neighbour can still offer it by IHAVE/IWANT (else an echo would be accepted again and
 * re-forwarded, round after round). With a 500 ms heartbeat, a message stays in the message cache for
 * at most 2 heartbeats (mcacheLength 2, gossiped for 1), i.e. ≤ 1 s after a peer received it; the
 * seen-cache keeps ids 1.4 s (pruned on the heartbeat, so 1.4–1.9 s), which is < 2 s and > 1 s plus
 * loopback/LAN propagation.
 *
 * Every gossip message goes through the subscriber's validator before it is forwarded; 'reject' costs
 * the forwarding peer score points (and gossipsub's own score through appSpecificScore). Past the ban
 * threshold the peer is disconnected and refused by the connection gater for `banMs`.
 *
 * Request/response: one length-prefixed request frame, then tagged response frames (data / error / end).
 */
import { createLibp2p, type Libp2pOptions } from 'libp2p';
import { noise } from '@libp2p/noise';
import { webSockets } from '@libp2p/websockets';
import { webRTC } from '@libp2p/webrtc';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { yamux } from '@libp2p/yamux';
import { identify, identifyPush, type Identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import {
	gossipsub,
	StrictNoSign,
	TopicValidatorResult,
	type GossipSub,
	type GossipsubOpts
} from '@libp2p/gossipsub';
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import { sha256 } from '@noble/hashes/sha2.js';
import pRetry from 'p-retry';
import {
	DEFAULT_LIMITS,
	DEFAULT_MAX_MESSAGE_BYTES,
	MessageTooLargeError,
	NetStoppedError,
	RequestError,
	TOPICS,
	type ConnectionInfo,
	type NetLimits,
	type NetStats,
	type PeerEventType,
	type PeerNet,
	type PeerNetOptions,
	type StreamHandler,
	type Topic,
	type TopicValidator,
	type Verdict
} from './peer-net.ts';
import { LogLimiter, Scoreboard, TokenBuckets } from './limits.ts';
import { FRAME_DATA, FRAME_END, FRAME_ERROR, readFrames, sendFrame, tagged, withTimeout } from './frames.ts';
import {
	answerDirectory,
	HOP_PROTOCOL,
	MEMBER_PROTOCOL,
	readDirectory,
	RELAY_DIRECTORY_PROTOCOL,
	type DirectoryEntry
} from './directory.ts';

export interface PlatformConfig {
	/** Listen addresses used when PeerNetOptions.listen is absent. */
	listen: string[];
}

/**
 * The same transports on both sides: @libp2p/webrtc resolves to the browser's RTCPeerConnection in a
 * page and to node-datachannel in Node (package.json "browser" field). No STUN/TURN servers: host
 * candidates only, which is what loopback and one LAN need.
 */
function transports(): NonNullable<Libp2pOptions['transports']> {
	return [
		webSockets(),
		webRTC({ rtcConfiguration: { iceServers: [] } }),
		circuitRelayTransport({ reservationCompletionTimeout: 20_000 })
	];
}

/** Gossip timing (see the module comment). */
export const GOSSIP_TIMING = {
	heartbeatInterval: 500,
	mcacheLength: 2,
	mcacheGossip: 1,
	seenTTL: 1400
} as const;

const TOPIC_PREFIX = '/spchain/1/';
/** Ask for peers every second while alone, every DISCOVERY_EVERY ticks once connected. */
const DISCOVERY_TICK_MS = 1000;
const DISCOVERY_EVERY = 5;
/** A peer with the larger id waits this long for the smaller one to dial before dialling itself. */
const DIAL_TIE_BREAK_MS = 6000;
/** A WebRTC dial through the relay takes ~0.3 s on loopback; a stuck one is retried on the next round. */
const DISCOVERY_DIAL_TIMEOUT_MS = 5000;
const REQUEST_READ_TIMEOUT_MS = 15_000;
const BOOTSTRAP_MAX_BACKOFF_MS = 30_000;
/** Addresses tried per directory entry (an attacker's entry may list many that lead nowhere). */
const DIAL_CANDIDATES = 4;
/** Discovery bookkeeping (firstSeen, dialFailures) is forgotten after this long, and capped. */
const DISCOVERY_MEMORY_MS = 10 * 60_000;
const DISCOVERY_MEMORY_ENTRIES = 1024;

const topicName = (topic: Topic) => `${TOPIC_PREFIX}${topic}`;

const VERDICTS: Record<Verdict, TopicValidatorResult> = {
	accept: TopicValidatorResult.Accept,
	reject: TopicValidatorResult.Reject,
	ignore: TopicValidatorResult.Ignore
};

type Services = { identify: Identify; identifyPush: unknown; ping: unknown; pubsub: GossipSub };

function transportOf(addr: string): ConnectionInfo['transport'] {
	if (addr.includes('/webrtc')) return 'webrtc';
	if (addr.includes('/p2p-circuit')) return 'circuit';
	if (addr.includes('/ws') || addr.includes('/wss')) return 'websockets';
	return 'other';
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

export async function startPeerNet(platform: PlatformConfig, options: PeerNetOptions): Promise<PeerNet> {
	const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
	const limits: NetLimits = { ...DEFAULT_LIMITS, ...options.limits };
	const scores = new Scoreboard(limits.banThreshold, limits.scoreHalfLifeMs, limits.banMs);
	const gossipBuckets = new TokenBuckets(limits.gossipPerSecond, limits.gossipBurst);
	const requestBuckets = new TokenBuckets(limits.requestsPerSecond, limits.requestBurst);
	const isBanned = (peerId: PeerId) => scores.isBanned(peerId.toString());
	// A flood of refusals must not become a flood of log lines: a few per kind a minute, then a count.
	const logs = new LogLimiter(5, 60_000, (line) => console.warn(line));
	const debugLogs = new LogLimiter(5, 60_000, (line) => console.debug(line));

	const pubsubOptions: Partial<GossipsubOpts> = {
		globalSignaturePolicy: StrictNoSign,
		msgIdFn: (message) => sha256(message.data),
		...GOSSIP_TIMING,
		allowPublishToZeroTopicPeers: true,
		ignoreDuplicatePublishError: true,
		emitSelf: false,
		floodPublish: true,
		fallbackToFloodsub: false,
		// Larger messages still reach the validator, which rejects them (and scores the sender).
		maxInboundDataLength: 2 * maxBytes + 64 * 1024,
		allowedTopics: TOPICS.map(topicName),
		scoreParams: {
			appSpecificScore: (peer: string) => -scores.points(peer),
			appSpecificWeight: 1,
			// every demo peer shares 127.0.0.1 or one LAN: co-location is normal here
			IPColocationFactorWeight: 0
		},
		// Our penalty points are the score: stop gossiping to a peer at 40 % of the ban threshold, stop
		// publishing to it at 60 %, ignore it at the ban itself (so a flood is still counted up to the ban).
		scoreThresholds: {
			gossipThreshold: -0.4 * limits.banThreshold,
			publishThreshold: -0.6 * limits.banThreshold,
			graylistThreshold: -limits.banThreshold
		}
	};

	const node = (await createLibp2p({
		privateKey: options.privateKey ? privateKeyFromProtobuf(options.privateKey) : undefined,
		addresses: { listen: options.listen ?? platform.listen },
		transports: transports(),
		connectionEncrypters: [noise()],
		streamMuxers: [yamux()],
		connectionGater: {
			// loopback and private addresses are where the relay and clinic nodes live in the demo
			denyDialMultiaddr: () => false,
			denyDialPeer: isBanned,
			denyInboundEncryptedConnection: isBanned,
			denyOutboundEncryptedConnection: isBanned
		},
		// pages and clinic nodes of one demo network share an IP (loopback or one LAN): allow bursts from one host
		connectionManager: {
			maxConnections: 200,
			dialTimeout: 20_000,
			addressDialTimeout: 15_000,
			inboundConnectionThreshold: 100
		},
		services: {
			identify: identify(),
			identifyPush: identifyPush(),
			ping: ping(),
			pubsub: gossipsub(pubsubOptions)
		}
	})) as unknown as Libp2p<Services>;

	const pubsub = node.services.pubsub;
	const selfId = node.peerId.toString();
	const events = new EventTarget();
	const members = new Set<string>();
	const handlers = new Map<string, StreamHandler>();
	const subscribed = new Set<Topic>();
	const stats = { published: 0, droppedNoPeers: 0, received: 0, rejected: 0, rateLimited: 0 };
	const warnedNoPeers = new Set<Topic>();
	const firstSeen = new Map<string, number>();
	const dialing = new Set<string>();
	const stopController = new AbortController();
	let stopped = false;

	const directConnections = (peer: string) =>
		node.getConnections(peerIdFromString(peer)).filter((c) => c.status === 'open' && c.limits == null);

	const emit = (type: PeerEventType, peer: string) =>
		events.dispatchEvent(new CustomEvent<string>(type, { detail: peer }));

	async function refreshMember(peerId: PeerId): Promise<void> {
		const peer = peerId.toString();
		let isMember = false;
		try {
			const record = await node.peerStore.get(peerId);
			isMember =
				record.protocols.includes(MEMBER_PROTOCOL) &&
				!scores.isBanned(peer) &&
				directConnections(peer).length > 0;
		} catch {
			isMember = false;
		}
		if (isMember && !members.has(peer)) {
			members.add(peer);
			emit('peer:connect', peer);
		} else if (!isMember && members.has(peer)) {
			members.delete(peer);
			emit('peer:disconnect', peer);
		}
	}

	function penalise(peer: string, points: number, reason: string): void {
		if (peer === selfId) return;
		if (!scores.add(peer, points, reason)) return;
		logs.log('[net] bans', `[net] banning ${peer.slice(-8)} for ${limits.banMs / 1000} s: ${reason}`);
		void node.hangUp(peerIdFromString(peer)).catch(() => undefined);
		if (members.delete(peer)) emit('peer:disconnect', peer);
	}

	node.addEventListener('peer:identify', (event) => void refreshMember(event.detail.peerId));
	node.addEventListener('connection:close', (event) => void refreshMember(event.detail.remotePeer));
	node.addEventListener('peer:disconnect', (event) => {
		const peer = event.detail.toString();
		gossipBuckets.forget(peer);
		requestBuckets.forget(peer);
		if (members.delete(peer)) emit('peer:disconnect', peer);
	});

	// ------------------------------------------------------------------ request/response

	function serve(protocol: string, handler: StreamHandler) {
		return async (stream: Stream, connection: Connection) => {
			const from = connection.remotePeer.toString();
			const fail = async (message: string) => {
				await sendFrame(stream, tagged(FRAME_ERROR, new TextEncoder().encode(message)));
				await stream.close();
			};
			try {
				if (!requestBuckets.take(from)) {
					stats.rateLimited++;
					penalise(from, limits.rateLimitPoints, `request rate above ${limits.requestsPerSecond}/s`);
					await fail('rate limited');
					return;
				}
				const frames = readFrames(stream, maxBytes);
				const first = await withTimeout(frames.next(), REQUEST_READ_TIMEOUT_MS, `${protocol} request`);
				if (first.done) throw new Error('no request frame');
				for await (const frame of handler(first.value, from)) {
					if (frame.length > maxBytes) throw new MessageTooLargeError(frame.length, maxBytes);
					await sendFrame(stream, tagged(FRAME_DATA, frame));
				}
				await sendFrame(stream, tagged(FRAME_END));
				await stream.close();
			} catch (error) {
				try {
					await fail(describe(error));
				} catch {
					stream.abort(error instanceof Error ? error : new Error(String(error)));
				}
			}
		};
	}

	/** Newest direct connection first (an older one may be a WebRTC connection whose dialer gave up). */
	async function openStream(peer: string, protocol: string, signal?: AbortSignal): Promise<Stream> {
		const connections = directConnections(peer).sort((a, b) => b.timeline.open - a.timeline.open);
		let lastError: unknown;
		for (const connection of connections) {
			try {
				return await connection.newStream(protocol, { signal });
			} catch (error) {
				lastError = error;
				signal?.throwIfAborted();
			}
		}
		if (lastError) throw lastError;
		return node.dialProtocol(peerIdFromString(peer), protocol, { signal });
	}

	async function* request(
		peer: string,
		protocol: string,
		body: Uint8Array,
		options: { signal?: AbortSignal } = {}
	): AsyncIterable<Uint8Array> {
		if (stopped) throw new NetStoppedError();
		if (body.length > maxBytes) throw new MessageTooLargeError(body.length, maxBytes);
		const { signal } = options;
		const stream = await openStream(peer, protocol, signal);
		const onAbort = () => stream.abort(new RequestError('aborted', peer, protocol));
		signal?.addEventListener('abort', onAbort);
		let ended = false;
		let settled = false;
		try {
			await sendFrame(stream, body, signal);
			for await (const frame of readFrames(stream, maxBytes + 1)) {
				signal?.throwIfAborted();
				if (frame[0] === FRAME_DATA) yield frame.subarray(1);
				else if (frame[0] === FRAME_END) {
					ended = true;
					break;
				} else if (frame[0] === FRAME_ERROR)
					throw new RequestError(new TextDecoder().decode(frame.subarray(1)), peer, protocol);
				else throw new RequestError(`unknown frame tag ${frame[0]}`, peer, protocol);
			}
			signal?.throwIfAborted();
			if (!ended) throw new RequestError('the stream ended before the response did', peer, protocol);
			await stream.close().catch(() => undefined);
			settled = true;
		} catch (error) {
			settled = true;
			stream.abort(error instanceof Error ? error : new Error(String(error)));
			throw error;
		} finally {
			signal?.removeEventListener('abort', onAbort);
			// A reader that stops early (break/return in its loop) lands here only: reset the stream,
			// or it stays open and counts against libp2p's per-protocol stream limit.
			if (!settled) stream.abort(new RequestError('the caller stopped reading', peer, protocol));
		}
	}

	// ------------------------------------------------------------------ discovery

	await node.handle(
		MEMBER_PROTOCOL,
		(stream, connection) => answerDirectory(node, stream, connection.remotePeer),
		{
			maxInboundStreams: 16
		}
	);

	function relayAddressOf(connection: Connection): string {
		const addr = connection.remoteAddr.toString();
		const id = connection.remotePeer.toString();
		return addr.includes(`/p2p/${id}`) ? addr : `${addr}/p2p/${id}`;
	}

	/** Failed discovery dials per peer: the next try waits 1 s · 2^failures (at most a minute). */
	const dialFailures = new Map<string, { count: number; next: number; at: number }>();

	/** Forgets discovery bookkeeping older than DISCOVERY_MEMORY_MS, and the oldest beyond the cap. */
	function pruneDiscoveryMemory(): void {
		const now = Date.now();
		for (const map of [firstSeen, dialFailures] as Map<string, unknown>[]) {
			for (const [id, value] of map) {
				const at = typeof value === 'number' ? value : (value as { at: number }).at;
				if (now - at > DISCOVERY_MEMORY_MS || map.size > DISCOVERY_MEMORY_ENTRIES) map.delete(id);
				else break; // insertion order: the rest are newer
			}
		}
	}

	async function dialEntry(entry: DirectoryEntry, relay: string | undefined): Promise<void> {
		const failures = dialFailures.get(entry.id);
		if (dialing.has(entry.id) || (failures && failures.next > Date.now())) return;
		dialing.add(entry.id);
		let connected = false;
		try {
			const direct = entry.addrs.filter((a) => !a.includes('/p2p-circuit') && !a.includes('/webrtc'));
			const viaRelay = entry.addrs.filter((a) => a.includes('/p2p-circuit/webrtc'));
			if (relay) viaRelay.unshift(`${relay}/p2p-circuit/webrtc/p2p/${entry.id}`);
			const candidates = [...direct, ...new Set(viaRelay)]
				.slice(0, DIAL_CANDIDATES)
				.map((a) => (a.includes(`/p2p/${entry.id}`) ? a : `${a}/p2p/${entry.id}`));
			for (const candidate of candidates) {
				if (stopped || directConnections(entry.id).length > 0) return;
				let target: Multiaddr;
				try {
					target = multiaddr(candidate);
				} catch {
					continue;
				}
				try {
					await node.dial(target, {
						signal: AbortSignal.any([stopController.signal, AbortSignal.timeout(DISCOVERY_DIAL_TIMEOUT_MS)])
					});
					if (directConnections(entry.id).length > 0) {
						connected = true;
						return;
					}
				} catch (error) {
					debugLogs.log('[net] dial failures', `[net] dial ${candidate} failed: ${describe(error)}`);
				}
			}
		} finally {
			dialing.delete(entry.id);
			if (connected || directConnections(entry.id).length > 0) dialFailures.delete(entry.id);
			else {
				const count = (failures?.count ?? 0) + 1;
				const now = Date.now();
				dialFailures.delete(entry.id); // re-inserted last: pruning walks the oldest first
				dialFailures.set(entry.id, { count, next: now + Math.min(60_000, 1000 * 2 ** count), at: now });
			}
		}
	}

	async function discoverFrom(connection: Connection, protocol: string): Promise<void> {
		let stream: Stream;
		try {
			stream = await connection.newStream(protocol, {
				signal: AbortSignal.timeout(10_000),
				runOnLimitedConnection: true
			});
		} catch {
			return;
		}
		let entries: DirectoryEntry[];
		try {
			entries = await readDirectory(stream);
		} catch {
			stream.abort(new Error('bad directory answer'));
			return;
		}
		const relay = protocol === RELAY_DIRECTORY_PROTOCOL ? relayAddressOf(connection) : undefined;
		const now = Date.now();
		for (const entry of entries) {
			if (entry.id === selfId || members.has(entry.id) || scores.isBanned(entry.id)) continue;
			unreached++;
			if (members.size + dialing.size >= limits.maxPeers) break;
			if (directConnections(entry.id).length > 0) {
				firstSeen.delete(entry.id);
				continue;
			}
			const seen = firstSeen.get(entry.id) ?? now;
			if (!firstSeen.has(entry.id)) firstSeen.set(entry.id, seen);
			// Both sides learn of each other at once; the smaller id dials, the other waits its turn.
			if (selfId > entry.id && now - seen < DIAL_TIE_BREAK_MS) continue;
			void dialEntry(entry, relay);
		}
	}

	/** Listed peers not connected in the last round: while there are any, ask again every tick. */
	let unreached = 0;

	async function discover(): Promise<void> {
		unreached = 0;
		const asked = new Set<string>();
		for (const connection of node.getConnections()) {
			const peer = connection.remotePeer.toString();
			if (asked.has(peer) || connection.status !== 'open') continue;
			let protocols: string[];
			try {
				protocols = (await node.peerStore.get(connection.remotePeer)).protocols;
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
			await discoverFrom(connection, protocol);
		}
	}

	let discovering = false;
	const discoverSoon = () => {
		if (discovering || stopped) return;
		discovering = true;
		void discover()
			.catch(() => undefined)
			.finally(() => {
				discovering = false;
			});
	};
	/**
	 * A direct connection whose identify exchange failed (it happens on a WebRTC connection that came up
	 * while the dialer gave up) would never count as a peer: identify it once more, then re-check.
	 */
	const identified = new WeakSet<Connection>();
	node.addEventListener('peer:identify', (event) => identified.add(event.detail.connection));
	const reidentified = new WeakSet<Connection>();
	function checkUnidentified(): void {
		for (const connection of node.getConnections()) {
			if (identified.has(connection) || connection.limits != null || connection.status !== 'open') continue;
			if (reidentified.has(connection) || Date.now() - connection.timeline.open < 5000) continue;
			reidentified.add(connection);
			void node.services.identify
				.identify(connection, { signal: AbortSignal.timeout(5000) })
				.catch(async () => {
					// no answer on a direct connection: it is dead (the peer redials if it wants us)
					await connection.close().catch(() => undefined);
				})
				.finally(() => void refreshMember(connection.remotePeer));
		}
	}

	let ticks = 0;
	const discoveryTimer = setInterval(() => {
		checkUnidentified();
		pruneDiscoveryMemory();
		if (members.size === 0 || unreached > 0 || ++ticks % DISCOVERY_EVERY === 0) discoverSoon();
	}, DISCOVERY_TICK_MS);
	node.addEventListener('peer:identify', (event) => {
		const { protocols } = event.detail;
		if (protocols.includes(RELAY_DIRECTORY_PROTOCOL) || protocols.includes(HOP_PROTOCOL)) discoverSoon();
	});

	// ------------------------------------------------------------------ bootstrap with backoff

	/** Bootstrap addresses by peer id (a clinic node may be listed with several addresses). */
	const bootstrapPeers = new Map<string, Multiaddr[]>();
	const reconnecting = new Set<string>();
	for (const address of options.bootstrap) {
		try {
			const ma = multiaddr(address);
			const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value ?? address;
			bootstrapPeers.set(id, [...(bootstrapPeers.get(id) ?? []), ma]);
		} catch (error) {
			console.warn(`[net] bad bootstrap address ${address}: ${describe(error)}`);
		}
	}

	function keepConnected(key: string): void {
		const target = bootstrapPeers.get(key);
		if (!target || reconnecting.has(key) || stopped) return;
		reconnecting.add(key);
		void pRetry(
			async () => {
				if (stopped) throw new NetStoppedError();
				// (the WebSocket transport can reject with an ErrorEvent, which p-retry would not retry)
				await node
					.dial(target, {
						signal: AbortSignal.any([stopController.signal, AbortSignal.timeout(10_000)])
					})
					.catch((error: unknown) => {
						throw error instanceof Error ? error : new Error(`dial failed: ${String(error)}`);
					});
			},
			{
				retries: Number.POSITIVE_INFINITY,
				minTimeout: 500,
				maxTimeout: BOOTSTRAP_MAX_BACKOFF_MS,
				factor: 2,
				randomize: true,
				signal: stopController.signal,
				shouldRetry: () => !stopped,
				onFailedAttempt: ({ error, attemptNumber }) => {
					if (attemptNumber === 1 || attemptNumber % 10 === 0)
						console.debug(
							`[net] bootstrap ${key.slice(-8)} unreachable (try ${attemptNumber}): ${describe(error)}`
						);
				}
			}
		)
			.catch(() => undefined)
			.finally(() => reconnecting.delete(key));
	}

	node.addEventListener('peer:disconnect', (event) => {
		const key = event.detail.toString();
		if (bootstrapPeers.has(key)) keepConnected(key);
	});
	for (const key of bootstrapPeers.keys()) keepConnected(key);
	// The relay and clinic nodes we bootstrap from are kept first when the connection limit prunes
	// (libp2p prunes the lowest summed tag value first), so a crowd of strangers cannot cut them off.
	for (const key of bootstrapPeers.keys()) {
		try {
			await node.peerStore.merge(peerIdFromString(key), { tags: { 'spchain-protected': { value: 100 } } });
		} catch (error) {
			logs.log('[net] tags', `[net] could not protect ${key.slice(-8)}: ${describe(error)}`);
		}
	}

	// ------------------------------------------------------------------ the PeerNet

	const net: PeerNet = {
		peerId: selfId,

		async publish(topic, data) {
			if (stopped) throw new NetStoppedError();
			if (data.length > maxBytes) throw new MessageTooLargeError(data.length, maxBytes);
			const result = await pubsub.publish(topicName(topic), data);
			stats.published++;
			if (result.recipients.length === 0) {
				stats.droppedNoPeers++;
				if (!warnedNoPeers.has(topic)) {
					warnedNoPeers.add(topic);
					console.info(`[net] no peer on ${topic} yet: message dropped (logged once per topic)`);
				}
			}
		},

		subscribe(topic: Topic, onMessage: TopicValidator) {
			if (subscribed.has(topic)) throw new Error(`already subscribed to ${topic}`);
			subscribed.add(topic);
			pubsub.topicValidators.set(topicName(topic), async (peerId, message) => {
				const from = peerId.toString();
				if (scores.isBanned(from)) return TopicValidatorResult.Ignore;
				if (!gossipBuckets.take(from)) {
					stats.rateLimited++;
					penalise(from, limits.rateLimitPoints, `gossip rate above ${limits.gossipPerSecond}/s`);
					return TopicValidatorResult.Ignore;
				}
				if (message.data.length > maxBytes) {
					stats.rejected++;
					penalise(from, limits.rejectPoints, `${topic}: ${message.data.length}-byte message`);
					return TopicValidatorResult.Reject;
				}
				let verdict: Verdict;
				try {
					verdict = await onMessage(message.data, from);
				} catch (error) {
					logs.log(`[net] ${topic} handler failures`, `[net] ${topic} handler failed: ${describe(error)}`);
					verdict = 'ignore';
				}
				stats.received++;
				if (verdict === 'reject') {
					stats.rejected++;
					penalise(from, limits.rejectPoints, `invalid ${topic} message`);
				}
				return VERDICTS[verdict] ?? TopicValidatorResult.Ignore;
			});
			pubsub.subscribe(topicName(topic));
		},

		handle(protocol, handler) {
			if (handlers.has(protocol)) throw new Error(`${protocol} already has a handler`);
			handlers.set(protocol, handler);
			void node.handle(protocol, serve(protocol, handler), { maxInboundStreams: 64 }).catch((error) => {
				console.warn(`[net] could not handle ${protocol}: ${describe(error)}`);
			});
		},

		request,

		peers: () => [...members],

		penalise(peer, reason) {
			penalise(peer, limits.penaltyPoints, reason);
		},

		addEventListener(type, listener) {
			events.addEventListener(type, listener as EventListener);
		},

		removeEventListener(type, listener) {
			events.removeEventListener(type, listener as EventListener);
		},

		addresses: () => node.getMultiaddrs().map((a) => a.toString()),

		connections: () =>
			node
				.getConnections()
				.filter((c) => c.status === 'open')
				.map((c) => {
					const addr = c.remoteAddr.toString();
					return {
						peer: c.remotePeer.toString(),
						addr,
						direct: c.limits == null,
						transport: transportOf(addr),
						streams: c.streams.filter((s) => s.status === 'open').map((s) => s.protocol ?? '')
					};
				}),

		stats: (): NetStats => ({ ...stats, banned: scores.banned() }),

		async stop() {
			if (stopped) return;
			stopped = true;
			stopController.abort();
			clearInterval(discoveryTimer);
			await node.stop();
		}
	};
	return net;
}
