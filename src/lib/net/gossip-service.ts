/**
 * SPChain gossip, a libp2p service over gossipsub: a few fixed topics, each with one validator whose
 * verdict decides whether a message is forwarded (accept), dropped without blame (ignore) or dropped
 * and counted against the peer it came from (reject, gossipsub's invalid-delivery score).
 *
 * A message above the size limit is refused by gossipsub's inbound transform (OversizeGate), which runs
 * before gossipsub hashes the message for its id: gossipsub counts it invalid against its sender, and no
 * megabytes of junk are hashed (an oversized flood spent a quarter of a member's CPU in that hash). A
 * frame above twice the message limit is refused earlier still: gossipsub's decoder drops the stream and
 * this service charges its sender. Before the validator runs, the sender's budget (messages and bytes
 * per second, smaller for strangers: peer-guard.ts) is checked.
 * A peer whose gossipsub score fell to minus the ban threshold is banned right after the reject that
 * brought it there (and on every heartbeat, for the other parts of the score). Each peer may have only
 * `gossipInFlight` messages being validated at once, so a burst inside its rate budget queues a bounded
 * number of signature checks before its fifth reject bans it.
 *
 * Gossip timing: message id = SHA-256 of the data, so the same payload from two nodes is one message.
 * The consensus layer re-sends its messages every 2 s on purpose, so the seen-cache must forget an id
 * before the next re-send (else the re-send is dropped for gossipsub's default 2 minutes), yet remember
 * it for longer than any neighbour can still offer it by IHAVE/IWANT (else an echo would be accepted
 * again and re-forwarded, round after round). With a 500 ms heartbeat, a message stays in the message
 * cache for at most 2 heartbeats (mcacheLength 2, gossiped for 1), i.e. ≤ 1 s after a peer received it;
 * the seen-cache keeps ids 1.4 s (pruned on the heartbeat, so 1.4–1.9 s), which is < 2 s and > 1 s
 * plus loopback/LAN propagation.
 */
import { StrictNoSign, TopicValidatorResult, type GossipSub, type GossipsubOpts } from '@libp2p/gossipsub';
import type { PeerId, Startable } from '@libp2p/interface';
import { sha256 } from '@noble/hashes/sha2.js';
import { gossipScoring } from './gossip-scoring.ts';
import { LogLimiter } from './limits.ts';
import type { PeerGuard } from './peer-guard.ts';
import {
	MessageTooLargeError,
	NetStoppedError,
	TOPICS,
	type NetLimits,
	type NetStats,
	type Topic,
	type TopicValidator,
	type Verdict
} from './peer-net.ts';

/** Gossip timing (see the module comment). */
export const GOSSIP_TIMING = {
	heartbeatInterval: 500,
	mcacheLength: 2,
	mcacheGossip: 1,
	seenTTL: 1400
} as const;

const TOPIC_PREFIX = '/spchain/1/';
export const topicName = (topic: Topic) => `${TOPIC_PREFIX}${topic}`;

const VERDICTS: Record<Verdict, TopicValidatorResult> = {
	accept: TopicValidatorResult.Accept,
	reject: TopicValidatorResult.Reject,
	ignore: TopicValidatorResult.Ignore
};

/**
 * Gossipsub's inbound transform, the first look at a message's data (before its id is hashed): data
 * above the limit throws, which gossipsub counts as an invalid message of the sender (its P4 score, as
 * a validator's reject). Outbound data is published as it is (publish checks the limit).
 */
export class OversizeGate implements NonNullable<GossipsubOpts['dataTransform']> {
	/** Messages refused here (NetStats counts them as rejected). */
	refused = 0;

	/** @param maxBytes the largest message data accepted (PeerNet's maxMessageBytes) */
	constructor(readonly maxBytes: number) {}

	inboundTransform(_topic: string, data: Uint8Array): Uint8Array {
		if (data.length <= this.maxBytes) return data;
		this.refused++;
		throw new MessageTooLargeError(data.length, this.maxBytes);
	}

	outboundTransform(_topic: string, data: Uint8Array): Uint8Array {
		return data;
	}
}

/** Gossipsub's options for SPChain: unsigned messages (payloads carry their own signatures), scoring. */
export function gossipsubOptions(
	limits: NetLimits,
	gate: OversizeGate,
	appPenalty: (peer: string) => number
): Partial<GossipsubOpts> {
	return {
		globalSignaturePolicy: StrictNoSign,
		dataTransform: gate,
		msgIdFn: (message) => sha256(message.data),
		...GOSSIP_TIMING,
		allowPublishToZeroTopicPeers: true,
		ignoreDuplicatePublishError: true,
		emitSelf: false,
		floodPublish: true,
		fallbackToFloodsub: false,
		// Up to twice the limit still reaches the gate, which refuses it; above, see OVERSIZE below.
		maxInboundDataLength: 2 * gate.maxBytes + 64 * 1024,
		allowedTopics: TOPICS.map(topicName),
		...gossipScoring(limits, TOPICS.map(topicName), appPenalty)
	};
}

/** The gossipsub service as this one uses it. */
export type GossipsubLike = Pick<
	GossipSub,
	'topicValidators' | 'subscribe' | 'publish' | 'addEventListener' | 'removeEventListener' | 'getPeers'
>;

/** A peer's gossipsub score: `getScore` is public on gossipsub's class, not on its interface. */
function scoreOf(pubsub: GossipsubLike, peer: string): number {
	return (pubsub as Partial<{ getScore(peer: string): number }>).getScore?.(peer) ?? 0;
}

export interface GossipComponents {
	pubsub: GossipsubLike;
	guard: PeerGuard;
}

