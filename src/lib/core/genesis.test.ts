import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.ts';
import { checkGenesis, decodeGenesis, encodeGenesis, genesisHash, genesisToCanonical } from './genesis.ts';
import { devGenesis, devInstitution } from './genesis-dev.ts';
import { encodeCanonical } from './encoding.ts';
import { CHAMELEON_VKEY_HASH } from './chameleon-params.ts';
import { bytesToHex } from './bytes.ts';

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
});
