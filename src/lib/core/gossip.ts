/**
 * The payloads nodes exchange that are not already chain objects with their own codec (transactions,
 * keyblocks and consensus messages have theirs):
 *
 * - BatchProposal: the transactions behind a batch hash, published by the proposer of a transaction
 *   consensus height before it proposes the hash, so every member can verify each transaction
 *   (section 5.3 step (5)).
 * - Attachment: an institution appends pinned record transactions behind its leaf of a patient block,
 *   with the new proof that the unchanged leaf hash opens to the longer list (step (6)).
 * - ConsensusEnvelope: one gossip topic carries the messages of every consensus kind.
 *
 * Canonical CBOR with strict reading and size bounds, as everywhere in the core.
 */
import type { Bytes } from './bytes.ts';
import { CONSENSUS_KINDS, type ConsensusKind } from './certificate.ts';
import { MAX_CONSENSUS_MESSAGE_BYTES } from './consensus/messages.ts';
import { decodeHandover, encodeHandover, type Handover } from './consensus/membership.ts';
import { decodeCanonical, encodeCanonical, type CanonicalDecoder } from './encoding.ts';
import { ensure } from './errors.ts';
import { decodeEvidence, encodeEvidence, type EquivocationEvidence } from './evidence.ts';
import { HASH_LENGTH } from './hash.ts';
import { PUBLIC_KEY_LENGTH, type PublicKey } from './identity.ts';
import { MAX_ENTRIES_PER_LEAF, type LeafEntry } from './patient-block.ts';
import {
	batchHash,
	decodePinnedBatch,
	encodePinnedBatch,
	type PinnedBatch,
	type TransactionBatch
} from './pinning.ts';
import * as read from './schema.ts';
import {
	MAX_PROOF_LENGTH,
	MAX_TRANSACTION_BYTES,
	readTransaction,
	transactionId,
	transactionToCanonical,
	type RecordBody,
	type Transaction
} from './transaction.ts';

/** Transactions one proposal may carry: bounds decoding memory (≈ 2 MB at the transaction size bound). */
export const MAX_PROPOSAL_TRANSACTIONS = 1024;
export const MAX_PROPOSAL_BYTES = MAX_PROPOSAL_TRANSACTIONS * MAX_TRANSACTION_BYTES + 1024;
/** Entries one attachment may add to a leaf. */
export const MAX_ATTACHMENT_ENTRIES = 256;
export const MAX_ATTACHMENT_BYTES = MAX_ATTACHMENT_ENTRIES * (MAX_TRANSACTION_BYTES + 64) + 1024;

// --- Batch proposals --------------------------------------------------------------------------------

export interface BatchProposal {
	/** The transaction-consensus height (batch sequence number) this batch is proposed for. */
	sequence: number;
	round: number;
	/** The proposing institution. */
	institution: Bytes;
	transactions: Transaction<RecordBody>[];
}

export function proposalBatch(proposal: BatchProposal): TransactionBatch {
	return {
		round: proposal.round,
		institution: proposal.institution,
		transactions: proposal.transactions.map((tx) => transactionId(tx.body))
	};
}

/** The value the consensus group votes on for this proposal. */
export function proposalHash(proposal: BatchProposal): Bytes {
	return batchHash(proposalBatch(proposal));
}

export function encodeBatchProposal(proposal: BatchProposal): Bytes {
	return encodeCanonical({
		sequence: proposal.sequence,
		round: proposal.round,
		institution: proposal.institution,
		transactions: proposal.transactions.map(transactionToCanonical)
	});
}

function readRecordTransaction(value: unknown, where: string): Transaction<RecordBody> {
	const tx = readTransaction(value, where);
	ensure(tx.body.kind !== 'register', 'gossip-register', `${where}: register transactions go into keyblocks`);
	return tx as Transaction<RecordBody>;
}

export function decodeBatchProposal(bytes: Bytes): BatchProposal {
	const where = 'batchProposal';
	const o = read.object(decodeCanonical(bytes, MAX_PROPOSAL_BYTES), where, [
		'sequence',
		'round',
		'institution',
		'transactions'
	]);
	const proposal: BatchProposal = {
		sequence: read.uint(o.sequence, `${where}.sequence`, 2 ** 32 - 1),
		round: read.uint(o.round, `${where}.round`, 2 ** 32 - 1),
		institution: read.bytes(o.institution, `${where}.institution`, PUBLIC_KEY_LENGTH),
		transactions: read.array(
			o.transactions,
			`${where}.transactions`,
			MAX_PROPOSAL_TRANSACTIONS,
			readRecordTransaction
		)
	};
	proposalHash(proposal); // structural batch rules: non-empty, no duplicates
	return proposal;
}

// --- Attachments ------------------------------------------------------------------------------------

