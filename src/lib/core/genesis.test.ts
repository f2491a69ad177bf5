import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { babyjubjub } from '@noble/curves/misc.js';
import { ValidationError } from './errors.ts';
import { Ledger } from './chain.ts';
import {
	checkGenesis,
	decodeGenesis,
	encodeGenesis,
	genesisHash,
	genesisToCanonical,
	type GenesisConfig
} from './genesis.ts';
import type { Institution } from './identity.ts';
import { devGenesis, devInstitution, targetForExpectedHashes } from '../../../tests/fixtures/genesis-dev.ts';
import { encodeCanonical } from './encoding.ts';
import { CHAMELEON_VKEY_HASH } from './chameleon-params.ts';
import { bigIntToBytes, bytesToHex, type Bytes } from './bytes.ts';
import { expectOnlyValidationErrors, mineNext } from '../../../tests/fixtures/chain.ts';

const Point = babyjubjub.Point;

/** The code decodeGenesis refuses `bytes` with, or 'accepted'. */
function decodeVerdict(bytes: Bytes): string | GenesisConfig {
	try {
		return decodeGenesis(bytes);
	} catch (error) {
		expect(error).toBeInstanceOf(ValidationError);
		return (error as ValidationError).code;
	}
}

describe('genesis', () => {
	it('round-trips, and its hash is the chain id (any parameter change makes another chain)', () => {
		const genesis = devGenesis();
		const decoded = decodeGenesis(encodeGenesis(genesis));
		expect(decoded).toEqual(genesis);
		expect(genesisHash(decoded)).toEqual(genesisHash(genesis));
		expect(genesisHash(devGenesis({ roundWindow: 21 }))).not.toEqual(genesisHash(genesis));
	});

	it('carries the hash of the ceremony verification key and the keys each institution needs', () => {
		const genesis = devGenesis();
		expect(bytesToHex(genesis.chameleonVkeyHash)).toBe(CHAMELEON_VKEY_HASH);
		const aster = devInstitution('Aster Clinic');
		expect(genesis.institutions[0]).toEqual(aster.institution);
		expect(aster.institution.blsKey).toHaveLength(48);
		expect(aster.institution.chameleonKey).toHaveLength(32);
		// Deterministic: the same name gives the same keys on every machine.
		expect(devInstitution('Aster Clinic').secrets.trapdoor).toBe(aster.secrets.trapdoor);
	});

	it('rejects inconsistent parameters with a sentence', () => {
		const genesis = devGenesis();
		const bad = {
			'no institutions': { institutions: [] },
			'two institutions with one key': { institutions: [genesis.institutions[0]!, genesis.institutions[0]!] },
			'group larger than the consortium': { consensusGroupSize: 9 },
			'empty group': { consensusGroupSize: 0 },
			'zero chunk size': { reputation: { chunkSize: 0, a: 5000, lambda: 20000 } },
			'zero lambda': { reputation: { chunkSize: 10, a: 5000, lambda: 0 } },
			'zero interval': { keyblockIntervalMs: 0 },
			'zero round window': { roundWindow: 0 },
			'zero target': { initialTarget: new Uint8Array(32) },
			// Rogue-key defence: a BLS key must come with its own proof of possession.
			'borrowed proof of possession': {
				institutions: [
					{ ...genesis.institutions[0]!, blsPossession: genesis.institutions[1]!.blsPossession },
					...genesis.institutions.slice(1)
				]
			}
		};
		for (const [name, change] of Object.entries(bad)) {
			expect(() => checkGenesis({ ...genesis, ...change }), name).toThrow(ValidationError);
			expect(() => decodeGenesis(encodeGenesis({ ...genesis, ...change })), name).toThrow(ValidationError);
		}
	});

	it('rejects malformed documents: missing fields, unknown fields, wrong sizes, invalid keys', () => {
		const raw = genesisToCanonical(devGenesis());
		const { network: _network, ...missing } = raw;
		expect(() => decodeGenesis(encodeCanonical(missing))).toThrow(/missing field "network"/);
		expect(() => decodeGenesis(encodeCanonical({ ...raw, surprise: 1 }))).toThrow(/unknown field "surprise"/);
		expect(() => decodeGenesis(encodeCanonical({ ...raw, initialTarget: new Uint8Array(31) }))).toThrow(
			/initialTarget/
		);
		const institutions = raw.institutions as { id: Uint8Array }[];
		const invalidKey = new Uint8Array(32);
		invalidKey[31] = 5;
		const broken = [{ ...institutions[0]!, id: invalidKey }, ...institutions.slice(1)];
		expect(() => decodeGenesis(encodeCanonical({ ...raw, institutions: broken }))).toThrow(
			/not a valid public key/
		);
	});

	it("refuses an institution's chameleon hash key that is not a canonical subgroup point other than the identity", () => {
		const genesis = devGenesis();
		const withKey = (chameleonKey: Uint8Array) => ({
			...genesis,
			institutions: [{ ...genesis.institutions[0]!, chameleonKey }, ...genesis.institutions.slice(1)]
		});
		// y is little-endian in the low 255 bits: y + p is a second encoding of a small y; y = 2 has no x.
		const nonCanonical = bigIntToBytes(1n + Point.Fp.ORDER, 32).reverse();
		const offCurve = new Uint8Array(32);
		offCurve[0] = 2;
		const bad = {
			identity: Point.ZERO.toBytes(),
			'order 2 (outside the subgroup)': Point.fromAffine({ x: 0n, y: Point.Fp.ORDER - 1n }).toBytes(),
			'not on the curve': offCurve,
			'non-canonical': nonCanonical
		};
		for (const [name, key] of Object.entries(bad)) {
			expect(() => checkGenesis(withKey(key)), name).toThrow(
				expect.objectContaining({ code: 'genesis-chameleon' })
			);
			expect(() => decodeGenesis(encodeGenesis(withKey(key))), name).toThrow(
				expect.objectContaining({ code: 'genesis-chameleon' })
			);
		}
		expect(() => checkGenesis(genesis)).not.toThrow();
	});

	it('names a BLS key without its own proof of possession', () => {
		const genesis = devGenesis();
		const [first, second] = genesis.institutions as [Institution, Institution];
		const swapped = { ...genesis, institutions: [{ ...first, blsPossession: second.blsPossession }, second] };
		expect(() => checkGenesis({ ...swapped, consensusGroupSize: 1 })).toThrow(
			expect.objectContaining({ code: 'genesis-bls' })
		);
		const garbage = { ...first, blsKey: new Uint8Array(48).fill(0xff) };
		expect(() => checkGenesis({ ...genesis, institutions: [garbage], consensusGroupSize: 1 })).toThrow(
			expect.objectContaining({ code: 'genesis-bls' })
		);
	});

	it("rejects a flipped bit in every byte of an institution: the genesis is refused, or it is another chain's", () => {
		const { genesis, bytes, verdictOf } = smallGenesis();
		const [institution] = genesis.institutions as [Institution];
		const at = indexOfBytes(bytes, encodeCanonical({ ...institution }));
		const verdicts = new Map<number, string>();
		for (let i = at; i < at + encodeCanonical({ ...institution }).length; i++) verdicts.set(i, verdictOf(i));
		const over = (field: Bytes) => {
			const start = indexOfBytes(bytes, field);
			return Array.from({ length: field.length }, (_, k) => verdicts.get(start + k));
		};
		// Every flip of the BLS key or its proof of possession is refused outright…
		expect(new Set([...over(institution.blsKey), ...over(institution.blsPossession)])).toEqual(
			new Set(['genesis-bls'])
		);
		// …and of the chameleon key unless it happens to land on another valid key, which is another chain.
		const chameleon = over(institution.chameleonKey);
		expect(chameleon.filter((v) => v === 'genesis-chameleon').length).toBeGreaterThan(16);
		expect(new Set(chameleon)).toEqual(new Set(['genesis-chameleon', 'another chain']));
		expect(new Set(verdicts.values())).not.toContain('accepted');
	});

	it('rejects a flipped bit in the other fields: the genesis is refused, or it is another chain', () => {
		const { genesis, bytes, verdictOf } = smallGenesis();
		const at = indexOfBytes(bytes, encodeCanonical({ ...genesis.institutions[0]! }));
		const length = encodeCanonical({ ...genesis.institutions[0]! }).length;
		// Sampled: each decode verifies a BLS proof of possession, so every byte would take seconds.
		fc.assert(
			fc.property(fc.nat(bytes.length - length - 1), (k) => {
				const i = k < at ? k : k + length;
				expect(verdictOf(i), `byte ${i}`).not.toBe('accepted');
			}),
			{ numRuns: 120 }
		);
	});

	it('never throws anything but a ValidationError on random, truncated or mutated bytes', () => {
		const { bytes } = smallGenesis();
		fc.assert(
			fc.property(
				fc.nat(bytes.length),
				fc.uint8Array({ maxLength: 600 }),
				fc.nat(bytes.length - 1),
				fc.integer({ min: 1, max: 255 }),
				(cut, noise, at, xor) => {
					const mutated = bytes.slice();
					mutated[at]! ^= xor;
					expectOnlyValidationErrors(decodeGenesis, [bytes.slice(0, cut), noise, mutated]);
				}
			),
			{ numRuns: 150 }
		);
	});
});

