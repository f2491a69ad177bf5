/**
 * The simulator's stand-in for the chain's stored blocks: per institution and per chunk, how many
 * keyblocks it mined and how many register / medical transactions it received. It hands exactly the
 * counts the real chain code would derive to the real reputation functions (src/lib/core/reputation.ts),
 * so every reputation the simulator reports is computed by protocol code, not by a model of it. It also
 * keeps when each institution was last seen on chain, and hands both to the node's hand-over ranking
 * (core membership.ts rankIncomingGroup), as runtime chain-metrics.ts does from a real chain.
 */
import { rankIncomingGroup, type MembershipParams, type Standing } from '../core/consensus/membership.ts';
import {
	reputations,
	type InstitutionActivity,
	type Reputation,
	type ReputationParams
} from '../core/reputation.ts';

export class ActivityLedger {
	/** Keyblocks in the chain so far (L). */
	length = 0;
	private readonly keyblocks: number[][];
	private readonly registerTxs: number[][];
	private readonly medicalTxs: number[][];
	private readonly honest: boolean[];
	private readonly lastSeen: number[];

	constructor(
		readonly institutions: readonly string[],
		readonly params: ReputationParams
	) {
		this.keyblocks = institutions.map(() => []);
		this.registerTxs = institutions.map(() => []);
		this.medicalTxs = institutions.map(() => []);
		this.honest = institutions.map(() => true);
		this.lastSeen = institutions.map(() => 0);
	}

	/** Index of the chunk the next keyblock falls in. */
	get currentChunk(): number {
		return Math.floor(this.length / this.params.chunkSize);
	}

	/** Appends one keyblock mined by institution `miner`. */
	addKeyblock(miner: number): void {
		const chunk = this.currentChunk;
		this.length++;
		bump(this.keyblocks[miner]!, chunk, 1);
		this.lastSeen[miner] = this.length;
	}

	/** Institution `index` proposed a pinned batch of round `height` (seen on chain there). */
	markSeen(index: number, height = this.length): void {
		this.lastSeen[index] = Math.max(this.lastSeen[index]!, height);
	}

	/**
	 * Records transactions received by institution `receiver` after the latest keyblock: they land in that
	 * keyblock's round, hence in its chunk (chunk 0 before the first keyblock).
	 */
	addTransactions(receiver: number, register: number, medical: number): void {
		const chunk = this.length === 0 ? 0 : Math.floor((this.length - 1) / this.params.chunkSize);
		bump(this.registerTxs[receiver]!, chunk, register);
		bump(this.medicalTxs[receiver]!, chunk, medical);
	}

	/** H = 0 for `institution` from now on (its misbehaviour was proven). */
	markDishonest(institution: number): void {
		this.honest[institution] = false;
	}

	/** What the chain code would hand to the reputation functions at the current length. */
	activities(): InstitutionActivity[] {
		const chunks = Math.ceil(this.length / this.params.chunkSize);
		return this.institutions.map((institution, i) => ({
			institution,
			keyblocks: padded(this.keyblocks[i]!, chunks),
			registerTxs: padded(this.registerTxs[i]!, chunks),
			medicalTxs: padded(this.medicalTxs[i]!, chunks),
			honest: this.honest[i]!
		}));
	}

	/** R1, R2 and R of every institution now, by the protocol's own functions. */
	reputations(): Reputation[] {
		return reputations(this.length, this.activities(), this.params);
	}

	/** Each institution's standing for a hand-over at the current length (R, H, last seen). */
	standings(): Standing[] {
		return this.reputations().map((r, i) => ({
			institution: r.institution,
			r: r.r,
			honest: this.honest[i]!,
			lastSeen: this.lastSeen[i]!
		}));
	}

	/** The group the node would hand over to for `epoch`, the chain being at that epoch's end. */
	incomingGroup(epoch: number, params: MembershipParams): string[] {
		return this.incomingGroupOf(this.standings(), epoch, params);
	}

	/** Same, from standings already computed (they cost a reputation pass). */
	incomingGroupOf(standings: readonly Standing[], epoch: number, params: MembershipParams): string[] {
		return rankIncomingGroup(standings, epoch, params);
	}
}

function bump(counts: number[], chunk: number, by: number): void {
	while (counts.length <= chunk) counts.push(0);
	counts[chunk]! += by;
}

function padded(counts: readonly number[], chunks: number): number[] {
	const out = counts.slice(0, chunks);
	while (out.length < chunks) out.push(0);
	return out;
}

/** Institution id for simulated institution `index`: two bytes of hex, so the tie-break order is the index order. */
export function simulatedInstitutionId(index: number): string {
	return index.toString(16).padStart(4, '0');
}