export interface Attachment {
	patient: PublicKey;
	institution: PublicKey;
	entries: LeafEntry[];
	/** The institution's proof that its leaf value opens to all of the leaf's entries after this one. */
	leafProof: Bytes;
}

export function encodeAttachment(attachment: Attachment): Bytes {
	return encodeCanonical({
		patient: attachment.patient,
		institution: attachment.institution,
		entries: attachment.entries.map((e) => ({ tx: transactionToCanonical(e.tx), pin: e.pin })),
		leafProof: attachment.leafProof
	});
}

/** `decode`: decodeVerifiedCanonical only for bytes from the node's own verified journal. */
export function decodeAttachment(bytes: Bytes, decode: CanonicalDecoder = decodeCanonical): Attachment {
	const where = 'attachment';
	const o = read.object(decode(bytes, MAX_ATTACHMENT_BYTES), where, [
		'patient',
		'institution',
		'entries',
		'leafProof'
	]);
	const entries = read.array(o.entries, `${where}.entries`, MAX_ATTACHMENT_ENTRIES, (v, w) => {
		const e = read.object(v, w, ['tx', 'pin']);
		return { tx: readRecordTransaction(e.tx, `${w}.tx`), pin: read.bytes(e.pin, `${w}.pin`, HASH_LENGTH) };
	});
	ensure(entries.length > 0, 'attachment-empty', 'an attachment adds at least one record');
	ensure(entries.length <= MAX_ENTRIES_PER_LEAF, 'attachment-size', 'too many entries for one leaf');
	return {
		patient: read.bytes(o.patient, `${where}.patient`, PUBLIC_KEY_LENGTH),
		institution: read.bytes(o.institution, `${where}.institution`, PUBLIC_KEY_LENGTH),
		entries,
		leafProof: read.bytes(o.leafProof, `${where}.leafProof`, { min: 1, max: MAX_PROOF_LENGTH })
	};
}

// --- Consensus envelope -----------------------------------------------------------------------------

export interface ConsensusEnvelope {
	kind: ConsensusKind;
	message: Bytes;
}

export function encodeConsensusEnvelope(envelope: ConsensusEnvelope): Bytes {
	return encodeCanonical({ kind: envelope.kind, message: envelope.message });
}

export function decodeConsensusEnvelope(bytes: Bytes): ConsensusEnvelope {
	const o = read.object(decodeCanonical(bytes, MAX_CONSENSUS_MESSAGE_BYTES + 64), 'consensusEnvelope', [
		'kind',
		'message'
	]);
	return {
		kind: read.oneOf(o.kind, 'consensusEnvelope.kind', CONSENSUS_KINDS),
		message: read.bytes(o.message, 'consensusEnvelope.message', { min: 1, max: MAX_CONSENSUS_MESSAGE_BYTES })
	};
}

// --- The batches topic ------------------------------------------------------------------------------

/**
 * The batches topic carries what the group agrees on besides keyblocks: batch proposals (full
 * transactions), pinned batches (ids and certificate), consensus-group hand-overs (membership.ts) and
 * evidence of a member's equivocation (evidence.ts), which every node records to set that member's H = 0.
 */
export type BatchMessage =
	| { type: 'proposal'; proposal: BatchProposal }
	| { type: 'pinned'; pinned: PinnedBatch }
	| { type: 'handover'; handover: Handover }
	| { type: 'evidence'; evidence: EquivocationEvidence };

function batchMessageBody(message: BatchMessage): Bytes {
	switch (message.type) {
		case 'proposal':
			return encodeBatchProposal(message.proposal);
		case 'pinned':
			return encodePinnedBatch(message.pinned);
		case 'handover':
			return encodeHandover(message.handover);
		case 'evidence':
			return encodeEvidence(message.evidence);
	}
}

export function encodeBatchMessage(message: BatchMessage): Bytes {
	return encodeCanonical({ type: message.type, body: batchMessageBody(message) });
}

export function decodeBatchMessage(bytes: Bytes): BatchMessage {
	const o = read.object(decodeCanonical(bytes, MAX_PROPOSAL_BYTES + 64), 'batchMessage', ['type', 'body']);
	const type = read.oneOf(o.type, 'batchMessage.type', [
		'proposal',
		'pinned',
		'handover',
		'evidence'
	] as const);
	const body = read.bytes(o.body, 'batchMessage.body', { max: MAX_PROPOSAL_BYTES });
	switch (type) {
		case 'proposal':
			return { type, proposal: decodeBatchProposal(body) };
		case 'pinned':
			return { type, pinned: decodePinnedBatch(body) };
		case 'handover':
			return { type, handover: decodeHandover(body) };
		case 'evidence':
			return { type, evidence: decodeEvidence(body) };
	}
}
