/**
 * Genesis: the configuration a consortium agrees on before the chain starts (paper §5.3 Setup, and
 * Fig. 6: "the genesis part is set by the system management"). Every rule parameter lives here, so a
 * real consortium edits one reviewed document; its hash is the chain id that every keyblock descends from.
 */
import { bigIntToBytes, equalBytes, fromHex, type Bytes } from './bytes.ts';
import { CHAMELEON_VKEY_HASH } from './chameleon-params.ts';
import { decodeCanonical, encodeCanonical, type Canonical } from './encoding.ts';
import { decodeHashKey } from './chameleon.ts';
import { blsVerifyPossession } from './consensus/bls.ts';
import { ensure, type ValidationCode } from './errors.ts';
import { HASH_LENGTH, taggedHash } from './hash.ts';
import { readInstitution, type Institution } from './identity.ts';
import * as read from './schema.ts';
import { TRANSACTION_KINDS, type FeeSchedule } from './transaction.ts';

export interface GenesisConfig {
	/** Human name of the network; different networks never accept each other's blocks. */
	network: string;
	/** Unix milliseconds; keyblock 1 may not be older. */
	timestamp: number;
	/** The consortium: institutions admitted as miners and potential consensus members. */
	institutions: Institution[];
	/** penu_microblock_hash for keyblocks 1 and 2, which have no penultimate round. */
	genesisMicroblock: Bytes;
	/** Initial PoW target (32 bytes, big-endian). */
	initialTarget: Bytes;
	/** Desired time between keyblocks; difficulty adjusts towards it. */
	keyblockIntervalMs: number;
	/** Keyblocks between difficulty adjustments. */
	retargetInterval: number;
	/** How far a keyblock timestamp may lie in the future of a node's clock. */
	maxFutureDriftMs: number;
	/** Fixed fees per transaction kind (§6.2.2). */
	fees: FeeSchedule;
	/** Reward for mining a pinned keyblock, and per pinned transaction batch to its signers (§5.2). */
	keyblockReward: number;
	microblockReward: number;
	/** Reputation parameters (Algorithm 1, Table 1): chunk size c, and (a, λ). */
	reputation: { chunkSize: number; a: number; lambda: number };
	/** X: size of the consensus group (top-X institutions by reputation). */
	consensusGroupSize: number;
	/** Keyblocks per consensus-group epoch (membership changes only at these boundaries). */
	epochLength: number;
	/** A transaction made for round r is valid in keyblocks r .. r + roundWindow. */
	roundWindow: number;
	/** Register transactions one keyblock may pack. */
	maxRegistersPerKeyblock: number;
	/** SHA-256 of the chameleon circuit's verification key; proofs under any other key are refused. */
	chameleonVkeyHash: Bytes;
}

/** What founders agree on besides themselves (the institutions and the genesis microblock come from the founding). */
export type GenesisParameters = Omit<GenesisConfig, 'institutions' | 'genesisMicroblock'>;

/** Target such that a hash meets it once in `expectedHashes` tries on average. */
export function targetForExpectedHashes(expectedHashes: bigint): Bytes {
	return bigIntToBytes((1n << 256n) / expectedHashes - 1n, 32);
}

/**
 * The parameters a new consortium starts from unless its founders choose others: keyblocks every
 * 10 s at about a million hashes (a fraction of a second for a WASM miner, so browsers mine), a group
 * of four (tolerates one fault), epochs of 10 keyblocks, and the published SNARK verification key.
 */
