/**
 * The network seen by the node runtime: gossip on a few fixed topics (validated by the subscriber
 * before anything is forwarded), request/response streams, peer scoring. Two implementations share
 * one libp2p core (`net-core.ts`): `peer-net.browser.ts` (WebRTC through the relay, WebSockets to the
 * relay and to Node nodes) and `peer-net.node.ts` (WebSockets listener, circuit relay client, WebRTC
 * through node-datachannel).
 */

export const TOPICS = ['transactions', 'keyblocks', 'consensus', 'batches', 'patient-blocks'] as const;
export type Topic = (typeof TOPICS)[number];

/** reject → gossipsub Reject and a peer score penalty; ignore → dropped without blame. */
export type Verdict = 'accept' | 'reject' | 'ignore';
export type TopicValidator = (data: Uint8Array, from: string) => Promise<Verdict>;
export type StreamHandler = (request: Uint8Array, from: string) => AsyncIterable<Uint8Array>;

export type PeerEventType = 'peer:connect' | 'peer:disconnect';

export interface ConnectionInfo {
	peer: string;
	/** The remote multiaddr of this connection (…/webrtc/… when direct WebRTC, …/p2p-circuit/… when relayed). */
	addr: string;
	/** False for relayed (limited) connections. */
	direct: boolean;
	transport: 'webrtc' | 'websockets' | 'circuit' | 'other';
	/** The protocol of each stream open on it now (a count that only grows is a stream leak). */
	streams: string[];
}

export interface RequestOptions {
	signal?: AbortSignal;
	/**
	 * The request may reach the other side twice without harm (a read, or a write keyed so a second
	 * copy changes nothing): it is sent once more over a new connection when the first one closes
	 * after the request went out and before any answer.
	 */
	idempotent?: boolean;
}

export interface PeerNet {
	readonly peerId: string;
	/** Never throws for "no peers" (the message is dropped and counted); throws MessageTooLargeError. */
	publish(topic: Topic, data: Uint8Array): Promise<void>;
	/** Once per topic: the handler's verdict decides whether the message is forwarded and scored. */
	subscribe(topic: Topic, onMessage: TopicValidator): void;
	/** Request/response: one request frame in, a stream of response frames out (length-prefixed, size-limited). */
	handle(protocol: string, handler: StreamHandler): void;
	/** A connection found closing is replaced by a new dial (see RequestOptions for `idempotent`). */
	request(
		peer: string,
		protocol: string,
		request: Uint8Array,
		options?: RequestOptions
	): AsyncIterable<Uint8Array>;
	/** Connected SPChain peers (the relay and other non-SPChain peers are left out). */
	peers(): string[];
	/** Lowers the peer's score; past the ban threshold it is disconnected and refused for a while. */
	penalise(peer: string, reason: string): void;
	addEventListener(type: PeerEventType, listener: (event: CustomEvent<string>) => void): void;
	removeEventListener(type: PeerEventType, listener: (event: CustomEvent<string>) => void): void;
	/** This node's own multiaddrs (listen and relay addresses), with /p2p/<peer id>. */
	addresses(): string[];
	/** Every open connection, for diagnostics (is a peer reached directly over WebRTC?). */
	connections(): ConnectionInfo[];
	/** Counters for diagnostics. */
	stats(): NetStats;
	stop(): Promise<void>;
}

export interface NetStats {
	published: number;
	/** Published with no subscribed peer: dropped (logged once per topic). */
	droppedNoPeers: number;
	received: number;
	rejected: number;
	rateLimited: number;
	/** Inbound gossip frames above twice the message limit (their senders were charged). */
	oversizeFrames: number;
	banned: string[];
}

