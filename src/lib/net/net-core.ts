/**
 * The libp2p node shared by the browser and Node PeerNets (the platform files only choose listen
 * addresses), assembled from SPChain's libp2p services:
 *
 * - `guard` (peer-guard.ts): protected peers, per-peer budgets, bans; the connection gater asks it;
 * - `pubsub` + `gossip` (gossip-service.ts): gossipsub with our topics, validators and scoring;
 * - `requests` (request-service.ts): request/response streams, bounded per peer and in time;
 * - `discovery` (discovery-service.ts): the member list and directory-based discovery with back-off;
 * - `keepAlive` (keep-alive-service.ts): bootstrap peers tagged KEEP_ALIVE, redialled by libp2p.
 *
 * This file turns them into the PeerNet the runtime uses.
 */
import { createLibp2p, type Libp2pOptions } from 'libp2p';
import { noise } from '@libp2p/noise';
import { webSockets } from '@libp2p/websockets';
import { webRTC } from '@libp2p/webrtc';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { yamux } from '@libp2p/yamux';
import { identify, identifyPush, type Identify } from '@libp2p/identify';
import { ping } from '@libp2p/ping';
import { gossipsub, type GossipSub } from '@libp2p/gossipsub';
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys';
import type { Libp2p, PeerId } from '@libp2p/interface';
import { DiscoveryService, spchainDiscovery } from './discovery-service.ts';
import { GossipService, gossipsubOptions, OversizeGate, spchainGossip } from './gossip-service.ts';
import { bootstrapPeers, keepAlive, type KeepAliveService } from './keep-alive-service.ts';
import { Scoreboard } from './limits.ts';
import { peerGuard, type PeerGuard } from './peer-guard.ts';
import {
	DEFAULT_LIMITS,
	DEFAULT_MAX_MESSAGE_BYTES,
	type ConnectionInfo,
	type NetLimits,
	type NetStats,
	type PeerNet,
	type PeerNetOptions
} from './peer-net.ts';
import { RequestService, spchainRequests } from './request-service.ts';

export { GOSSIP_TIMING } from './gossip-service.ts';

export interface PlatformConfig {
	/** Listen addresses used when PeerNetOptions.listen is absent. */
	listen: string[];
	/** Default: WebSockets, WebRTC and the circuit relay (tests pass libp2p's memory transport). */
	transports?: NonNullable<Libp2pOptions['transports']>;
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

export type SpchainServices = {
	identify: Identify;
	identifyPush: unknown;
	ping: unknown;
	guard: PeerGuard;
	pubsub: GossipSub;
	gossip: GossipService;
	requests: RequestService;
	discovery: DiscoveryService;
	keepAlive: KeepAliveService;
};

/** SPChain's services for `createLibp2p({ services })`, and the connection gater that reads the bans. */
export function spchainServices(options: PeerNetOptions) {
	const maxBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
	const limits: NetLimits = { ...DEFAULT_LIMITS, ...options.limits };
	const scores = new Scoreboard(limits.banThreshold, limits.scoreHalfLifeMs, limits.banMs);
	const isBanned = (peerId: PeerId) => scores.isBanned(peerId.toString());
	let discovery: DiscoveryService | undefined;
	const gate = new OversizeGate(maxBytes);
	const services = {
		identify: identify(),
		identifyPush: identifyPush(),
		ping: ping(),
		guard: peerGuard({
			limits,
			scores,
			bootstrapIds: [...bootstrapPeers(options.bootstrap).keys()],
			isProtected: options.isProtected,
			onBan: (peer) => discovery?.forget(peer)
		}),
		pubsub: gossipsub(gossipsubOptions(limits, gate, (peer) => scores.points(peer))),
		gossip: spchainGossip({ limits, gate }),
		requests: spchainRequests({ maxBytes, limits }),
		discovery: (components: Parameters<ReturnType<typeof spchainDiscovery>>[0]) =>
			(discovery = spchainDiscovery({ maxPeers: limits.maxPeers })(components)),
		keepAlive: keepAlive({ bootstrap: options.bootstrap })
	};
	const connectionGater = {
		// loopback and private addresses are where the relay and clinic nodes live in the demo
		denyDialMultiaddr: () => false,
		denyDialPeer: isBanned,
		denyInboundEncryptedConnection: isBanned,
		denyOutboundEncryptedConnection: isBanned
	};
	return { services, connectionGater, limits, scores };
}

function transportOf(addr: string): ConnectionInfo['transport'] {
	if (addr.includes('/webrtc')) return 'webrtc';
	if (addr.includes('/p2p-circuit')) return 'circuit';
	if (addr.includes('/ws') || addr.includes('/wss')) return 'websockets';
	return 'other';
}

export interface SpchainNode {
	node: Libp2p<SpchainServices>;
	net: PeerNet;
}

export async function startPeerNet(platform: PlatformConfig, options: PeerNetOptions): Promise<PeerNet> {
	return (await startSpchainNode(platform, options)).net;
}

/** The libp2p node with SPChain's services, and its PeerNet (tests reach the services through `node`). */
export async function startSpchainNode(
	platform: PlatformConfig,
	options: PeerNetOptions
): Promise<SpchainNode> {
	const { services, connectionGater, limits, scores } = spchainServices(options);
	const node = (await createLibp2p({
		privateKey: options.privateKey ? privateKeyFromProtobuf(options.privateKey) : undefined,
		addresses: { listen: options.listen ?? platform.listen },
		transports: platform.transports ?? transports(),
		connectionEncrypters: [noise()],
		streamMuxers: [yamux()],
		connectionGater,
		// pages and clinic nodes of one demo network share an IP (loopback or one LAN): allow bursts from one host
		connectionManager: {
			maxConnections: limits.maxConnections,
			dialTimeout: 20_000,
			addressDialTimeout: 15_000,
			inboundConnectionThreshold: 100,
			// KEEP_ALIVE peers (bootstrap): libp2p redials them; past these tries keep-alive-service.ts does
			reconnectRetries: 5,
			reconnectRetryInterval: 500,
			reconnectBackoffFactor: 2
		},
		services
	})) as unknown as Libp2p<SpchainServices>;
	return { node, net: peerNetOf(node, scores, limits) };
}

/** The PeerNet façade over a started libp2p node carrying SPChain's services. */
export function peerNetOf(node: Libp2p<SpchainServices>, scores: Scoreboard, limits: NetLimits): PeerNet {
	const { gossip, requests, discovery, guard } = node.services;
	let stopped = false;
	return {
		peerId: node.peerId.toString(),
		publish: (topic, data) => gossip.publish(topic, data),
		subscribe: (topic, onMessage) => gossip.subscribe(topic, onMessage),
		handle(protocol, handler) {
			requests.handle(protocol, handler).catch((error) => {
				console.warn(`[net] could not handle ${protocol}: ${error instanceof Error ? error.message : error}`);
			});
		},
		request: (peer, protocol, body, options) => requests.request(peer, protocol, body, options),
		peers: () => discovery.peers(),
		penalise: (peer, reason) => guard.penalise(peer, limits.penaltyPoints, reason),
		addEventListener: (type, listener) => discovery.members.addEventListener(type, listener as EventListener),
		removeEventListener: (type, listener) =>
			discovery.members.removeEventListener(type, listener as EventListener),
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
		stats: (): NetStats => ({
			...gossip.stats,
			rateLimited: gossip.stats.rateLimited + requests.rateLimited,
			banned: scores.banned()
		}),
		async stop() {
			if (stopped) return;
			stopped = true;
			await node.stop();
		}
	};
}
