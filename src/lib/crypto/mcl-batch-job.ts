/**
 * One chunk of a batch's proof pairs, the job a pool worker (mcl.worker.ts) runs and the verifier runs
 * itself when it has no pool: the Miller-loop value of Πᵢ e(ρᵢ·Aᵢ, Bᵢ), before the final exponentiation
 * (which the verifier applies once to the product of all chunks and the fixed pairs, groth16-mcl.ts).
 *
 * Items travel as the words of mcl's own values (Uint32Arrays, structured-cloneable): the caller made
 * these values for its checks, and the workers run the same mcl-wasm build, so rebuilding them from
 * BigInt coordinates (~0.15 ms a proof) would be work done twice. Items have passed every check first,
 * B's subgroup check included: the job only computes. The result travels as mcl's 384-byte GT
 * serialisation.
 */
import { words, type Fr, type G1, type G2, type GT, type Mcl } from './mcl.ts';
import { MclMultiPairing } from './mcl-multi-pairing.ts';

export interface PairItem {
	/** A (G1) and B (G2) as mcl's words. */
	a: Uint32Array;
	b: Uint32Array;
	/** The proof's secret ρ < 2¹²⁸, as mcl's Fr words. */
	rho: Uint32Array;
}

export function pairItem(a: G1, b: G2, rho: Fr): PairItem {
	return { a: words(a).slice(), b: words(b).slice(), rho: words(rho).slice() };
}

function fromWords<T extends G1 | G2 | Fr>(value: T, source: Uint32Array): T {
	words(value).set(source);
	return value;
}

export interface JobRequest {
	id: number;
	items: PairItem[];
}

export type JobResponse = { id: number; miller: Uint8Array } | { id: number; error: string };

export function millerValueOf(mcl: Mcl, items: readonly PairItem[]): GT {
	const pairing = new MclMultiPairing(mcl);
	for (const { a, b, rho } of items)
		pairing.add(
			mcl.mul(fromWords(new mcl.G1(), a), fromWords(new mcl.Fr(), rho)),
			fromWords(new mcl.G2(), b)
		);
	return pairing.millerValue();
}
