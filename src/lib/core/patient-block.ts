/**
 * Patient blocks (paper §5.1.2, Figs. 4 and 5): each patient has one and only one microblock, holding the
 * patient's whole record at every institution, so a history is one lookup, not a scan of blocks.
 *
 * Header: patient, register transaction, round, the keyblock of that round, the previous microblock
 * (microblocks form a chain in the order of the register transactions), and the institution root: a
 * Merkle tree over one leaf per consortium institution. Each leaf's value is a chameleon hash
 * h = m·G + r·X under that institution's key X, where m is derived from the leaf's content (the ids of the
 * transactions attached behind it, in chronological order).
 *
 * At creation every leaf is empty and r = 0, so h₀ = m₀·G: anyone can compute it, which makes the block
 * a deterministic function of its keyblock (the paper's "reputable miner commits microblocks" reduces to
 * everyone deriving the same bytes). To attach a pinned transaction, the institution computes, with its
 * trapdoor x, r' = (m₀ − m')·x⁻¹ so that m'·G + r'·X = h₀, and publishes a proof of knowledge of r'. The
 * leaf value, the root and the block hash never change; verifiers check the proof for the new content.
 * r' is never published, so collisions do not expose x (docs/chameleon-hash.md).
 */
import { bytesToHex, equalBytes, type Bytes } from './bytes.ts';
import { initialLeafHash, messageFromDigest, type ChameleonStatement } from './chameleon.ts';
import { decodeCanonical, encodeCanonical, type Canonical } from './encoding.ts';
import { ensure } from './errors.ts';
import { HASH_LENGTH, taggedHash } from './hash.ts';
import { PUBLIC_KEY_LENGTH, type Institution, type PublicKey } from './identity.ts';
import { keyblockHash, type Keyblock } from './keyblock.ts';
import { merkleRoot } from './merkle.ts';
import * as read from './schema.ts';
import {
	MAX_PROOF_LENGTH,
	readTransaction,
	transactionId,
	transactionToCanonical,
	type RecordBody,
	type Transaction
} from './transaction.ts';

/** Bound on the transactions attached behind one institution's leaf (per patient). */
export const MAX_ENTRIES_PER_LEAF = 4096;

export interface PatientBlockHeader {
	patient: PublicKey;
	/** Id of the register transaction that created this block. */
	register: Bytes;
	/** The round (keyblock height) it was created in. */
	round: number;
	keyblock: Bytes;
	/** Previous microblock in chain order (or the microblock tip before this round). */
	prev: Bytes;
	institutionRoot: Bytes;
}

/** A pinned record transaction attached behind a leaf, with the id of the batch that pinned it (pinning.ts). */
export interface LeafEntry {
	tx: Transaction<RecordBody>;
	pin: Bytes;
}

/** What sits behind one institution's leaf: its entries and the proof that the leaf hash still opens to them. */
export interface LeafRecord {
	institution: PublicKey;
	entries: LeafEntry[];
	/** Proof of knowledge of r for (h₀, X, m(entries)); absent while the leaf is empty (r = 0 is public). */
	proof?: Bytes;
}

export interface PatientBlock {
	header: PatientBlockHeader;
	/** One per consortium institution, in genesis order. */
	leaves: LeafRecord[];
}

// ---------------------------------------------------------------- hashing

export function patientBlockHash(header: PatientBlockHeader): Bytes {
	return taggedHash('spchain/patient-block', encodeCanonical({ ...header }));
}

/** Digest of a leaf's content; the chameleon message is this digest reduced into the scalar field. */
export function leafContentDigest(
	patient: PublicKey,
	institution: PublicKey,
	entryIds: readonly Bytes[]
): Bytes {
	return taggedHash(
		'spchain/leaf-content',
		encodeCanonical({ patient, institution, entries: [...entryIds] })
	);
}

export function leafMessage(patient: PublicKey, institution: PublicKey, entryIds: readonly Bytes[]): bigint {
	return messageFromDigest(leafContentDigest(patient, institution, entryIds));
}

/** h₀ for an institution's leaf of a new patient block. */
export function initialLeafValue(patient: PublicKey, institution: PublicKey): Bytes {
	return initialLeafHash(leafMessage(patient, institution, []));
}

