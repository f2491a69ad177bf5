/**
 * The simulator's stand-in for the chain's stored blocks: per institution and per chunk, how many
 * keyblocks it mined and how many register / medical transactions it received. It hands exactly the
 * counts the real chain code would derive to the real reputation functions (src/lib/core/reputation.ts),
 * so every reputation the simulator reports is computed by protocol code, not by a model of it.
 */
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

	constructor(
		readonly institutions: readonly string[],
		readonly params: ReputationParams
	) {
		this.keyblocks = institutions.map(() => []);
		this.registerTxs = institutions.map(() => []);
		this.medicalTxs = institutions.map(() => []);
		this.honest = institutions.map(() => true);
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
