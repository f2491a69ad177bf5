/**
 * What a light client (a patient's phone) checks instead of the whole chain: that a record of its own
 * patient block was pinned by the consensus group, from the batch's summary and a Merkle path.
 *
 * A pinned batch's certificate signs batchHashOf(round, institution, count, root of the transaction
 * ids) (pinning.ts), so a phone needs, per batch, only that summary and the certificate (a
 * `BatchHeader`, ~300 bytes, whatever the batch's size) and, per record, the path from its transaction
 * id to the root (`InclusionProof`, 32 bytes a level). An entry names its batch by pinnedBatchIdOf
 * (sequence, batch hash), which the header gives too. Which group signs which batch, and its hand-overs,
 * the light client follows as full nodes do (runtime/light-client.ts).
 */
import { equalBytes, type Bytes } from './bytes.ts';
import { encodeCertificate, verifyCertificate, type Certificate } from './certificate.ts';
import type { ConsensusGroup } from './consensus/group.ts';
import { decodeCanonical, encodeCanonical } from './encoding.ts';
import { ensure } from './errors.ts';
import { HASH_LENGTH } from './hash.ts';
import { merkleProof, merkleRoot, rootFromProof, type MerkleStep } from './merkle.ts';
import {
	batchHashOf,
	decodePin,
	MAX_BATCH_TRANSACTIONS,
	MAX_CERTIFICATE_BYTES,
	pinnedBatchIdOf,
	type PinnedBatch
} from './pinning.ts';
import * as read from './schema.ts';

/** A pinned batch without its transaction ids. */
export interface BatchHeader {
	sequence: number;
	round: number;
	institution: Bytes;
	count: number;
	root: Bytes;
	certificate: Certificate;
}

/** Where one transaction id sits in a pinned batch. */
export interface InclusionProof {
	sequence: number;
	path: MerkleStep[];
}

/** A Merkle path is at most this long (the tree over MAX_BATCH_TRANSACTIONS ids). */
const MAX_PATH = Math.ceil(Math.log2(MAX_BATCH_TRANSACTIONS));

export function batchHeaderOf(pinned: PinnedBatch): BatchHeader {
	return {
		sequence: pinned.sequence,
		round: pinned.batch.round,
		institution: pinned.batch.institution,
		count: pinned.batch.transactions.length,
		root: merkleRoot(pinned.batch.transactions),
		certificate: pinned.certificate
	};
}

/** The id entries use to name this batch (pinning.ts pinnedBatchId, from the header alone). */
export function batchIdOf(header: BatchHeader): Bytes {
	return pinnedBatchIdOf(header.sequence, batchHashOf(header));
}

/** Throws ValidationError unless `group` certified this header's batch at its sequence. */
export function verifyBatchHeader(header: BatchHeader, group: ConsensusGroup): void {
	verifyCertificate(header.certificate, group, {
		kind: 'transactions',
		height: header.sequence,
		value: batchHashOf(header)
	});
}

/** The path a full node sends for `txId` of `pinned` (throws if the batch does not hold it). */
export function proveInclusion(pinned: PinnedBatch, txId: Bytes): InclusionProof {
	const index = pinned.batch.transactions.findIndex((id) => equalBytes(id, txId));
	ensure(index >= 0, 'tx-unpinned', 'this batch does not hold the transaction');
	return { sequence: pinned.sequence, path: merkleProof(pinned.batch.transactions, index) };
}

/** Throws ValidationError unless `proof` places `txId` in the batch `header` summarises. */
export function verifyInclusion(txId: Bytes, proof: InclusionProof, header: BatchHeader): void {
	ensure(
		proof.sequence === header.sequence,
		'inclusion-batch',
		`the proof is for batch ${proof.sequence}, not ${header.sequence}`
	);
	ensure(proof.path.length <= MAX_PATH, 'inclusion-path', 'the Merkle path is longer than any batch');
	ensure(
		equalBytes(rootFromProof(txId, proof.path), header.root),
		'inclusion-root',
		'the transaction is not in the pinned batch (its path leads to another root)'
	);
}

export function encodeBatchHeader(header: BatchHeader): Bytes {
	return encodeCanonical({
		sequence: header.sequence,
		round: header.round,
		institution: header.institution,
		count: header.count,
		root: header.root,
		certificate: encodeCertificate(header.certificate)
	});
}

export function decodeBatchHeader(bytes: Bytes): BatchHeader {
	const where = 'batchHeader';
	const r = read.object(decodeCanonical(bytes), where, [
		'sequence',
		'round',
		'institution',
		'count',
		'root',
		'certificate'
	]);
	return {
		sequence: read.uint(r.sequence, `${where}.sequence`),
		round: read.uint(r.round, `${where}.round`),
		institution: read.bytes(r.institution, `${where}.institution`, 32),
		count: read.uint(r.count, `${where}.count`, MAX_BATCH_TRANSACTIONS),
		root: read.bytes(r.root, `${where}.root`, HASH_LENGTH),
		certificate: decodePin(read.bytes(r.certificate, `${where}.certificate`, { max: MAX_CERTIFICATE_BYTES }))
	};
}

export function encodeInclusionProof(proof: InclusionProof): Bytes {
	return encodeCanonical({
		sequence: proof.sequence,
		path: proof.path.map((step) => ({ sibling: step.sibling, left: step.left ? 1 : 0 }))
	});
}

export function decodeInclusionProof(bytes: Bytes): InclusionProof {
	const where = 'inclusionProof';
	const r = read.object(decodeCanonical(bytes), where, ['sequence', 'path']);
	return {
		sequence: read.uint(r.sequence, `${where}.sequence`),
		path: read.array(r.path, `${where}.path`, MAX_PATH, (value, w) => {
			const step = read.object(value, w, ['sibling', 'left']);
			return {
				sibling: read.bytes(step.sibling, `${w}.sibling`, HASH_LENGTH),
				left: read.uint(step.left, `${w}.left`, 1) === 1
			};
		})
	};
}