/**
 * A one-institution genesis (one proof of possession per decode keeps byte-flip tests affordable), its
 * keyblock 1, and `verdictOf(i)`: how the genesis with bit 0 of byte i flipped is treated — its refusal
 * code, 'another chain' when it decodes to a genesis under which our keyblock 1 fails 'keyblock-prev'
 * (its id changed), or 'accepted'.
 */
function smallGenesis() {
	const aster = devInstitution('Aster Clinic');
	const genesis = devGenesis({
		institutions: [aster.institution],
		consensusGroupSize: 1,
		initialTarget: targetForExpectedHashes(4n)
	});
	const keyblock1 = mineNext(new Ledger(genesis), aster);
	const bytes = encodeGenesis(genesis);
	const verdictOf = (i: number): string => {
		const tampered = bytes.slice();
		tampered[i]! ^= 0x01;
		const verdict = decodeVerdict(tampered);
		if (typeof verdict === 'string') return verdict;
		try {
			new Ledger(verdict).checkNextKeyblock(keyblock1, Date.UTC(2030, 0, 1));
		} catch (error) {
			if (error instanceof ValidationError && error.code === 'keyblock-prev') return 'another chain';
			throw error;
		}
		return 'accepted';
	};
	return { genesis, bytes, verdictOf };
}

function indexOfBytes(haystack: Bytes, needle: Bytes): number {
	const at = bytesToHex(haystack).indexOf(bytesToHex(needle));
	expect(at).toBeGreaterThan(0);
	expect(at % 2).toBe(0);
	return at / 2;
}
