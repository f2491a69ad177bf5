/**
 * What a member must remember across a crash so it never signs two conflicting values for the same
 * (height, round, step) and never forgets a lock (Tendermint's safety relies on both).
 * The state machine hands this record to a `VotingStateStore` and awaits the save BEFORE the signed
 * message leaves the machine; the storage adapter (IndexedDB in a page, files in Node) backs it.
 *
 * The guard is the classic "last sign state" rule: signing positions are totally ordered by
 * (height, round, step) with proposal < prevote < precommit; a member signs only strictly after its last
 * signed position, and at the same position only re-sends exactly what it signed before.
 */
import type { Bytes } from '../bytes.ts';
import type { ConsensusKind, VoteStep } from '../certificate.ts';
import { decodeCanonical, encodeCanonical } from '../encoding.ts';
import { ValidationError } from '../errors.ts';
import { decodeMessage, encodeMessage, type SignedMessage } from './messages.ts';
import * as read from '../schema.ts';
import { HASH_LENGTH } from '../hash.ts';

export type RoundStep = 'propose' | 'prevote' | 'precommit';

export interface VotingState {
	kind: ConsensusKind;
	height: number;
	round: number;
	step: RoundStep;
	lockedValue: Bytes | null;
	lockedRound: number;
	validValue: Bytes | null;
	validRound: number;
	/** The last message this member signed (at any height), re-sent verbatim after a restart. */
	lastSigned: SignedMessage | null;
}

/** Persistence of one member's voting state per consensus kind. `save` must be durable when it resolves. */
export interface VotingStateStore {
	load(kind: ConsensusKind): Promise<VotingState | null>;
	save(state: VotingState): Promise<void>;
}

const STEP_ORDER: Record<VoteStep, number> = { proposal: 0, prevote: 1, precommit: 2 };

function stepOf(message: SignedMessage): VoteStep {
	return message.type;
}

/** -1, 0, 1 as position (h, r, s) is before, equal to, after `last`'s position. */
export function comparePosition(height: number, round: number, step: VoteStep, last: SignedMessage): number {
	if (height !== last.height) return Math.sign(height - last.height);
	if (round !== last.round) return Math.sign(round - last.round);
	return Math.sign(STEP_ORDER[step] - STEP_ORDER[stepOf(last)]);
}

/** Serialises a voting state for a store (canonical CBOR). */
export function encodeVotingState(state: VotingState): Bytes {
	return encodeCanonical({
		kind: state.kind,
		height: state.height,
		round: state.round,
		step: state.step,
		lockedValue: state.lockedValue,
		lockedRound: state.lockedRound,
		validValue: state.validValue,
		validRound: state.validRound,
		lastSigned: state.lastSigned ? encodeMessage(state.lastSigned) : null
	});
}

function roundOrNone(value: unknown, where: string): number {
	if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < -1)
		throw new ValidationError('schema', `${where}: expected -1 or a round`);
	return value;
}

function hashOrNull(value: unknown, where: string): Bytes | null {
	return value === null ? null : read.bytes(value, where, HASH_LENGTH);
}

export function decodeVotingState(bytes: Bytes): VotingState {
	const where = 'votingState';
	const r = read.object(decodeCanonical(bytes, 4096), where, [
		'kind',
		'height',
		'round',
		'step',
		'lockedValue',
		'lockedRound',
		'validValue',
		'validRound',
		'lastSigned'
	]);
	let lastSigned: SignedMessage | null = null;
	if (r.lastSigned !== null) {
		const message = decodeMessage(read.bytes(r.lastSigned, `${where}.lastSigned`, { max: 1024 }));
		if (message.type === 'commit')
			throw new ValidationError('schema', `${where}.lastSigned: not a signed vote`);
		lastSigned = message;
	}
	return {
		kind: read.oneOf(r.kind, `${where}.kind`, ['keyblock', 'transactions', 'membership'] as const),
		height: read.uint(r.height, `${where}.height`),
		round: read.uint(r.round, `${where}.round`),
		step: read.oneOf(r.step, `${where}.step`, ['propose', 'prevote', 'precommit'] as const),
		lockedValue: hashOrNull(r.lockedValue, `${where}.lockedValue`),
		lockedRound: roundOrNone(r.lockedRound, `${where}.lockedRound`),
		validValue: hashOrNull(r.validValue, `${where}.validValue`),
		validRound: roundOrNone(r.validRound, `${where}.validRound`),
		lastSigned
	};
}

/** A store kept in memory only: for observers and simulations, where nothing survives the process anyway. */
export class MemoryVotingStateStore implements VotingStateStore {
	private readonly states = new Map<ConsensusKind, Bytes>();
	saves = 0;
	async load(kind: ConsensusKind): Promise<VotingState | null> {
		const bytes = this.states.get(kind);
		return bytes ? decodeVotingState(bytes) : null;
	}
	async save(state: VotingState): Promise<void> {
		this.saves++;
		this.states.set(state.kind, encodeVotingState(state));
	}
}
