/**
 * Pinned blocks (section 5.1.2, Fig. 7, after RepuCoin): what the consensus group's certificates make final.
 *
 * - Pinned keyblock: a certificate of kind 'keyblock' over a keyblock hash at a height. A pinned keyblock
 *   is final and canonical; any keyblock that conflicts with it (another block at the pinned height, or a
 *   block at the next height that does not extend the pinned one) is invalid. This is what defeats
 *   selfish mining (section 6.2.2): a withheld branch can never overtake a pin.
 * - Pinned transactions: institutions collect the transactions patients send them and submit them to the
 *   group (table B of Algorithm 2). The proposer of a consensus round, itself an institution, proposes an
 *   ordered batch selected by Algorithm 2 (selection.ts); members verify every transaction and the
 *   fairness of the selection, and certify the batch hash (kind 'transactions', the height being the
 *   batch's sequence number in the transaction consensus). Each institution then appends its own pinned
 *   transactions to its patients' microblocks. The hash commits to the Merkle root of the transaction ids,
 *   so a patient block proves one transaction was pinned with a Merkle path and the certificate, without
 *   the whole batch. A transaction id is pinned at most once.
 */
import { bytesToHex, equalBytes, type Bytes } from './bytes.ts';
import { CborWalker, mapKeys, MAJOR_ARRAY, MAJOR_UINT } from './cbor-walk.ts';
import { decodeCertificate, encodeCertificate, verifyCertificate, type Certificate } from './certificate.ts';
import type { ConsensusGroup } from './consensus/group.ts';
import {
	decodeCanonical,
	decodeVerifiedCanonical,
	encodeCanonical,
	type CanonicalDecoder
} from './encoding.ts';
import { ensure, ValidationError } from './errors.ts';
import { HASH_LENGTH, taggedHash } from './hash.ts';
import { merkleRoot } from './merkle.ts';
import * as read from './schema.ts';
import { bucketOf } from './transaction-index.ts';

/** Bound on an encoded certificate (BLS aggregate, bitmap and fields are a few hundred bytes). */
export const MAX_CERTIFICATE_BYTES = 4096;
/** Upper bound on transactions in one pinned batch (T_m of Algorithm 2 is configured below this). */
export const MAX_BATCH_TRANSACTIONS = 65_536;

// --- Pinned keyblocks ---------------------------------------------------------------------------------

export interface KeyblockPin {
	height: number;
	keyblockHash: Bytes;
}

/** Where a keyblock sits: enough to test it against a pin. */
export interface KeyblockPosition {
	height: number;
	hash: Bytes;
	/** prev_keyblock_hash. */
	prev: Bytes;
}

/**
 * The pure rule: true when `candidate` cannot be on the same chain as the pinned keyblock, judged from
 * the candidate's own position (another block at the pinned height, or a child of something else).
 * Deeper descendants conflict through their ancestors; chain code applies the rule along the branch.
 */
export function isConflictingWithPin(candidate: KeyblockPosition, pin: KeyblockPin): boolean {
	if (candidate.height === pin.height) return !equalBytes(candidate.hash, pin.keyblockHash);
	if (candidate.height === pin.height + 1) return !equalBytes(candidate.prev, pin.keyblockHash);
	return false;
}

/** Throws 'keyblock-conflicts-pin' when the candidate conflicts with any of the pins. */
export function assertNotConflictingWithPins(candidate: KeyblockPosition, pins: Iterable<KeyblockPin>): void {
	for (const pin of pins)
		ensure(
			!isConflictingWithPin(candidate, pin),
			'keyblock-conflicts-pin',
			`keyblock ${bytesToHex(candidate.hash).slice(0, 16)}… at height ${candidate.height} conflicts with the keyblock pinned at height ${pin.height}`
		);
}

