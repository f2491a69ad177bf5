/**
 * The throughput benches' transactions, shared by the CPU pipeline (throughput.bench.ts) and the libp2p
 * deployment (deployment.ts): a pool of distinct real chameleon-hash proofs under Aster's key, made once
 * (~0.4 s each) and cached in .cache/bench-proofs/, and signed medical transactions of 256 patients that
 * reuse its entries, with the register transactions that make those patients known to a chain.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { bytesToHex, fromHex } from '../../src/lib/core/bytes.ts';
import { messageFromDigest, type ChameleonHash } from '../../src/lib/core/chameleon.ts';
import type { GenesisConfig } from '../../src/lib/core/genesis.ts';
import { generateSigningKey } from '../../src/lib/core/identity.ts';
import {
	signTransaction,
	type MedicalBody,
	type RegisterBody,
	type Transaction
} from '../../src/lib/core/transaction.ts';
import { proveHash } from '../../src/lib/crypto/chameleon-prover.ts';
import { createNodeProver } from '../../src/lib/crypto/prover.node.ts';
import { devInstitution } from '../../tests/fixtures/genesis-dev.ts';

export const POOL_SIZE = 48;
const POOL_FILE = fileURLToPath(new URL('../../.cache/bench-proofs/pool.json', import.meta.url));
const PATIENTS = 256;

/** The author (and holder) of every bench record; its chameleon key is the one the pool's proofs are under. */
export const aster = devInstitution('Aster Clinic').institution;

export interface PoolEntry {
	digest: Uint8Array;
	hash: ChameleonHash;
}

export async function proofPool(): Promise<PoolEntry[]> {
	if (existsSync(POOL_FILE)) {
		const saved = JSON.parse(readFileSync(POOL_FILE, 'utf8')) as {
			digest: string;
			h: string;
			proof: string;
		}[];
		if (saved.length >= POOL_SIZE)
			return saved.map((e) => ({
				digest: fromHex(e.digest, 32),
				hash: { h: fromHex(e.h, 32), proof: fromHex(e.proof) }
			}));
	}
	console.log(`making ${POOL_SIZE} real chameleon-hash proofs once (cached in .cache/bench-proofs/)…`);
	const prover = await createNodeProver();
	const pool: PoolEntry[] = [];
	for (let i = 0; i < POOL_SIZE; i++) {
		const digest = sha256(utf8ToBytes(`bench ciphertext ${i}`));
		const { hash } = await proveHash(prover, messageFromDigest(digest), aster.chameleonKey);
		pool.push({ digest, hash });
	}
	await prover.close();
	mkdirSync(dirname(POOL_FILE), { recursive: true });
	writeFileSync(
		POOL_FILE,
		JSON.stringify(
			pool.map((e) => ({
				digest: bytesToHex(e.digest),
				h: bytesToHex(e.hash.h),
				proof: bytesToHex(e.hash.proof)
			}))
		)
	);
	return pool;
}

const patients = () =>
	Array.from({ length: PATIENTS }, (_, i) =>
		generateSigningKey(sha512(utf8ToBytes(`bench patient ${i}`)).slice(0, 48))
	);

export interface TransactionOptions {
	/** The round of the i-th transaction (default: a new round each time every patient has had one). */
	round?: (i: number) => number;
	/** The proof of the i-th transaction (default: its pool entry's own). */
	proof?: (entry: PoolEntry, i: number) => Uint8Array;
}

export function transactions(
	genesis: GenesisConfig,
	pool: PoolEntry[],
	count: number,
	options: TransactionOptions = {}
): Transaction<MedicalBody>[] {
	const keys = patients();
	const round = options.round ?? ((i: number) => 1 + Math.floor(i / keys.length));
	return Array.from({ length: count }, (_, i) => {
		const patient = keys[i % keys.length]!;
		const entry = pool[i % pool.length]!;
		const proof = options.proof?.(entry, i) ?? entry.hash.proof;
		return signTransaction<MedicalBody>(
			{
				kind: 'medical',
				patient: patient.publicKey,
				institution: aster.id,
				round: round(i),
				fees: genesis.fees.medical,
				record: {
					chameleon: { h: entry.hash.h, proof },
					pointer: { digest: entry.digest, holder: aster.id }
				}
			},
			patient.secretKey
		);
	});
}

/** One register transaction per patient of `transactions`, for `round`, all at Aster. */
export function patientRegisters(genesis: GenesisConfig, round: number): Transaction<RegisterBody>[] {
	return patients().map((patient, i) =>
		signTransaction<RegisterBody>(
			{
				kind: 'register',
				patient: patient.publicKey,
				institution: aster.id,
				round,
				fees: genesis.fees.register,
				identity: sha256(utf8ToBytes(`bench patient identity ${i}`))
			},
			patient.secretKey
		)
	);
}
