/**
 * Wire messages of the Byzantine agreement (Tendermint: PROPOSAL, PREVOTE, PRECOMMIT) plus COMMIT, which
 * carries a decision's certificate to members that fell behind. Every vote names its sender (a member
 * id) and carries the sender's BLS signature over the statement (certificate.ts `statementBytes`), so
 * any member can relay any vote and the receiver still checks who said what.
 * Encoding is canonical CBOR; decoding is strict and bounded (a few hundred bytes per message).
 */
import type { Bytes } from '../bytes.ts';
import {
	CONSENSUS_KINDS,
	MAX_ROUND,
	certificateToCanonical,
	readCertificate,
	type Certificate,
	type ConsensusKind,
	type Statement
} from '../certificate.ts';
import { decodeCanonical, encodeCanonical, type Canonical } from '../encoding.ts';
import { ValidationError } from '../errors.ts';
import { HASH_LENGTH } from '../hash.ts';
import * as read from '../schema.ts';
import { BLS_SIGNATURE_LENGTH } from './bls.ts';
import { MEMBER_ID_LENGTH } from './group.ts';

export const MAX_CONSENSUS_MESSAGE_BYTES = 1024;

export interface Proposal {
	type: 'proposal';
	kind: ConsensusKind;
	height: number;
	round: number;
	value: Bytes;
	/** Round in which the proposer saw a prevote quorum for `value`, or -1 (Tendermint's vr). */
	validRound: number;
	sender: Bytes;
	signature: Bytes;
}

export interface Vote {
	type: 'prevote' | 'precommit';
	kind: ConsensusKind;
	height: number;
	round: number;
	/** null = nil vote. */
	value: Bytes | null;
	sender: Bytes;
	signature: Bytes;
}

export interface Commit {
	type: 'commit';
	certificate: Certificate;
}

export type SignedMessage = Proposal | Vote;
export type ConsensusMessage = SignedMessage | Commit;

/** The statement a signed message's signature covers. */
export function statementOf(message: SignedMessage): Statement {
	return message.type === 'proposal'
		? {
				kind: message.kind,
				height: message.height,
				round: message.round,
				step: 'proposal',
				value: message.value,
				validRound: message.validRound
			}
		: {
				kind: message.kind,
				height: message.height,
				round: message.round,
				step: message.type,
				value: message.value
			};
}

export function encodeMessage(message: ConsensusMessage): Bytes {
	let body: { [key: string]: Canonical };
	if (message.type === 'commit')
		body = { type: 'commit', certificate: certificateToCanonical(message.certificate) };
	else {
		body = {
			type: message.type,
			kind: message.kind,
			height: message.height,
			round: message.round,
			value: message.value,
			sender: message.sender,
			signature: message.signature
		};
		if (message.type === 'proposal') body.validRound = message.validRound;
	}
	return encodeCanonical(body);
}

/** Decodes untrusted bytes; throws ValidationError (code 'encoding' or 'schema') on anything malformed. */
export function decodeMessage(bytes: Bytes): ConsensusMessage {
	const raw = decodeCanonical(bytes, MAX_CONSENSUS_MESSAGE_BYTES);
	const type = read.oneOf((raw as { type?: unknown } | null)?.type, 'consensus.type', [
		'proposal',
		'prevote',
		'precommit',
		'commit'
	] as const);
	if (type === 'commit') {
		const r = read.object(raw, 'commit', ['type', 'certificate']);
		return { type, certificate: readCertificate(r.certificate, 'commit.certificate') };
	}
	const common = ['type', 'kind', 'height', 'round', 'value', 'sender', 'signature'];
	const r = read.object(raw, type, type === 'proposal' ? [...common, 'validRound'] : common);
	const kind = read.oneOf(r.kind, `${type}.kind`, CONSENSUS_KINDS);
	const height = read.uint(r.height, `${type}.height`);
	const round = read.uint(r.round, `${type}.round`, MAX_ROUND);
	const sender = read.bytes(r.sender, `${type}.sender`, MEMBER_ID_LENGTH);
	const signature = read.bytes(r.signature, `${type}.signature`, BLS_SIGNATURE_LENGTH);
	if (type === 'proposal') {
		const validRound = r.validRound;
		if (
			typeof validRound !== 'number' ||
			!Number.isSafeInteger(validRound) ||
			validRound < -1 ||
			validRound >= round
		)
			throw new ValidationError(
				'schema',
				'proposal.validRound: expected -1 or a round below the proposal round'
			);
		const value = read.bytes(r.value, 'proposal.value', HASH_LENGTH);
		return { type, kind, height, round, value, validRound, sender, signature };
	}
	const value = r.value === null ? null : read.bytes(r.value, `${type}.value`, HASH_LENGTH);
	return { type, kind, height, round, value, sender, signature };
}