/** Verifies that `certificate` pins keyblock `keyblockHash` at `height` in `group`. */
export function verifyKeyblockPin(certificate: Certificate, pin: KeyblockPin, group: ConsensusGroup): void {
	verifyCertificate(certificate, group, { kind: 'keyblock', height: pin.height, value: pin.keyblockHash });
}

/** The bytes stored in a keyblock's `pin` field. */
export function encodePin(certificate: Certificate): Bytes {
	return encodeCertificate(certificate);
}

export function decodePin(bytes: Bytes): Certificate {
	ensure(bytes.length <= MAX_CERTIFICATE_BYTES, 'pin-size', 'pin certificate too large');
	return decodeCertificate(bytes);
}

// --- Pinned transactions ------------------------------------------------------------------------------

export interface TransactionBatch {
	/** The keyblock round r the transactions belong to (patients append r, section 5.1.2). */
	round: number;
	/** The institution that proposed the batch (the round's proposer). */
	institution: Bytes;
	/** Transaction ids in the order they will be appended. */
	transactions: Bytes[];
}

function checkBatch(batch: TransactionBatch): void {
	ensure(Number.isSafeInteger(batch.round) && batch.round >= 0, 'batch-round', 'batch round must be ≥ 0');
	ensure(batch.institution.length === 32, 'batch-institution', 'batch institution id must be 32 bytes');
	ensure(batch.transactions.length > 0, 'batch-empty', 'a batch pins at least one transaction');
	ensure(
		batch.transactions.length <= MAX_BATCH_TRANSACTIONS,
		'batch-size',
		`a batch holds at most ${MAX_BATCH_TRANSACTIONS} transactions`
	);
	// Ids by their first 30 bits first (a restart decodes 100,000s): only if two share them, by hex.
	const buckets = new Set<number>();
	for (const id of batch.transactions) {
		ensure(id.length === HASH_LENGTH, 'batch-transaction-id', 'transaction ids are 32-byte hashes');
		const bucket = bucketOf(id);
		if (buckets.has(bucket)) return checkDistinct(batch.transactions);
		buckets.add(bucket);
	}
}

function checkDistinct(ids: readonly Bytes[]): void {
	const seen = new Set<string>();
	for (const id of ids) {
		const key = bytesToHex(id);
		ensure(!seen.has(key), 'batch-duplicate', `transaction ${key.slice(0, 16)}… appears twice in the batch`);
		seen.add(key);
	}
}

/** The value the group agrees on for a batch: commits to round, institution and the ids' Merkle root. */
export function batchHash(batch: TransactionBatch): Bytes {
	checkBatch(batch);
	return batchHashOf({
		round: batch.round,
		institution: batch.institution,
		count: batch.transactions.length,
		root: merkleRoot(batch.transactions)
	});
}

/** The batch hash from the batch's summary: what a light client holds instead of every id (light-proof.ts). */
export function batchHashOf(summary: {
	round: number;
	institution: Bytes;
	count: number;
	root: Bytes;
}): Bytes {
	const { round, institution, count, root } = summary;
	return taggedHash('spchain/transaction-batch', encodeCanonical({ round, institution, count, root }));
}

export interface PinnedBatch {
	/** Sequence number of the batch in the transaction consensus (the certificate's height). */
	sequence: number;
	batch: TransactionBatch;
	certificate: Certificate;
}

/**
 * What a leaf entry names as the pin of its transaction: the decided batch (sequence and batch hash),
 * not a certificate. Nodes hold different certificates of one decided batch (another quorum of signers,
 * another round, so another aggregate), and an entry must mean the same on all of them.
 */
export function pinnedBatchId(pinned: Pick<PinnedBatch, 'sequence' | 'batch'>): Bytes {
	return pinnedBatchIdOf(pinned.sequence, batchHash(pinned.batch));
}

export function pinnedBatchIdOf(sequence: number, batchHash: Bytes): Bytes {
	return taggedHash('spchain/pinned-batch', encodeCanonical({ sequence, batch: batchHash }));
}