export function defaultParameters(
	overrides: Partial<GenesisParameters> & { network: string; timestamp: number }
): GenesisParameters {
	return {
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

const FIELDS = [
	'network',
	'timestamp',
	'institutions',
	'genesisMicroblock',
	'initialTarget',
	'keyblockIntervalMs',
	'retargetInterval',
	'maxFutureDriftMs',
	'fees',
	'keyblockReward',
	'microblockReward',
	'reputation',
	'consensusGroupSize',
	'epochLength',
	'roundWindow',
	'maxRegistersPerKeyblock',
	'chameleonVkeyHash'
] as const;

export function genesisToCanonical(g: GenesisConfig): { [key: string]: Canonical } {
	return {
		...g,
		institutions: g.institutions.map((i) => ({
			id: i.id,
			name: i.name,
			blsKey: i.blsKey,
			blsPossession: i.blsPossession,
			chameleonKey: i.chameleonKey
		})),
		fees: Object.fromEntries(TRANSACTION_KINDS.map((k) => [k, { ...g.fees[k] }])),
		reputation: { ...g.reputation }
	};
}

export function encodeGenesis(g: GenesisConfig): Bytes {
	return encodeCanonical(genesisToCanonical(g));
}

/** Hash of the genesis: the "keyblock 0" hash that keyblock 1 links to. */
export function genesisHash(g: GenesisConfig): Bytes {
	return taggedHash('spchain/genesis', encodeGenesis(g));
}

export function decodeGenesis(bytes: Bytes): GenesisConfig {
	const g = readGenesis(decodeCanonical(bytes, 1024 * 1024), 'genesis');
	checkGenesis(g);
	return g;
}

/** The fields of a decoded genesis, typed and bounded, without the consistency rules (a founding draft has no institutions yet). */
export function readGenesis(value: unknown, where: string): GenesisConfig {
	const o = read.object(value, where, FIELDS);
	const fees = read.object(o.fees, 'genesis.fees', TRANSACTION_KINDS);
	const reputation = read.object(o.reputation, 'genesis.reputation', ['chunkSize', 'a', 'lambda']);
	const g: GenesisConfig = {
		network: read.string(o.network, 'genesis.network', 64),
		timestamp: read.uint(o.timestamp, 'genesis.timestamp'),
		institutions: read.array(o.institutions, 'genesis.institutions', 1024, readInstitution),
		genesisMicroblock: read.bytes(o.genesisMicroblock, 'genesis.genesisMicroblock', HASH_LENGTH),
		initialTarget: read.bytes(o.initialTarget, 'genesis.initialTarget', 32),
		keyblockIntervalMs: read.uint(o.keyblockIntervalMs, 'genesis.keyblockIntervalMs'),
		retargetInterval: read.uint(o.retargetInterval, 'genesis.retargetInterval'),
		maxFutureDriftMs: read.uint(o.maxFutureDriftMs, 'genesis.maxFutureDriftMs'),
		fees: Object.fromEntries(
			TRANSACTION_KINDS.map((kind) => {
				const f = read.object(fees[kind], `genesis.fees.${kind}`, ['service', 'transaction']);
				return [
					kind,
					{
						service: read.uint(f.service, `genesis.fees.${kind}.service`),
						transaction: read.uint(f.transaction, `genesis.fees.${kind}.transaction`)
					}
				];
			})
		) as FeeSchedule,
		keyblockReward: read.uint(o.keyblockReward, 'genesis.keyblockReward'),
		microblockReward: read.uint(o.microblockReward, 'genesis.microblockReward'),
		reputation: {
			chunkSize: read.uint(reputation.chunkSize, 'genesis.reputation.chunkSize'),
			a: read.uint(reputation.a, 'genesis.reputation.a'),
			lambda: read.uint(reputation.lambda, 'genesis.reputation.lambda')
		},
		consensusGroupSize: read.uint(o.consensusGroupSize, 'genesis.consensusGroupSize'),
		epochLength: read.uint(o.epochLength, 'genesis.epochLength'),
		roundWindow: read.uint(o.roundWindow, 'genesis.roundWindow'),
		maxRegistersPerKeyblock: read.uint(o.maxRegistersPerKeyblock, 'genesis.maxRegistersPerKeyblock'),
		chameleonVkeyHash: read.bytes(o.chameleonVkeyHash, 'genesis.chameleonVkeyHash', HASH_LENGTH)
	};
	return g;
}

/** Consistency rules a genesis must satisfy before any node runs it. */
export function checkGenesis(g: GenesisConfig): void {
	ensure(g.institutions.length >= 1, 'genesis', 'genesis needs at least one institution');
	const ids = new Set(g.institutions.map((i) => i.id.join(',')));
	ensure(ids.size === g.institutions.length, 'genesis', 'two institutions share a signing key');
	for (const institution of g.institutions) {
		checkKey(institution, 'genesis-bls', 'the BLS key comes without a valid proof of possession', () =>
			blsVerifyPossession(institution.blsKey, institution.blsPossession)
		);
		// Every leaf and record proof is checked under this key: a bad one would otherwise surface only then.
		checkKey(institution, 'genesis-chameleon', 'the chameleon hash key is not a valid hash key', () => {
			decodeHashKey(institution.chameleonKey);
			return true;
		});
	}
	ensure(
		g.consensusGroupSize >= 1 && g.consensusGroupSize <= g.institutions.length,
		'genesis',
		'the consensus group size must be between 1 and the number of institutions'
	);
	ensure(g.reputation.chunkSize >= 1, 'genesis', 'the reputation chunk size must be at least 1');
	ensure(g.reputation.lambda >= 1, 'genesis', 'λ must be positive');
	ensure(
		g.keyblockIntervalMs >= 1 && g.retargetInterval >= 1,
		'genesis',
		'the keyblock interval and retarget interval must be positive'
	);
	ensure(
		g.epochLength >= 1 && g.roundWindow >= 1,
		'genesis',
		'epoch length and round window must be positive'
	);
	ensure(
		g.maxRegistersPerKeyblock >= 1,
		'genesis',
		'a keyblock must be able to pack at least one register transaction'
	);
	ensure(
		g.initialTarget.some((b) => b !== 0),
		'genesis',
		'the initial target cannot be zero'
	);
}

/** One code per key kind whatever the decoder threw, so a bad genesis says which institution and key. */
function checkKey(
	institution: Institution,
	code: ValidationCode,
	message: string,
	valid: () => boolean
): void {
	let detail = '';
	let ok: boolean;
	try {
		ok = valid();
	} catch (error) {
		ok = false;
		detail = ` (${error instanceof Error ? error.message : String(error)})`;
	}
	ensure(ok, code, `${institution.name}: ${message}${detail}`);
}

/** A short human-comparable form of the genesis hash (what a clinic and a patient read to each other). */
export function genesisFingerprint(g: GenesisConfig): string {
	const hex = Array.from(genesisHash(g).slice(0, 10), (b) => b.toString(16).padStart(2, '0')).join('');
	return hex.match(/.{4}/g)!.join('-');
}

export function institutionById(g: GenesisConfig, id: Bytes): Institution | undefined {
	return g.institutions.find((i) => equalBytes(i.id, id));
}
