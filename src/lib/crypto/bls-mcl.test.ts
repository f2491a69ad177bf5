/**
 * The mcl back end must be indistinguishable from the noble path of core/consensus/bls.ts: the same
 * signature bytes for the same key and statement, each side's signatures and aggregates accepted by the
 * other, the same hash-to-curve points, possessions proven by noble accepted, and the same answer (true, false, or the same
 * ValidationError code) on malformed keys and signatures: random bytes, one flipped bit, identity
 * encodings and wrong lengths. Noble's pairings are slow (tens of ms), hence the modest run counts.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.ts';
import {
	blsAggregateSignatures,
	blsBackendName,
	blsKeyPairFromSeed,
	blsProvePossession,
	blsSign,
	blsVerify,
	blsVerifyAggregate,
	blsVerifyPossession,
	assertBlsPublicKey,
	useBlsBackend,
	type BlsBackend
} from '../core/consensus/bls.ts';
import { createMclBlsBackend } from './bls-mcl.ts';

let mcl: BlsBackend;
beforeAll(async () => {
	mcl = await createMclBlsBackend();
});
afterAll(() => useBlsBackend(undefined));

/** An operation's outcome as a comparable string: its value, or the error's code. */
function outcome(fn: () => unknown): string {
	try {
		const value = fn();
		return value instanceof Uint8Array ? Buffer.from(value).toString('hex') : String(value);
	} catch (error) {
		if (error instanceof ValidationError) return `error:${error.code}`;
		throw error;
	}
}

/** The outcome under noble and under mcl; the test asserts they are equal. */
function both(fn: () => unknown): { noble: string; mcl: string } {
	useBlsBackend(undefined);
	const noble = outcome(fn);
	useBlsBackend(mcl);
	const viaMcl = outcome(fn);
	useBlsBackend(undefined);
	return { noble, mcl: viaMcl };
}

function same(fn: () => unknown): string {
	const { noble, mcl: viaMcl } = both(fn);
	expect(viaMcl).toBe(noble);
	return noble;
}

const seed = () => fc.uint8Array({ minLength: 48, maxLength: 48 });
const statement = () => fc.uint8Array({ minLength: 1, maxLength: 64 });
const members = [1, 2, 3, 4].map((i) => blsKeyPairFromSeed(new Uint8Array(48).fill(i)));

