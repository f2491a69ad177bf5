/**
 * Chameleon hash types the rest of the core depends on. The full construction (Baby Jubjub, Groth16
 * proof of knowledge of r, collisions) is defined here by the chameleon-hash work (issue 3); the core
 * only needs these shapes and the injected verifier.
 */
import type { Bytes } from './bytes.ts';

/** A chameleon hash value with its proof of well-formedness, as carried in transactions and blocks. */
export interface ChameleonHash {
	/** h = m·G + r·X, a compressed Baby Jubjub point (32 bytes). */
	h: Bytes;
	/** Groth16 proof of knowledge of r (canonical bytes; never used as an identifier: proofs are re-randomisable). */
	proof: Bytes;
}

/** One statement to verify: hash key X, message m (a field element < L), and the hash with its proof. */
export interface ChameleonStatement {
	hk: Bytes;
	m: bigint;
	hash: ChameleonHash;
}

/** Injected into validation: real SNARK verification lives outside the core (snarkjs adapter). */
export interface ChameleonVerifier {
	/** Returns one boolean per statement; never throws for a bad proof. */
	verifyAll(statements: readonly ChameleonStatement[]): Promise<boolean[]>;
}
