/**
 * One chunk of a batch's proof pairs, the job a pool worker (mcl.worker.ts) runs and the verifier runs
 * itself when it has no pool: the Miller-loop value of Πᵢ e(ρᵢ·Aᵢ, Bᵢ), before the final exponentiation
 * (which the verifier applies once to the product of all chunks and the fixed pairs, groth16-mcl.ts).
 *
 * Items travel as the affine BigInt coordinates of core decodeProof (structured-cloneable, independent of
 * mcl's internal layout) and have passed every check first, B's subgroup check included: the job only
 * computes. The result travels as mcl's 384-byte GT serialisation.
 */
import { fr, g1, g2, type GT, type Mcl } from './mcl.ts';
import { MclMultiPairing } from './mcl-multi-pairing.ts';

export interface PairItem {
	a: [bigint, bigint];
	b: [[bigint, bigint], [bigint, bigint]];
	/** The proof's secret ρ < 2¹²⁸. */
	rho: bigint;
}

export interface JobRequest {
	id: number;
	items: PairItem[];
}

export type JobResponse = { id: number; miller: Uint8Array } | { id: number; error: string };

export function millerValueOf(mcl: Mcl, items: readonly PairItem[]): GT {
	const pairing = new MclMultiPairing(mcl);
	for (const { a, b, rho } of items) pairing.add(mcl.mul(g1(mcl, a), fr(mcl, rho)), g2(mcl, b));
	return pairing.millerValue();
}