function leafHash(institution: PublicKey, value: Bytes): Bytes {
	return taggedHash('spchain/institution-leaf', encodeCanonical({ institution, h: value }));
}

export function institutionRoot(patient: PublicKey, institutions: readonly Institution[]): Bytes {
	return merkleRoot(institutions.map((i) => leafHash(i.id, initialLeafValue(patient, i.id))));
}

// ---------------------------------------------------------------- creation

/**
 * What creating a keyblock's patient blocks computes, when a restart already knows it (derived when the
 * node verified the keyblock, runtime/verified-journal.ts): the keyblock's hash, and per register its
 * block's institution root, register transaction id and block hash. Each part may be missing.
 */
export interface KnownPatientBlocks {
	keyblockHash?: Bytes;
	institutionRoots?: readonly Bytes[];
	registerIds?: readonly Bytes[];
	blockHashes?: readonly Bytes[];
}

/**
 * The patient blocks of one round, in the order of the keyblock's register transactions, linked after
 * `microTip` (the last microblock before this round). Returns them and the new microblock tip.
 */
export function createPatientBlocks(
	keyblock: Keyblock,
	microTip: Bytes,
	institutions: readonly Institution[],
	known: KnownPatientBlocks = {}
): { blocks: PatientBlock[]; microTip: Bytes } {
	const kbHash = known.keyblockHash ?? keyblockHash(keyblock.header);
	const blocks: PatientBlock[] = [];
	let prev = microTip;
	for (const [i, register] of keyblock.registers.entries()) {
		const header: PatientBlockHeader = {
			patient: register.body.patient,
			register: known.registerIds?.[i] ?? transactionId(register.body),
			round: keyblock.header.height,
			keyblock: kbHash,
			prev,
			institutionRoot: known.institutionRoots?.[i] ?? institutionRoot(register.body.patient, institutions)
		};
		blocks.push({ header, leaves: institutions.map((i) => ({ institution: i.id, entries: [] })) });
		prev = known.blockHashes?.[i] ?? patientBlockHash(header);
	}
	return { blocks, microTip: prev };
}

// ---------------------------------------------------------------- encoding

function leafToCanonical(leaf: LeafRecord): { [key: string]: Canonical } {
	const out: { [key: string]: Canonical } = {
		institution: leaf.institution,
		entries: leaf.entries.map((e) => ({ tx: transactionToCanonical(e.tx), pin: e.pin }))
	};
	if (leaf.proof) out.proof = leaf.proof;
	return out;
}

export function encodePatientBlock(block: PatientBlock): Bytes {
	return encodeCanonical({ header: { ...block.header }, leaves: block.leaves.map(leafToCanonical) });
}

const HEADER_FIELDS = ['patient', 'register', 'round', 'keyblock', 'prev', 'institutionRoot'] as const;

export function readPatientBlockHeader(value: unknown, where = 'patientBlock.header'): PatientBlockHeader {
	const o = read.object(value, where, HEADER_FIELDS);
	return {
		patient: read.bytes(o.patient, `${where}.patient`, PUBLIC_KEY_LENGTH),
		register: read.bytes(o.register, `${where}.register`, HASH_LENGTH),
		round: read.uint(o.round, `${where}.round`, 2 ** 32 - 1),
		keyblock: read.bytes(o.keyblock, `${where}.keyblock`, HASH_LENGTH),
		prev: read.bytes(o.prev, `${where}.prev`, HASH_LENGTH),
		institutionRoot: read.bytes(o.institutionRoot, `${where}.institutionRoot`, HASH_LENGTH)
	};
}

function readLeaf(value: unknown, where: string): LeafRecord {
	const o = read.object(value, where, ['institution', 'entries'], ['proof']);
	const leaf: LeafRecord = {
		institution: read.bytes(o.institution, `${where}.institution`, PUBLIC_KEY_LENGTH),
		entries: read.array(o.entries, `${where}.entries`, MAX_ENTRIES_PER_LEAF, (v, w) => {
			const e = read.object(v, w, ['tx', 'pin']);
			const tx = readTransaction(e.tx, `${w}.tx`);
			ensure(
				tx.body.kind !== 'register',
				'leaf-entry',
				`${w} is a register transaction; only records attach to leaves`
			);
			return { tx: tx as Transaction<RecordBody>, pin: read.bytes(e.pin, `${w}.pin`, HASH_LENGTH) };
		})
	};
	if (o.proof !== undefined)
		leaf.proof = read.bytes(o.proof, `${where}.proof`, { min: 1, max: MAX_PROOF_LENGTH });
	return leaf;
}

