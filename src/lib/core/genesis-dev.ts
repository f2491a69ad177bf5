/**
 * The development consortium: five clinics with keys derived from fixed seeds, used by tests, the
 * benchmarks and the `npm start` demo network. Its secrets are public knowledge by construction: never
 * use this genesis for real records. A real consortium writes its own GenesisConfig with keys its
 * members generated on their own devices.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { blsProvePossession } from './consensus/bls.ts';
import { bigIntToBytes, bytesToBigInt, fromHex, type Bytes } from './bytes.ts';
import { hashKeyOf, SUBGROUP_ORDER } from './chameleon.ts';
import { CHAMELEON_VKEY_HASH } from './chameleon-params.ts';
import type { GenesisConfig } from './genesis.ts';
import { sha512 } from '@noble/hashes/sha2.js';
import { sha256 } from './hash.ts';
import { generateSigningKey, type Institution } from './identity.ts';

export interface InstitutionSecrets {
	signingKey: Bytes;
	blsKey: Bytes;
	/** Chameleon trapdoor x (scalar mod L). */
	trapdoor: bigint;
}

export interface DevInstitution {
	institution: Institution;
	secrets: InstitutionSecrets;
}

export const DEV_INSTITUTION_NAMES = [
	'Aster Clinic',
	'Birch Hospital',
	'Cedar Health',
	'Dogwood Medical',
	// Not in the first consensus group (X = 4): an institution that writes records without voting.
	'Elm Family Practice'
] as const;

/** Deterministic keys for a named dev institution. */
export function devInstitution(name: string): DevInstitution {
	const seed = (purpose: string) => sha512(utf8ToBytes(`spchain/dev-seed/${purpose}/${name}`)).slice(0, 48);
	const signing = generateSigningKey(seed('signing'));
	const blsSecret = bigIntToBytes((bytesToBigInt(seed('bls')) % (bls12_381.fields.Fr.ORDER - 1n)) + 1n, 32);
	const trapdoor = (bytesToBigInt(seed('chameleon')) % (SUBGROUP_ORDER - 1n)) + 1n;
	return {
		institution: {
			id: signing.publicKey,
			name,
			blsKey: bls12_381.longSignatures.getPublicKey(blsSecret).toBytes(true),
			blsPossession: blsProvePossession(blsSecret),
			chameleonKey: hashKeyOf(trapdoor)
		},
		secrets: { signingKey: signing.secretKey, blsKey: blsSecret, trapdoor }
	};
}

/** Target such that a hash meets it once in `expectedHashes` tries on average. */
export function targetForExpectedHashes(expectedHashes: bigint): Bytes {
	return bigIntToBytes((1n << 256n) / expectedHashes - 1n, 32);
}

export function devGenesis(overrides: Partial<GenesisConfig> = {}): GenesisConfig {
	const institutions = DEV_INSTITUTION_NAMES.map((name) => devInstitution(name).institution);
	return {
		network: 'spchain-dev',
		timestamp: Date.UTC(2026, 0, 1),
		institutions,
		genesisMicroblock: sha256(
			utf8ToBytes('SPChain development network: the genesis part is set by the system management')
		),
		// About a million hashes: a fraction of a second for a WASM miner.
		initialTarget: targetForExpectedHashes(1n << 20n),
		keyblockIntervalMs: 10_000,
		retargetInterval: 10,
		maxFutureDriftMs: 2 * 60_000,
		fees: {
			register: { service: 10, transaction: 2 },
			medical: { service: 20, transaction: 2 },
			label: { service: 5, transaction: 2 }
		},
		keyblockReward: 1000,
		microblockReward: 100,
		reputation: { chunkSize: 10, a: 5000, lambda: 20000 },
		consensusGroupSize: 4,
		epochLength: 10,
		roundWindow: 20,
		maxRegistersPerKeyblock: 4096,
		chameleonVkeyHash: fromHex(CHAMELEON_VKEY_HASH, 32),
		...overrides
	};
}
