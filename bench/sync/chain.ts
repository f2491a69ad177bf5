/**
 * The sync bench's chain: a real SPChain journal on the test fixtures' development genesis (keys from
 * public seeds, so the bench can sign for every member), built by the same rules a live consortium
 * follows, and cached on disk so that later runs only load it. Why this file is long: the chain's
 * builder walks every fact kind in order (keyblocks, certificates, hand-overs, batches, attachments)
 * and splitting it would scatter one generation loop across files.
 *
 * Per keyblock round h = 1..keyblocks: keyblock h (real proof of work at the target the retarget rule
 * sets, mined in turn by the members of the epoch's group, `registersPerKeyblock` register
 * transactions of new patients, each signed by its patient) pinned by a real BLS certificate of every
 * member of the epoch's group; at each epoch end but the last, the hand-over to the group
 * HandoverAgreement ranks (certified by the outgoing group); every `batchEvery` rounds (rounds 4, 9, …
 * for 5, so the journal ends with a keyblock) one pinned batch (certificate of the batch's group) of
 * `attachmentsPerBatch × entriesPerAttachment` medical transactions of that round, then one attachment
 * per (patient, institution) leaf with the institution's Groth16 collision proof for the leaf. Every
 * medical transaction is signed by its own patient and carries a Groth16 proof of its chameleon hash.
 *
 * What is not made one by one, because proving costs ~0.4 s here: the record statements. A pool of
 * `recordStatements` (message, hash) pairs per institution is proven once; each transaction takes one
 * and re-randomises its proof (B + k·ρ·δ, C + k·ρ·A for the statement's k-th use and a random ρ: a
 * distinct, valid Groth16 proof of the same statement, so a distinct transaction id). The syncing node
 * verifies every one of them in full. Each leaf gets its own collision proof (one per attachment), so
 * records go to a subset of the patients (one leaf of `attachments` patients) to keep that proving to
 * minutes. Timestamps: keyblocks 1..40 are 40 s apart, so the retarget rule eases the dev genesis's
 * ~1M-hash target ×4 at heights 10, 20, 30, 40 (to ~4k hashes), then 10 s apart (the target stays).
 *
 * The generator applies keyblocks, batches and hand-overs through a ChainState (so it ranks and pins
 * exactly as members would) and writes its own attachments straight into that ledger's leaves (the
 * reputation ranking counts attached records); it does not re-verify what it made: the syncing nodes
 * verify all of it.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import * as snarkjs from 'snarkjs';
import type { Bn128 } from 'snarkjs';
import { bytesToHex, concatBytes, equalBytes, type Bytes } from '../../src/lib/core/bytes.ts';
import {
	decodeProof,
	encodeProof,
	messageFromDigest,
	type ChameleonHash,
	type Groth16Proof
} from '../../src/lib/core/chameleon.ts';
import type { ConsensusGroup } from '../../src/lib/core/consensus/group.ts';
import { isEpochEnd, type Handover } from '../../src/lib/core/consensus/membership.ts';
import {
	DEV_INSTITUTION_NAMES,
	devGenesis,
	devInstitution,
	type DevInstitution
} from '../../tests/fixtures/genesis-dev.ts';
import { genesisHash, type GenesisConfig } from '../../src/lib/core/genesis.ts';
import { encodeAttachment, type Attachment } from '../../src/lib/core/gossip.ts';
import { generateSigningKey, type SigningKeyPair } from '../../src/lib/core/identity.ts';
import { keyblockHash, sealKeyblock, type KeyblockHeader } from '../../src/lib/core/keyblock.ts';
import { initialLeafValue, leafMessage, type LeafEntry } from '../../src/lib/core/patient-block.ts';
import { batchHash, encodePin, pinnedBatchId, type PinnedBatch } from '../../src/lib/core/pinning.ts';
import { meetsTarget, powHash } from '../../src/lib/core/pow.ts';
import {
	signTransaction,
	transactionId,
	type MedicalBody,
	type RegisterBody,
	type Transaction
} from '../../src/lib/core/transaction.ts';
import { loadVerificationKey } from '../../src/lib/crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../../src/lib/crypto/batch-verifier.ts';
import { proveCollision, proveHash, type ChameleonProver } from '../../src/lib/crypto/chameleon-prover.ts';
import { createNodeProver } from '../../src/lib/crypto/prover.node.ts';
import type { VerificationKey } from '../../src/lib/crypto/verification-key.ts';
import { MiningKernel } from '../../src/lib/mining/kernel.ts';
import { ChainState } from '../../src/lib/runtime/chain-state.ts';
import { encodeFact, type ChainFact } from '../../src/lib/runtime/chain-fact.ts';
import { genesisGroup } from '../../src/lib/runtime/genesis-group.ts';
import { HandoverAgreement } from '../../src/lib/runtime/membership-handover.ts';
import { MemoryStore } from '../../src/lib/store/memory-store.ts';
import { nextHeaderBase } from '../../tests/fixtures/chain.ts';
import { certify } from '../../tests/fixtures/pins.ts';
import { encodeJournal, readJournal, type JournalFact } from './journal.ts';

/** Bump when the generator changes what it builds: the cache key holds it (and the genesis hash). */
export const CHAIN_VERSION = 'sync-bench-2';