export function decodePatientBlock(
	bytes: Bytes,
	maxInstitutions: number,
	maxBytes = 8 * 1024 * 1024
): PatientBlock {
	const o = read.object(decodeCanonical(bytes, maxBytes), 'patientBlock', ['header', 'leaves']);
	return {
		header: readPatientBlockHeader(o.header),
		leaves: read.array(o.leaves, 'patientBlock.leaves', maxInstitutions, readLeaf)
	};
}

// ---------------------------------------------------------------- rules

/**
 * Structural rules of a patient block against the consortium: one leaf per institution in genesis order,
 * entries that belong here (this patient, this institution, chronological rounds from the block's own on,
 * labels pointing at an earlier entry of the same leaf, no entry twice), a proof exactly when a leaf has
 * entries, and the header's institution root. Returns the chameleon statements to verify (batched by the
 * caller). Whether the header is the one the chain derived is received-patient-block.ts's check.
 */
export function checkPatientBlock(
	block: PatientBlock,
	institutions: readonly Institution[]
): ChameleonStatement[] {
	const { header } = block;
	ensure(
		block.leaves.length === institutions.length,
		'patient-leaves',
		'a patient block has one leaf per consortium institution'
	);
	ensure(
		equalBytes(header.institutionRoot, institutionRoot(header.patient, institutions)),
		'patient-root',
		'the institution root does not match the consortium'
	);
	const statements: ChameleonStatement[] = [];
	block.leaves.forEach((leaf, index) => {
		const institution = institutions[index]!;
		const where = `patient block leaf ${index} (${institution.name})`;
		ensure(
			equalBytes(leaf.institution, institution.id),
			'patient-leaves',
			`${where} names the wrong institution`
		);
		const ids = checkLeafEntries(leaf, header, where);
		if (leaf.entries.length === 0) {
			ensure(leaf.proof === undefined, 'patient-proof', `${where} is empty but carries a proof`);
			return;
		}
		ensure(leaf.proof !== undefined, 'patient-proof', `${where} has records but no proof`);
		statements.push({
			hk: institution.chameleonKey,
			m: leafMessage(header.patient, institution.id, ids),
			hash: { h: initialLeafValue(header.patient, institution.id), proof: leaf.proof }
		});
	});
	return statements;
}

function checkLeafEntries(leaf: LeafRecord, header: PatientBlockHeader, where: string): Bytes[] {
	const { patient } = header;
	const seen = new Map<string, RecordBody>();
	const labelled = new Set<string>();
	// Nothing is attached before the patient registered (the ledger's tx-round rule, kept by the block too).
	let round = header.round;
	return leaf.entries.map(({ tx }, k) => {
		const body = tx.body;
		const id = transactionId(body);
		const key = bytesToHex(id);
		ensure(!seen.has(key), 'leaf-duplicate', `${where}: entry ${k} appears twice`);
		ensure(
			equalBytes(body.patient, patient),
			'leaf-patient',
			`${where}: entry ${k} belongs to another patient`
		);
		ensure(
			equalBytes(body.institution, leaf.institution),
			'leaf-institution',
			`${where}: entry ${k} was sent to another institution`
		);
		ensure(body.round >= round, 'leaf-order', `${where}: entries are not in chronological order`);
		if (body.kind === 'label') {
			const target = bytesToHex(body.target);
			const original = seen.get(target);
			ensure(
				original !== undefined,
				'label-target',
				`${where}: label ${k} corrects a record that is not in this leaf`
			);
			ensure(
				!labelled.has(target),
				'label-twice',
				`${where}: the record corrected by label ${k} was already labelled`
			);
			ensure(
				equalBytes(original.record.chameleon.h, body.record.chameleon.h),
				'label-hash',
				`${where}: label ${k} must keep the chameleon hash of the record it corrects`
			);
			labelled.add(target);
		}
		round = body.round;
		seen.set(key, body);
		return id;
	});
}