describe('BLS12-381 on mcl (WASM) against @noble/curves', () => {
	it('signs bit for bit as noble does, and each verifies the other', () => {
		fc.assert(
			fc.property(seed(), statement(), (s, message) => {
				const { secretKey, publicKey } = blsKeyPairFromSeed(s);
				const signature = same(() => blsSign(secretKey, message));
				const bytes = Uint8Array.from(Buffer.from(signature, 'hex'));
				expect(same(() => blsVerify(publicKey, message, bytes))).toBe('true');
				expect(same(() => blsVerify(publicKey, new Uint8Array([...message, 0]), bytes))).toBe('false');
			}),
			{ numRuns: 8 }
		);
		useBlsBackend(mcl);
		expect(blsBackendName()).toBe('mcl (WASM)');
		useBlsBackend(undefined);
		expect(blsBackendName()).toBe('@noble/curves');
	});

	it('hashes to G2 bit for bit as noble does, under our tags and RFC 9380 test suite tag', () => {
		const tags = [
			'SPCHAIN_BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_',
			'SPCHAIN_BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_',
			'QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_'
		];
		fc.assert(
			fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom(...tags), (message, dst) => {
				const expected = bls12_381.longSignatures.hash(message, dst).toBytes(true);
				expect(Buffer.from(mcl.hash(message, dst)).toString('hex')).toBe(
					Buffer.from(expected).toString('hex')
				);
			}),
			{ numRuns: 40 }
		);
	});

	it('aggregates the same bytes and agrees on aggregate checks', () => {
		const message = new TextEncoder().encode('pin keyblock 42');
		const signatures = members.map((m) => blsSign(m.secretKey, message));
		const keys = members.map((m) => m.publicKey);
		const aggregate = same(() => blsAggregateSignatures(signatures));
		const bytes = Uint8Array.from(Buffer.from(aggregate, 'hex'));
		expect(same(() => blsVerifyAggregate(keys, message, bytes))).toBe('true');
		expect(same(() => blsVerifyAggregate(keys.slice(1), message, bytes))).toBe('false');
		expect(same(() => blsVerifyAggregate([keys[0]!, keys[0]!, keys[2]!, keys[3]!], message, bytes))).toBe(
			'false'
		);
		expect(same(() => blsVerifyAggregate(keys, new Uint8Array(3), bytes))).toBe('false');
	});

	it('accepts possessions noble proved, and only under the possession tag', () => {
		for (const member of members.slice(0, 2)) {
			const proof = blsProvePossession(member.secretKey);
			expect(same(() => blsVerifyPossession(member.publicKey, proof))).toBe('true');
			// The same key's vote signature over its own encoding is not a possession (distinct tags).
			const vote = blsSign(member.secretKey, member.publicKey);
			expect(same(() => blsVerifyPossession(member.publicKey, vote))).toBe('false');
			expect(same(() => blsVerifyPossession(members[3]!.publicKey, proof))).toBe('false');
		}
	});

	it('answers every one-bit mutation of a signature or key alike', () => {
		const [member] = members;
		const message = new Uint8Array(32).fill(9);
		const signature = blsSign(member!.secretKey, message);
		fc.assert(
			fc.property(fc.nat(96 * 8 + 48 * 8 - 1), (bit) => {
				const sig = signature.slice();
				const key = member!.publicKey.slice();
				if (bit < 96 * 8) sig[bit >> 3]! ^= 1 << (bit & 7);
				else key[(bit - 96 * 8) >> 3]! ^= 1 << (bit & 7);
				expect(same(() => blsVerify(key, message, sig))).not.toBe('true');
			}),
			{ numRuns: 40 }
		);
	});

	it('answers random bytes, identity encodings and wrong lengths alike', () => {
		const [member] = members;
		const message = new Uint8Array(32).fill(1);
		const signature = blsSign(member!.secretKey, message);
		fc.assert(
			fc.property(
				fc.uint8Array({ minLength: 96, maxLength: 96 }),
				fc.uint8Array({ minLength: 48, maxLength: 48 }),
				(sig, key) => {
					same(() => blsVerify(member!.publicKey, message, sig));
					same(() => blsVerify(key, message, signature));
					same(() => assertBlsPublicKey(key));
				}
			),
			{ numRuns: 60 }
		);
		const infinity = (n: number) => new Uint8Array(n).fill(0).map((_, i) => (i === 0 ? 0xc0 : 0));
		expect(same(() => blsVerify(infinity(48), message, signature))).toBe('error:bls-public-key');
		same(() => blsVerify(member!.publicKey, message, infinity(96)));
		same(() => blsAggregateSignatures([signature, infinity(96)]));
		expect(same(() => blsVerify(member!.publicKey, message, signature.subarray(1)))).toBe(
			'error:bls-signature'
		);
		expect(same(() => blsVerify(member!.publicKey.subarray(1), message, signature))).toBe(
			'error:bls-public-key'
		);
		expect(same(() => assertBlsPublicKey(new Uint8Array(47)))).toBe('error:bls-public-key');
		expect(same(() => blsAggregateSignatures([signature, new Uint8Array(95)]))).toBe('error:bls-signature');
		expect(same(() => blsAggregateSignatures([]))).toBe('error:bls-aggregate');
		expect(same(() => blsVerifyAggregate([], message, signature))).toBe('error:bls-aggregate');
		// Secret keys out of [1, r) are refused by both, never reduced.
		const order = bls12_381.fields.Fr.ORDER;
		for (const bad of [0n, order, order + 1n, 2n ** 256n - 1n]) {
			const key = Uint8Array.from(Buffer.from(bad.toString(16).padStart(64, '0'), 'hex'));
			expect(same(() => blsSign(key, message))).toBe('error:bls-secret-key');
		}
		expect(same(() => blsSign(new Uint8Array(31).fill(1), message))).toBe('error:bls-secret-key');
	});
});