export interface ChainParams {
	keyblocks: number;
	registersPerKeyblock: number;
	/** A pinned batch (and its attachments) every this many keyblock rounds. */
	batchEvery: number;
	attachmentsPerBatch: number;
	entriesPerAttachment: number;
	/** Distinct proven record statements per institution (re-randomised across the transactions). */
	recordStatements: number;
}

export const FULL: ChainParams = {
	keyblocks: 1000,
	registersPerKeyblock: 10,
	batchEvery: 5,
	attachmentsPerBatch: 5,
	entriesPerAttachment: 100,
	recordStatements: 40
};

export const QUICK: ChainParams = {
	keyblocks: 50,
	registersPerKeyblock: 4,
	batchEvery: 5,
	attachmentsPerBatch: 5,
	entriesPerAttachment: 40,
	recordStatements: 2
};

export interface ChainCounts {
	keyblocks: number;
	patients: number;
	batches: number;
	handovers: number;
	attachments: number;
	/** Medical transactions, all pinned and attached. */
	transactions: number;
	/** Patients with records (one leaf each). */
	patientsWithRecords: number;
	/** Groth16 proofs proven for the fixture: record statements + one per leaf. */
	proven: number;
	/** Groth16 proofs on the chain: one per transaction + one per attachment. */
	proofsOnChain: number;
	/** Schnorr signatures on the chain: keyblocks, registers and medical transactions. */
	signatures: number;
	/** BLS certificates: keyblock pins, batch pins, hand-overs. */
	certificates: number;
	facts: number;
	bytes: number;
	/** Hashes the miners tried, in all. */
	hashes: number;
}

export interface BenchChain {
	params: ChainParams;
	counts: ChainCounts;
	/** Seconds the generation took (when this run made it), else the cached figure. */
	generationSeconds: number;
	cached: boolean;
	facts: JournalFact[];
	/** Where the journal file lies (the serving peer reads it). */
	journalFile: string;
}

const root = new URL('../..', import.meta.url).pathname;

function cacheDir(params: ChainParams, genesis: GenesisConfig): string {
	const shape = [
		params.keyblocks,
		params.registersPerKeyblock,
		params.batchEvery,
		params.attachmentsPerBatch,
		params.entriesPerAttachment,
		params.recordStatements
	].join('-');
	const key = `${CHAIN_VERSION}-${shape}-${bytesToHex(genesisHash(genesis)).slice(0, 16)}`;
	return join(root, 'node_modules/.cache/spchain-sync-bench', key);
}

