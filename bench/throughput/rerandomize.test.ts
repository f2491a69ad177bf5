/**
 * ProofVariants, the throughput deployment's source of fresh proofs: every variant of a real
 * chameleon-hash proof is new bytes and still verifies (snarkjs's own groth16.verify and the nodes'
 * batch verifier), for its statement only; without this the deployment's "every proof a fresh
 * variant" would measure verdicts read from the nodes' caches, or refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bytesToHex } from '../../src/lib/core/bytes.ts';
import { generateTrapdoor, type ChameleonStatement } from '../../src/lib/core/chameleon.ts';
import { loadVerificationKey } from '../../src/lib/crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../../src/lib/crypto/batch-verifier.ts';
import type { ChameleonProver } from '../../src/lib/crypto/chameleon-prover.ts';
import { createNodeProver } from '../../src/lib/crypto/prover.node.ts';
import { provenStatement } from '../../tests/fixtures/statements.ts';
import { ProofVariants } from './rerandomize.ts';

let prover: ChameleonProver;
let verifier: Groth16BatchVerifier;
let statement: ChameleonStatement;
let other: ChameleonStatement;

beforeAll(async () => {
	prover = await createNodeProver();
	verifier = await Groth16BatchVerifier.create(await loadVerificationKey());
	const key = generateTrapdoor();
	statement = await provenStatement(prover, key.X, 'variant record');
	other = await provenStatement(prover, key.X, 'another record');
});

afterAll(async () => {
	await prover?.close();
});

describe('ProofVariants', () => {
	it('gives new proofs of the same statement that verify, and never the same bytes twice', async () => {
		const variants = new ProofVariants(verifier.vkey);
		const proof = statement.hash.proof;
		const made = Array.from({ length: 4 }, () => variants.next(proof));
		const all = new Set([proof, ...made].map(bytesToHex));
		expect(all.size).toBe(5);
		const asStatement = (p: Uint8Array) => ({ ...statement, hash: { ...statement.hash, proof: p } });
		// snarkjs's own verifier, one by one, and the batch verifier the nodes run.
		for (const p of made.slice(0, 2)) expect(await verifier.verifySingle(asStatement(p))).toBe(true);
		expect(await verifier.verifyAll(made.map(asStatement))).toEqual([true, true, true, true]);
		// Variants of two proofs are tracked apart, and one proves only its own statement.
		const second = variants.next(other.hash.proof);
		expect(await verifier.verifyAll([{ ...other, hash: { ...other.hash, proof: second } }])).toEqual([true]);
		expect(await verifier.verifyAll([{ ...other, hash: { ...other.hash, proof: made[0]! } }])).toEqual([
			false
		]);
	});
});