export interface NetLimits {
	/**
	 * Gossip messages and bytes a stranger (a peer that is not protected) may send per second (token
	 * bucket refill) and in one burst; a protected peer gets `protectedFactor` times as much.
	 */
	gossipPerSecond: number;
	gossipBurst: number;
	/**
	 * Gossip messages of one stranger being validated at once (protected: `protectedFactor` times): what
	 * arrives beyond is dropped unchecked, so a burst within the rate budget cannot queue more
	 * signature checks than this before its rejects ban the sender.
	 */
	gossipInFlight: number;
	gossipBytesPerSecond: number;
	gossipBytesBurst: number;
	/** Requests a stranger may open per second and in one burst (protected: `protectedFactor` times). */
	requestsPerSecond: number;
	requestBurst: number;
	/** Request streams one stranger may hold open at once (protected: `protectedFactor` times). */
	streamsPerPeer: number;
	protectedFactor: number;
	/** A request frame must arrive this soon after its stream opened. */
	requestReadTimeoutMs: number;
	/** An inbound request stream is reset when its exchange has not finished after this long. */
	streamDeadlineMs: number;
	/** Connections strangers may hold together; the rest of `maxConnections` stays for protected peers. */
	maxConnections: number;
	maxStrangerConnections: number;
	/** Score at which a peer is banned (gossipsub score ≤ −banThreshold, or our points ≥ it). */
	banThreshold: number;
	/** Scores decay by half every `scoreHalfLifeMs`. */
	scoreHalfLifeMs: number;
	banMs: number;
	/** Rejected gossip messages that bring a peer to the ban (gossipsub counts them, squared). */
	rejectsToBan: number;
	/** penalise() adds `penaltyPoints`; a frame above twice the message limit `oversizePoints`; each message or request over the rate limit `rateLimitPoints` (a sustained flood ends in a ban, a burst does not). */
	penaltyPoints: number;
	oversizePoints: number;
	rateLimitPoints: number;
	/** Most peers discovery dials on its own. */
	maxPeers: number;
	/**
	 * Gossipsub's IP co-location penalty: peers beyond `ipColocationThreshold` on one IP lose score.
	 * Off (weight 0) by default: in the demo every page and clinic node shares 127.0.0.1 or one LAN.
	 */
	ipColocationWeight: number;
	ipColocationThreshold: number;
}

export interface PeerNetOptions {
	/** Relay (and Node node) multiaddrs with /p2p/<peer id>: dialled at start and redialled with backoff. */
	bootstrap: string[];
	listen?: string[];
	/** Protobuf-encoded libp2p private key, to keep a stable peer id. */
	privateKey?: Uint8Array;
	/** Largest gossip message and stream frame (bytes); default 1 MiB. */
	maxMessageBytes?: number;
	limits?: Partial<NetLimits>;
	/**
	 * The consortium's own peers (group members, admitted institutions): kept first when connections
	 * are pruned and given the larger budgets. Bootstrap peers are always protected. Asked again on
	 * every new connection and every few seconds, so a registry can change its answer.
	 */
	isProtected?: (peer: string) => boolean;
}

export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024;

export const DEFAULT_LIMITS: NetLimits = {
	gossipPerSecond: 100,
	gossipBurst: 500,
	gossipInFlight: 16,
	gossipBytesPerSecond: 1024 * 1024,
	gossipBytesBurst: 4 * 1024 * 1024,
	requestsPerSecond: 10,
	requestBurst: 50,
	streamsPerPeer: 32,
	protectedFactor: 4,
	requestReadTimeoutMs: 15_000,
	streamDeadlineMs: 60_000,
	maxConnections: 200,
	maxStrangerConnections: 150,
	banThreshold: 100,
	scoreHalfLifeMs: 5 * 60_000,
	banMs: 10 * 60_000,
	rejectsToBan: 5,
	penaltyPoints: 20,
	oversizePoints: 60,
	rateLimitPoints: 0.1,
	maxPeers: 24,
	ipColocationWeight: 0,
	ipColocationThreshold: 10
};

/** Published or framed data larger than maxMessageBytes. */
export class MessageTooLargeError extends Error {
	override name = 'MessageTooLargeError';
	constructor(
		readonly size: number,
		readonly limit: number
	) {
		super(`message of ${size} bytes exceeds the ${limit}-byte limit`);
	}
}

/** The remote handler failed, refused (rate limit) or the stream broke before its end marker. */
export class RequestError extends Error {
	override name = 'RequestError';
	constructor(
		message: string,
		readonly peer: string,
		readonly protocol: string,
		options?: ErrorOptions
	) {
		super(message, options);
	}
}

export class NetStoppedError extends Error {
	override name = 'NetStoppedError';
	constructor() {
		super('the network is stopped');
	}
}
