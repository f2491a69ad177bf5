/**
 * The verdict cache in front of the real batch verifier (real Groth16 proofs of the committed circuit):
 * a statement is verified once, whoever asks again (the vote after mempool admission) gets the same
 * verdict without a second verification, a bad proof's `false` is kept too, a statement that differs in
 * any field is verified on its own, and concurrent requests for one statement share a single check.
 * The same for BIP-340 verdicts, in front of the WASM verifier the node installs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTrapdoor, messageFromDigest, type ChameleonStatement } from '../core/chameleon.ts';
import { sha256 } from '../core/hash.ts';
import { loadVerificationKey } from '../crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../crypto/batch-verifier.ts';
import { proveHash, type ChameleonProver } from '../crypto/chameleon-prover.ts';
import { createNodeProver } from '../crypto/prover.node.ts';
import { schnorr } from '@noble/curves/secp256k1.js';
import type { SignatureVerifier } from '../core/identity.ts';
import { loadSchnorrWasmVerifier } from '../crypto/schnorr-wasm.node.ts';
import { VerdictCache, rememberSignatureVerdicts, statementKey } from './verdict-cache.ts';

let prover: ChameleonProver;
let verifier: Groth16BatchVerifier;
let good: ChameleonStatement;
let other: ChameleonStatement;
let bad: ChameleonStatement;
/** Statements the real verifier was asked about, counted. */
let asked = 0;
const counting = {
	verifyAll: (statements: readonly ChameleonStatement[]) => {
		asked += statements.length;
		return verifier.verifyAll(statements);
	}
};

beforeAll(async () => {
	prover = await createNodeProver();
	verifier = await Groth16BatchVerifier.create(await loadVerificationKey());
	const key = generateTrapdoor();
	const m = messageFromDigest(sha256(new TextEncoder().encode('record one')));
	good = { hk: key.X, m, hash: (await proveHash(prover, m, key.X)).hash };
	const m2 = messageFromDigest(sha256(new TextEncoder().encode('record two')));
	other = { hk: key.X, m: m2, hash: (await proveHash(prover, m2, key.X)).hash };
	// The first proof offered for the second message: a real proof, of another statement.
	bad = { hk: key.X, m: m2, hash: good.hash };
});

afterAll(async () => {
	await prover?.close();
});

describe('VerdictCache', () => {
	it('verifies a statement once and answers again from the cache, good and bad alike', async () => {
		asked = 0;
		const cache = new VerdictCache(counting);
		expect(await cache.verifyAll([good, bad])).toEqual([true, false]);
		expect(asked).toBe(2);
		expect(await cache.verifyAll([bad, good, good])).toEqual([false, true, true]);
		expect(asked).toBe(2);
		expect(cache.stats()).toEqual({ hits: 3, verified: 2, size: 2 });
		expect(await cache.verifyAll([other, good])).toEqual([true, true]);
		expect(asked).toBe(3);
	});

	it('keys every field: a changed message, hash key or proof is a new statement', () => {
		const keys = new Set([good, other, bad].map(statementKey));
		expect(keys.size).toBe(3);
		const proof = good.hash.proof.slice();
		proof[10]! ^= 1;
		expect(statementKey({ ...good, hash: { ...good.hash, proof } })).not.toBe(statementKey(good));
		expect(statementKey({ ...good, m: good.m + 1n })).not.toBe(statementKey(good));
	});

	it('shares one check between concurrent requests and forgets the oldest past its capacity', async () => {
		asked = 0;
		const cache = new VerdictCache(counting, 1);
		const [first, second] = await Promise.all([cache.verifyAll([good]), cache.verifyAll([good])]);
		expect([first, second]).toEqual([[true], [true]]);
		expect(asked).toBe(1);
		await cache.verifyAll([other]);
		expect(cache.stats().size).toBe(1);
		await cache.verifyAll([good]);
		expect(asked).toBe(3);
		expect(() => new VerdictCache(counting, 0)).toThrow(RangeError);
	});
});

describe('rememberSignatureVerdicts', () => {
	it('asks the verifier once per (key, digest, signature), false verdicts included', async () => {
		const wasm = await loadSchnorrWasmVerifier();
		let calls = 0;
		const counting: SignatureVerifier = {
			name: wasm.name,
			verify: (k, d, s) => {
				calls++;
				return wasm.verify(k, d, s);
			}
		};
		const remembering = rememberSignatureVerdicts(counting, 2);
		expect(rememberSignatureVerdicts(remembering)).toBe(remembering);
		const secretKey = schnorr.utils.randomSecretKey();
		const publicKey = schnorr.getPublicKey(secretKey);
		const digest = new Uint8Array(32).fill(5);
		const signature = schnorr.sign(digest, secretKey);
		const forged = signature.slice();
		forged[40]! ^= 1;
		expect(remembering.verify(publicKey, digest, signature)).toBe(true);
		expect(remembering.verify(publicKey, digest, signature)).toBe(true);
		expect(calls).toBe(1);
		expect(remembering.verify(publicKey, digest, forged)).toBe(false);
		expect(remembering.verify(publicKey, digest, forged)).toBe(false);
		expect(calls).toBe(2);
		// Another digest under the same key and signature is another question.
		expect(remembering.verify(publicKey, new Uint8Array(32).fill(6), signature)).toBe(false);
		expect(calls).toBe(3);
		// Capacity 2: the first verdict has been forgotten and is asked again.
		expect(remembering.verify(publicKey, digest, signature)).toBe(true);
		expect(calls).toBe(4);
		// Other lengths are never remembered.
		expect(remembering.verify(publicKey, new Uint8Array(31), signature)).toBe(false);
		expect(remembering.verify(publicKey, new Uint8Array(31), signature)).toBe(false);
		expect(calls).toBe(6);
		expect(() => rememberSignatureVerdicts(counting, 0)).toThrow(RangeError);
	});
});