// ---------------------------------------------------------------- proofs

/** One proven record statement and the state of its re-randomisation. */
interface PooledRecord {
	digest: Bytes;
	h: Bytes;
	a: Uint8Array;
	b: Uint8Array;
	c: Uint8Array;
	/** ρ·δ (G2) and ρ·A (G1), added once more at each use. */
	stepB: Uint8Array;
	stepC: Uint8Array;
}

/**
 * Groth16 re-randomisation: for any r, (A, B + r·δ, C + r·A) satisfies e(A,B) = e(α,β)·e(L,γ)·e(C,δ)
 * whenever (A, B, C) does, since e(A, r·δ) = e(r·A, δ). The k-th use takes r = k·ρ, a running sum.
 */
function rerandomise(curve: Bn128, pooled: PooledRecord): Bytes {
	pooled.b = curve.G2.add(pooled.b, pooled.stepB);
	pooled.c = curve.G1.add(pooled.c, pooled.stepC);
	const g1 = (p: Uint8Array) => curve.G1.toObject(curve.G1.toAffine(p)) as bigint[];
	const [ax, ay] = g1(pooled.a);
	const [cx, cy] = g1(pooled.c);
	const [bx, by] = curve.G2.toObject(curve.G2.toAffine(pooled.b)) as bigint[][];
	const proof: Groth16Proof = {
		a: [ax!, ay!],
		b: [
			[bx![0]!, bx![1]!],
			[by![0]!, by![1]!]
		],
		c: [cx!, cy!]
	};
	return encodeProof(proof);
}

function scalarLE(bytes: Uint8Array): Uint8Array {
	return Uint8Array.from(bytes).reverse();
}

async function proveRecordPool(
	prover: ChameleonProver,
	curve: Bn128,
	vkey: VerificationKey,
	institution: DevInstitution,
	count: number
): Promise<PooledRecord[]> {
	const delta = curve.G2.fromObject(vkey.vk_delta_2.map((c) => c.map(BigInt)));
	const pool: PooledRecord[] = [];
	for (let i = 0; i < count; i++) {
		// The content address of a double-encrypted record this clinic holds (the fixture's "ciphertext").
		const digest = sha256(utf8ToBytes(`sync bench record ${institution.institution.name} ${i}`));
		const { hash } = await proveHash(prover, messageFromDigest(digest), institution.institution.chameleonKey);
		const proof = decodeProof(hash.proof);
		const a = curve.G1.fromObject([...proof.a, 1n]);
		const rho = scalarLE(crypto.getRandomValues(new Uint8Array(16)));
		pool.push({
			digest,
			h: hash.h,
			a,
			b: curve.G2.fromObject([...proof.b, [1n, 0n]]),
			c: curve.G1.fromObject([...proof.c, 1n]),
			stepB: curve.G2.timesScalar(delta, rho),
			stepC: curve.G1.timesScalar(a, rho)
		});
	}
	return pool;
}

// ---------------------------------------------------------------- generation

function patientKeys(n: number): SigningKeyPair {
	return generateSigningKey(sha512(utf8ToBytes(`spchain sync bench patient ${n}`)).slice(0, 48));
}

/** Keyblocks 1..40 40 s apart (the target eases ×4 at each retarget), then 10 s apart. */
function timestampOf(genesis: GenesisConfig, height: number): number {
	const slow = Math.min(height, 40);
	return (
		genesis.timestamp + slow * 4 * genesis.keyblockIntervalMs + (height - slow) * genesis.keyblockIntervalMs
	);
}

