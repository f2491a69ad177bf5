/**
 * Gossipsub's own peer scoring, set for SPChain's topics (issue 18: no parallel scoreboard where
 * gossipsub can keep the count).
 *
 * - P4, invalid message deliveries: every `reject` verdict counts against the peer it came from on that
 *   topic; the penalty is the count squared times the weight, so `rejectsToBan` rejects reach the ban
 *   threshold (one stray reject costs 1/25 of it, a flood costs quadratically more). It decays with the
 *   same half-life as our own points.
 * - P7, behaviour penalty: GRAFTs during a back-off and IWANT promises broken; above a small threshold
 *   each excess counts squared, like P4.
 * - P5, application score: minus our own points (rate limits, oversize frames, `penalise()` from the
 *   runtime: what gossipsub cannot see).
 * - P6, IP co-location: configurable; off by default, since every demo peer shares 127.0.0.1 or one LAN
 *   and the penalty would fall on the consortium's own nodes first.
 * - P1–P3 (time in mesh, first and mesh deliveries) stay off: our topics are quiet (a keyblock every
 *   few seconds, consensus resends every 2 s), so a delivery-rate expectation would punish honest peers
 *   in a quiet minute.
 */
import type { PeerScoreParams, PeerScoreThresholds, TopicScoreParams } from '@libp2p/gossipsub/score';
import type { NetLimits } from './peer-net.ts';

/** Score decay runs every second (gossipsub's minimum). */
const DECAY_INTERVAL_MS = 1000;

/** The per-interval factor that halves a counter every `halfLifeMs`. */
export function decayPerInterval(halfLifeMs: number): number {
	return Math.pow(0.5, DECAY_INTERVAL_MS / halfLifeMs);
}

export function topicScoreParams(limits: NetLimits): TopicScoreParams {
	const decay = decayPerInterval(limits.scoreHalfLifeMs);
	return {
		topicWeight: 1,
		timeInMeshWeight: 0,
		timeInMeshQuantum: 1000,
		timeInMeshCap: 1,
		firstMessageDeliveriesWeight: 0,
		firstMessageDeliveriesDecay: 0.5,
		firstMessageDeliveriesCap: 1,
		meshMessageDeliveriesWeight: 0,
		meshMessageDeliveriesDecay: 0.5,
		meshMessageDeliveriesCap: 1,
		meshMessageDeliveriesThreshold: 1,
		meshMessageDeliveriesWindow: 10,
		meshMessageDeliveriesActivation: 5000,
		meshFailurePenaltyWeight: 0,
		meshFailurePenaltyDecay: 0.5,
		// (rejectsToBan − ½)²: the last reject crosses the threshold even after a few seconds of decay
		invalidMessageDeliveriesWeight: -limits.banThreshold / (limits.rejectsToBan - 0.5) ** 2,
		invalidMessageDeliveriesDecay: decay
	};
}

/**
 * The whole score configuration. `appPenalty(peer)` is our own points for the peer (positive);
 * the ban itself is decided on the resulting score (see peer-guard.ts).
 */
export function gossipScoring(
	limits: NetLimits,
	topics: readonly string[],
	appPenalty: (peer: string) => number
): { scoreParams: Partial<PeerScoreParams>; scoreThresholds: Partial<PeerScoreThresholds> } {
	const topic = topicScoreParams(limits);
	return {
		scoreParams: {
			topics: Object.fromEntries(topics.map((name) => [name, topic])),
			topicScoreCap: 0,
			appSpecificScore: (peer: string) => -appPenalty(peer),
			appSpecificWeight: 1,
			IPColocationFactorWeight: limits.ipColocationWeight,
			IPColocationFactorThreshold: limits.ipColocationThreshold,
			behaviourPenaltyWeight: -limits.banThreshold / 100,
			behaviourPenaltyThreshold: 6,
			behaviourPenaltyDecay: decayPerInterval(60_000),
			decayInterval: DECAY_INTERVAL_MS,
			decayToZero: 0.01,
			// a banned identity's count outlives its connection, so coming back does not wipe it
			retainScore: limits.banMs * 2
		},
		// Stop gossiping to a peer at 40 % of the ban score, stop publishing to it at 60 %, drop its RPCs
		// at the ban itself (so a flood is still counted up to the ban).
		scoreThresholds: {
			gossipThreshold: -0.4 * limits.banThreshold,
			publishThreshold: -0.6 * limits.banThreshold,
			graylistThreshold: -limits.banThreshold,
			acceptPXThreshold: 10,
			opportunisticGraftThreshold: 20
		}
	};
}
