/**
 * The five kinds of facts that change a node's chain (chain-state.ts): their bytes, the store table
 * each is kept in under its journal position, and the key that tells one already applied.
 */
import { bytesToHex, concatBytes, type Bytes } from '../core/bytes.ts';
import { sha256 } from '../core/hash.ts';
import { decodeHandover, encodeHandover, type Handover } from '../core/consensus/membership.ts';
import { decodeCanonical, decodeVerifiedCanonical } from '../core/encoding.ts';
import { decodeEvidence, encodeEvidence, type EquivocationEvidence } from '../core/evidence.ts';
import type { GenesisConfig } from '../core/genesis.ts';
import { decodeAttachment, encodeAttachment, type Attachment } from '../core/gossip.ts';
import { decodeKeyblock, encodeKeyblock, type Keyblock } from '../core/keyblock.ts';
import {
	decodePinnedBatch,
	decodeVerifiedPinnedBatch,
	encodePinnedBatch,
	type PinnedBatch
} from '../core/pinning.ts';
import type { TableName } from '../store/store.ts';

export type ChainFact =
	| { type: 'keyblock'; block: Keyblock }
	| { type: 'batch'; pinned: PinnedBatch }
	| { type: 'attachment'; attachment: Attachment }
	| { type: 'handover'; handover: Handover }
	| { type: 'evidence'; evidence: EquivocationEvidence };

export const TABLE_OF: Record<ChainFact['type'], TableName> = {
	keyblock: 'keyblocks',
	batch: 'certificates',
	attachment: 'patientBlocks',
	handover: 'handovers',
	evidence: 'evidence'
};

export const FACT_TYPES = Object.keys(TABLE_OF) as readonly ChainFact['type'][];

const POSITION_DIGITS = 12;
export const position = (n: number) => String(n).padStart(POSITION_DIGITS, '0');

export function encodeFact(fact: ChainFact): Bytes {
	switch (fact.type) {
		case 'keyblock':
			return encodeKeyblock(fact.block);
		case 'batch':
			return encodePinnedBatch(fact.pinned);
		case 'attachment':
			return encodeAttachment(fact.attachment);
		case 'handover':
			return encodeHandover(fact.handover);
		case 'evidence':
			return encodeEvidence(fact.evidence);
	}
}

/**
 * `verified`: the bytes come from this node's own verified journal (their hash chain checked), so the
 * canonical re-encoding check of the bulky kinds is skipped (encoding.ts decodeVerifiedCanonical).
 */
export function decodeFact(
	type: ChainFact['type'],
	bytes: Bytes,
	genesis: GenesisConfig,
	verified = false
): ChainFact {
	const decode = verified ? decodeVerifiedCanonical : decodeCanonical;
	switch (type) {
		case 'keyblock':
			return { type, block: decodeKeyblock(bytes, genesis.maxRegistersPerKeyblock, undefined, decode) };
		case 'batch':
			return { type, pinned: verified ? decodeVerifiedPinnedBatch(bytes) : decodePinnedBatch(bytes) };
		case 'attachment':
			return { type, attachment: decodeAttachment(bytes, decode) };
		case 'handover':
			return { type, handover: decodeHandover(bytes) };
		case 'evidence':
			return { type, evidence: decodeEvidence(bytes) };
	}
}

/** One record per member and consensus position: a second pair for the same offence adds nothing. */
export function offenceKey(evidence: EquivocationEvidence): string {
	const { kind, height, sender } = evidence.first;
	return `${kind}:${height}:${bytesToHex(sender)}`;
}

export function pinValueOf(pinned: PinnedBatch): Bytes {
	return pinned.certificate.value;
}

/**
 * What tells an attachment already applied: its patient, institution and transaction ids (a digest of
 * them, so that a node holding 1,000s of attachments keeps 160 characters for each, not 6,500).
 * `idsDigest`: SHA-256 of the ids joined, when the caller has it (a restart: the journal's head check
 * hashed the derived value that joins them).
 */
export function attachmentKey(
	attachment: Pick<Attachment, 'patient' | 'institution'>,
	ids: readonly Bytes[],
	idsDigest: Bytes = sha256(concatBytes(...ids))
): string {
	return `${bytesToHex(attachment.patient)}:${bytesToHex(attachment.institution)}:${bytesToHex(idsDigest)}`;
}