function mine(kernel: MiningKernel, base: Omit<KeyblockHeader, 'nonce'>): { nonce: bigint; hashes: number } {
	kernel.setJob({ prefix64: concatBytes(base.prev, base.penu), minerKey: base.miner, target: base.target });
	const chunk = 1 << 20;
	for (let start = 0n; ; start += BigInt(chunk)) {
		const { nonce, hashesDone } = kernel.search(start, chunk);
		if (nonce !== null) {
			if (!meetsTarget(powHash(base.prev, base.penu, nonce, base.miner), base.target))
				throw new Error('the mining kernel returned a nonce that does not meet the target');
			return { nonce, hashes: Number(start) + hashesDone };
		}
	}
}

export function describeParams(p: ChainParams): string {
	const batches = Math.floor((p.keyblocks + 1) / p.batchEvery);
	const txs = batches * p.attachmentsPerBatch * p.entriesPerAttachment;
	return (
		`${p.keyblocks.toLocaleString('en')} keyblocks, ` +
		`${(p.keyblocks * p.registersPerKeyblock).toLocaleString('en')} patients, ` +
		`${txs.toLocaleString('en')} medical transactions`
	);
}

async function generate(
	params: ChainParams,
	log: (line: string) => void
): Promise<Omit<BenchChain, 'journalFile'>> {
	const started = performance.now();
	const genesis = devGenesis();
	const devs = DEV_INSTITUTION_NAMES.map(devInstitution);
	const devById = new Map(devs.map((d) => [bytesToHex(d.institution.id), d]));
	const signersOf = (group: ConsensusGroup) => group.members.map((m) => devById.get(bytesToHex(m.id))!);
	const chain = await ChainState.open({
		genesis,
		store: new MemoryStore(),
		group: genesisGroup(genesis),
		// Attachments never pass through this ChainState (see the header): nothing to verify here.
		verifier: { verifyAll: async (statements) => statements.map(() => true) }
	});
	const handovers = new HandoverAgreement({ chain, driverFor: () => null, publish: async () => {} });
	const facts: JournalFact[] = [];
	const apply = async (fact: ChainFact) => {
		if ((await chain.apply(fact)) !== 'applied')
			throw new Error(`the generator's ${fact.type} was not applied`);
		facts.push({ type: fact.type, bytes: encodeFact(fact) });
	};
	const counts: ChainCounts = {
		keyblocks: 0,
		patients: 0,
		batches: 0,
		handovers: 0,
		attachments: 0,
		transactions: 0,
		patientsWithRecords: 0,
		proven: 0,
		proofsOnChain: 0,
		signatures: 0,
		certificates: 0,
		facts: 0,
		bytes: 0,
		hashes: 0
	};

	const prover = await createNodeProver();
	const vkey = await loadVerificationKey();
	const curve = await snarkjs.curves.getCurveFromName('bn128');
	const kernel = await MiningKernel.load();
	try {
		const t0 = performance.now();
		const pools = new Map<string, { records: PooledRecord[]; next: number }>();
		for (const dev of devs) {
			const records = await proveRecordPool(prover, curve, vkey, dev, params.recordStatements);
			pools.set(bytesToHex(dev.institution.id), { records, next: 0 });
			counts.proven += records.length;
		}
		log(
			`  proved ${counts.proven} record statements (${params.recordStatements} per institution) in ` +
				`${((performance.now() - t0) / 1000).toFixed(1)} s`
		);
		// A sample of re-randomised proofs through the real verifier, before hours go into a bad chain.
		const verifier = await Groth16BatchVerifier.create(vkey);
		const sample = [...pools.entries()].flatMap(([id, pool]) =>
			pool.records.slice(0, 2).map((record) => ({
				hk: devById.get(id)!.institution.chameleonKey,
				m: messageFromDigest(record.digest),
				hash: { h: record.h, proof: rerandomise(curve, record) }
			}))
		);
		if (!(await verifier.verifyAll(sample)).every(Boolean))
			throw new Error('a re-randomised proof does not verify');

		const patients: SigningKeyPair[] = [];
		const registeredAt: number[] = [];
		let attachmentIndex = 0;
		const loopStarted = performance.now();
		let lastLog = loopStarted;
		for (let height = 1; height <= params.keyblocks; height++) {
			// ---- keyblock: new patients' registers, real PoW, pinned by the epoch's group
			const registers: Transaction<RegisterBody>[] = [];
			for (let i = 0; i < params.registersPerKeyblock; i++) {
				const n = patients.length;
				const keys = patientKeys(n);
				patients.push(keys);
				registeredAt.push(height);
				registers.push(
					signTransaction<RegisterBody>(
						{
							kind: 'register',
							patient: keys.publicKey,
							institution: devs[n % devs.length]!.institution.id,
							round: height,
							fees: genesis.fees.register,
							identity: sha256(utf8ToBytes(`sync bench identity commitment ${n}`))
						},
						keys.secretKey
					)
				);
			}
			const group = chain.groupFor(height)!;
			const miner = signersOf(group)[(height - 1) % group.size]!;
			const base = nextHeaderBase(
				chain.ledger,
				miner.institution.id,
				registers,
				timestampOf(genesis, height)
			);
			const { nonce, hashes } = mine(kernel, base);
			counts.hashes += hashes;
			const sealed = sealKeyblock({ ...base, nonce }, registers, miner.secrets.signingKey);
			const pin = certify(group, signersOf(group), 'keyblock', height, keyblockHash(sealed.header));
			await apply({ type: 'keyblock', block: { ...sealed, pin: encodePin(pin) } });
			counts.keyblocks++;
			counts.patients += registers.length;
			counts.signatures += 1 + registers.length;
			counts.certificates++;

			// ---- hand-over at the epoch's end: the group the members rank, certified by the outgoing group
			if (isEpochEnd(height, chain.membershipParams) && height < params.keyblocks) {
				const epoch = chain.epochs;
				const incoming = handovers.incomingGroup(epoch);
				const outgoing = chain.groupOfEpoch(epoch - 1)!;
				const handover: Handover = {
					epoch,
					members: [...incoming.members],
					certificate: certify(outgoing, signersOf(outgoing), 'membership', epoch, incoming.hash)
				};
				await apply({ type: 'handover', handover });
				counts.handovers++;
				counts.certificates++;
			}

			// ---- a pinned batch of medical transactions, then the attachments behind their leaves
			// Rounds batchEvery − 1, 2·batchEvery − 1, …: the journal ends with a keyblock, so a node at the
			// last height holds every fact (journal order).
			if (height % params.batchEvery === params.batchEvery - 1) {
				const leaves: { patient: SigningKeyPair; author: DevInstitution; txs: Transaction<MedicalBody>[] }[] =
					[];
				for (let a = 0; a < params.attachmentsPerBatch; a++, attachmentIndex++) {
					const patient = patients[attachmentIndex];
					if (!patient || registeredAt[attachmentIndex]! > height)
						throw new Error('the parameters give records to a patient not registered yet');
					const author = devs[attachmentIndex % devs.length]!;
					const pool = pools.get(bytesToHex(author.institution.id))!;
					const txs: Transaction<MedicalBody>[] = [];
					for (let e = 0; e < params.entriesPerAttachment; e++) {
						const record = pool.records[pool.next++ % pool.records.length]!;
						const chameleon: ChameleonHash = { h: record.h, proof: rerandomise(curve, record) };
						txs.push(
							signTransaction<MedicalBody>(
								{
									kind: 'medical',
									patient: patient.publicKey,
									institution: author.institution.id,
									round: height,
									fees: genesis.fees.medical,
									record: { chameleon, pointer: { digest: record.digest, holder: author.institution.id } }
								},
								patient.secretKey
							)
						);
					}
					leaves.push({ patient, author, txs });
				}
				const sequence = chain.batchCount + 1;
				const batchGroup = chain.groupForBatch(sequence)!;
				const batch = {
					round: height,
					institution: batchGroup.members[(sequence - 1) % batchGroup.size]!.id,
					transactions: leaves.flatMap((leaf) => leaf.txs.map((tx) => transactionId(tx.body)))
				};
				const pinned: PinnedBatch = {
					sequence,
					batch,
					certificate: certify(batchGroup, signersOf(batchGroup), 'transactions', sequence, batchHash(batch))
				};
				await apply({ type: 'batch', pinned });
				counts.batches++;
				counts.certificates++;
				const pin = pinnedBatchId(pinned);
				for (const { patient, author, txs } of leaves) {
					const { id, chameleonKey } = author.institution;
					const entries: LeafEntry[] = txs.map((tx) => ({ tx, pin }));
					const { hash } = await proveCollision(
						prover,
						{
							x: author.secrets.trapdoor,
							X: chameleonKey,
							h: initialLeafValue(patient.publicKey, id),
							m: leafMessage(patient.publicKey, id, []),
							r: 0n
						},
						leafMessage(
							patient.publicKey,
							id,
							txs.map((tx) => transactionId(tx.body))
						)
					);
					const attachment: Attachment = {
						patient: patient.publicKey,
						institution: id,
						entries,
						leafProof: hash.proof
					};
					facts.push({ type: 'attachment', bytes: encodeAttachment(attachment) });
					// The generator's own ledger sees the records (for the hand-over ranking), unverified: it made them.
					const block = chain.ledger.patientBlock(patient.publicKey)!;
					const leafIndex = block.leaves.findIndex((l) => equalBytes(l.institution, id));
					block.leaves[leafIndex] = { institution: id, entries, proof: hash.proof };
					counts.attachments++;
					counts.proven++;
					counts.transactions += txs.length;
					counts.signatures += txs.length;
					counts.proofsOnChain += txs.length + 1;
				}
			}
			if (performance.now() - lastLog > 30_000 || height === params.keyblocks) {
				lastLog = performance.now();
				const elapsed = (performance.now() - started) / 1000;
				const perKeyblock = (performance.now() - loopStarted) / 1000 / height;
				log(
					`  keyblock ${height}/${params.keyblocks}, ${counts.transactions.toLocaleString('en')} transactions, ` +
						`${elapsed.toFixed(0)} s, about ${(perKeyblock * (params.keyblocks - height)).toFixed(0)} s to go`
				);
			}
		}
	} finally {
		await prover.close();
	}
	counts.patientsWithRecords = counts.attachments;
	counts.facts = facts.length;
	counts.bytes = facts.reduce((sum, f) => sum + f.bytes.length, 0);
	return { params, counts, generationSeconds: (performance.now() - started) / 1000, cached: false, facts };
}