export interface GossipInit {
	limits: NetLimits;
	/** The gate given to gossipsub's options: its limit is the service's, its refusals count as rejected. */
	gate: OversizeGate;
}

/** The gossip counters of NetStats (the bans are the guard's). */
export type GossipStats = Omit<NetStats, 'banned'>;

/** The error it-length-prefixed throws for a frame above gossipsub's maxInboundDataLength. */
const OVERSIZE = 'InvalidDataLengthError';

export class GossipService implements Startable {
	private readonly counts: GossipStats = {
		published: 0,
		droppedNoPeers: 0,
		received: 0,
		rejected: 0,
		rateLimited: 0,
		oversizeFrames: 0
	};
	private readonly subscribed = new Set<Topic>();
	private readonly warnedNoPeers = new Set<Topic>();
	private readonly logs = new LogLimiter(5, 60_000, (line) => console.warn(line));
	private stopped = false;

	constructor(
		private readonly components: GossipComponents,
		private readonly init: GossipInit
	) {}

	readonly [Symbol.toStringTag] = 'spchain/gossip';

	get stats(): GossipStats {
		return { ...this.counts, rejected: this.counts.rejected + this.init.gate.refused };
	}

	start(): void {
		this.components.pubsub.addEventListener('gossipsub:heartbeat', this.onHeartbeat);
		this.chargeOversizeFrames();
	}

	stop(): void {
		this.stopped = true;
		this.components.pubsub.removeEventListener('gossipsub:heartbeat', this.onHeartbeat);
	}

	async publish(topic: Topic, data: Uint8Array): Promise<void> {
		if (this.stopped) throw new NetStoppedError();
		const { maxBytes } = this.init.gate;
		if (data.length > maxBytes) throw new MessageTooLargeError(data.length, maxBytes);
		const result = await this.components.pubsub.publish(topicName(topic), data);
		this.counts.published++;
		if (result.recipients.length === 0) {
			this.counts.droppedNoPeers++;
			if (!this.warnedNoPeers.has(topic)) {
				this.warnedNoPeers.add(topic);
				console.info(`[net] no peer on ${topic} yet: message dropped (logged once per topic)`);
			}
		}
	}

	subscribe(topic: Topic, onMessage: TopicValidator): void {
		if (this.subscribed.has(topic)) throw new Error(`already subscribed to ${topic}`);
		this.subscribed.add(topic);
		const { guard, pubsub } = this.components;
		pubsub.topicValidators.set(topicName(topic), async (peerId, message) => {
			const from = peerId.toString();
			if (guard.isBanned(from)) return TopicValidatorResult.Ignore;
			if (!guard.takeGossip(from, message.data.length)) {
				this.counts.rateLimited++;
				return TopicValidatorResult.Ignore;
			}
			const done = guard.beginValidation(from);
			if (!done) {
				this.counts.rateLimited++;
				return TopicValidatorResult.Ignore;
			}
			let verdict: Verdict;
			try {
				// A peer banned while its message waited here costs no more checks.
				verdict = guard.isBanned(from) ? 'ignore' : await onMessage(message.data, from);
			} catch (error) {
				const reason = error instanceof Error ? error.message : String(error);
				this.logs.log(`[net] ${topic} handler failures`, `[net] ${topic} handler failed: ${reason}`);
				verdict = 'ignore';
			} finally {
				done();
			}
			this.counts.received++;
			if (verdict === 'reject') {
				this.counts.rejected++;
				// Gossipsub counts the reject once this returns: ban at once when that reaches the threshold,
				// not at the next heartbeat, so a burst's queued forgeries are not all checked first.
				setTimeout(() => this.banIfScoreFell(from), 0);
			}
			return VERDICTS[verdict] ?? TopicValidatorResult.Ignore;
		});
		pubsub.subscribe(topicName(topic));
	}

	/** Bans every peer whose gossipsub score (rejects, behaviour, our points) reached the threshold. */
	private readonly onHeartbeat = (): void => {
		for (const peerId of this.components.pubsub.getPeers()) this.banIfScoreFell(peerId.toString());
	};

	private banIfScoreFell(peer: string): void {
		if (this.stopped) return;
		const { guard, pubsub } = this.components;
		const score = scoreOf(pubsub, peer);
		if (score <= -this.init.limits.banThreshold && !guard.isBanned(peer)) guard.banForScore(peer, score);
	}

	/**
	 * Gossipsub reports a read error (an oversize frame among them) only to its own
	 * `handlePeerReadStreamError`, which it keeps as a hook "to spy on the error handling"; wrap it so
	 * the sender of such a frame is charged before gossipsub drops the stream.
	 */
	private chargeOversizeFrames(): void {
		const hooked = this.components.pubsub as unknown as {
			handlePeerReadStreamError?: (error: unknown, peerId: PeerId) => void;
		};
		const original = hooked.handlePeerReadStreamError?.bind(hooked);
		if (!original) return;
		hooked.handlePeerReadStreamError = (error, peerId) => {
			if (error instanceof Error && error.name === OVERSIZE) {
				this.counts.oversizeFrames++;
				this.components.guard.penalise(
					peerId.toString(),
					this.init.limits.oversizePoints,
					`gossip frame above ${2 * this.init.gate.maxBytes} bytes`
				);
			}
			original(error, peerId);
		};
	}
}

/** The js-libp2p service factory: `services: { gossip: spchainGossip(init) }` (after pubsub and guard). */
export function spchainGossip(init: GossipInit): (components: GossipComponents) => GossipService {
	return (components) => new GossipService(components, init);
}