export function verifyPinnedBatch(pinned: PinnedBatch, group: ConsensusGroup): void {
	verifyCertificate(pinned.certificate, group, {
		kind: 'transactions',
		height: pinned.sequence,
		value: batchHash(pinned.batch)
	});
}

export function encodePinnedBatch(pinned: PinnedBatch): Bytes {
	return encodeCanonical({
		sequence: pinned.sequence,
		round: pinned.batch.round,
		institution: pinned.batch.institution,
		transactions: pinned.batch.transactions,
		certificate: encodeCertificate(pinned.certificate)
	});
}

/** `decode`: decodeVerifiedCanonical only for bytes from the node's own verified journal. */
export function decodePinnedBatch(bytes: Bytes, decode: CanonicalDecoder = decodeCanonical): PinnedBatch {
	const where = 'pinnedBatch';
	const r = read.object(decode(bytes), where, [
		'sequence',
		'round',
		'institution',
		'transactions',
		'certificate'
	]);
	const batch: TransactionBatch = {
		round: read.uint(r.round, `${where}.round`),
		institution: read.bytes(r.institution, `${where}.institution`, 32),
		transactions: read.array(r.transactions, `${where}.transactions`, MAX_BATCH_TRANSACTIONS, (v, w) =>
			read.bytes(v, w, HASH_LENGTH)
		)
	};
	checkBatch(batch);
	return {
		sequence: read.uint(r.sequence, `${where}.sequence`),
		batch,
		certificate: decodePin(read.bytes(r.certificate, `${where}.certificate`, { max: MAX_CERTIFICATE_BYTES }))
	};
}

const PINNED_BATCH = mapKeys('sequence', 'round', 'institution', 'transactions', 'certificate');

/**
 * decodePinnedBatch for bytes of the node's own verified journal (runtime/verified-journal.ts), read
 * without cborg's token object per id (cbor-walk.ts; a restart reads 100,000s of ids). The batch's own
 * checks (sizes, distinct ids) and the certificate's decoding still run. Bytes the walk does not expect
 * are decoded in full, so they fail as decodePinnedBatch fails.
 */
export function decodeVerifiedPinnedBatch(bytes: Bytes): PinnedBatch {
	let fields: (number | Bytes | Bytes[] | undefined)[];
	try {
		fields = walkPinnedBatch(bytes);
	} catch (error) {
		if (error instanceof ValidationError) return decodePinnedBatch(bytes, decodeVerifiedCanonical);
		throw error;
	}
	const [sequence, round, institution, transactions, certificate] = fields as [
		number,
		number,
		Bytes,
		Bytes[],
		Bytes
	];
	const batch: TransactionBatch = { round, institution, transactions };
	checkBatch(batch);
	return { sequence, batch, certificate: decodePin(certificate) };
}

/** The five fields of an encoded pinned batch, in PINNED_BATCH's order (each present exactly once). */
function walkPinnedBatch(bytes: Bytes): (number | Bytes | Bytes[] | undefined)[] {
	const walk = new CborWalker(bytes, 'pinned batch');
	const fields: (number | Bytes | Bytes[] | undefined)[] = new Array(PINNED_BATCH.length);
	walk.map(PINNED_BATCH, (key) => {
		if (key < 0 || fields[key] !== undefined) walk.fail('unknown or repeated field');
		if (key <= 1) fields[key] = walk.expect(MAJOR_UINT);
		else if (key !== 3) fields[key] = walk.bytesItem();
		else {
			const ids = new Array<Bytes>(walk.expect(MAJOR_ARRAY));
			for (let i = 0; i < ids.length; i++) ids[i] = walk.bytesItem();
			fields[key] = ids;
		}
	});
	if (walk.at !== bytes.length) walk.fail('trailing bytes');
	if (fields.includes(undefined)) walk.fail('missing field');
	return fields;
}