/** The chain for `params`: from the cache, or generated (and cached) now. */
export async function benchChain(params: ChainParams, log: (line: string) => void): Promise<BenchChain> {
	const dir = cacheDir(params, devGenesis());
	const journalFile = join(dir, 'journal.bin');
	const metaFile = join(dir, 'meta.json');
	if (existsSync(journalFile) && existsSync(metaFile)) {
		const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as {
			counts: ChainCounts;
			generationSeconds: number;
		};
		const facts = readJournal(journalFile);
		if (facts.length === meta.counts.facts)
			return {
				params,
				counts: meta.counts,
				generationSeconds: meta.generationSeconds,
				cached: true,
				facts,
				journalFile
			};
	}
	log(`generating the chain (${describeParams(params)}); cached for later runs in ${dir}`);
	const chain = await generate(params, log);
	mkdirSync(dir, { recursive: true });
	writeFileSync(`${journalFile}.tmp`, encodeJournal(chain.facts));
	renameSync(`${journalFile}.tmp`, journalFile);
	writeFileSync(
		metaFile,
		JSON.stringify(
			{ version: CHAIN_VERSION, params, counts: chain.counts, generationSeconds: chain.generationSeconds },
			null,
			'\t'
		)
	);
	return { ...chain, journalFile };
}
