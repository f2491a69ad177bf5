/**
 * Group membership over time (section 5.2: the X institutions with the top reputations form the group).
 * Membership changes only at epoch boundaries: epoch e governs keyblock heights
 * [e·epochLength + 1, (e + 1)·epochLength]. At the end of an epoch every node computes the next group from
 * the reputations the chain implies at that point (reputation.ts), and the OUTGOING group certifies the
 * hand-over: a 'membership' certificate at height e + 1 over the new group's hash (which binds the epoch,
 * member ids, BLS keys and reputation weights). A node that knows the genesis group can therefore
 * follow the chain of hand-overs to the current group, verifying one aggregate signature per epoch.
 */
import { bytesToHex, type Bytes } from '../bytes.ts';
import {
	decodeCertificate,
	encodeCertificate,
	verifyCertificate,
	type Certificate,
	type SignatureScheme
} from '../certificate.ts';
import { decodeCanonical, encodeCanonical } from '../encoding.ts';
import { ensure } from '../errors.ts';
import { consensusGroup } from '../reputation.ts';
import * as read from '../schema.ts';
import { BLS_PUBLIC_KEY_LENGTH } from './bls.ts';
import {
	ConsensusGroup,
	MAX_GROUP_SIZE,
	MEMBER_ID_LENGTH,
	REPUTATION_SCALE,
	reputationWeight,
	type GroupMember
} from './group.ts';

export interface MembershipParams {
	/** X: members of the consensus group. */
	groupSize: number;
	/** Keyblocks per epoch. */
	epochLength: number;
}

function checkParams(params: MembershipParams): void {
	ensure(
		Number.isSafeInteger(params.groupSize) && params.groupSize > 0 && params.groupSize <= MAX_GROUP_SIZE,
		'membership-params',
		`group size must be 1..${MAX_GROUP_SIZE}`
	);
	ensure(
		Number.isSafeInteger(params.epochLength) && params.epochLength > 0,
		'membership-params',
		'epoch length must be a positive integer'
	);
}

/** The epoch whose group pins keyblock `height` (heights start at 1). */
export function epochOf(height: number, params: MembershipParams): number {
	checkParams(params);
	ensure(Number.isSafeInteger(height) && height >= 1, 'membership-height', 'keyblock heights start at 1');
	return Math.floor((height - 1) / params.epochLength);
}

/** True for the last keyblock of an epoch: once it is pinned, the hand-over to the next group runs. */
export function isEpochEnd(height: number, params: MembershipParams): boolean {
	return epochOf(height, params) !== epochOf(height + 1, params);
}

/**
 * The top-X candidates by reputation (ties: lower id), as the group of `epoch`. Candidates are the
 * registered institutions with a BLS key (and a verified proof of possession) and their reputation R.
 */
export function selectGroup(
	candidates: readonly GroupMember[],
	epoch: number,
	params: MembershipParams
): ConsensusGroup {
	checkParams(params);
	// The same ranking as reputation.ts (exact R, ties to the lower id), so chain code and consensus agree.
	const byId = new Map(candidates.map((c) => [bytesToHex(c.id), c]));
	const chosen = consensusGroup(
		candidates.map((c) => ({ institution: bytesToHex(c.id), r: c.reputation })),
		params.groupSize
	);
	return new ConsensusGroup(
		chosen.map((id) => byId.get(id)!),
		epoch
	);
}

/**
 * Epochs an institution may go unseen on chain and keep its eligibility for a seat (the liveness rule,
 * docs/consensus.md "Membership"). Seen = it mined a pinned keyblock or proposed a pinned transaction
 * batch. Long on purpose: a renter of hash power who out-mines everybody for a while must not thereby
 * make honest members "absent" (members in office also propose batches whatever their hash power, but
 * only when there is traffic); the price is that a member that left keeps its seat this long.
 */
export const PRESENCE_WINDOW_EPOCHS = 30;

/** What the hand-over ranking knows of one institution, all derived from the chain. */
export interface Standing {
	/** Institution id, hex. */
	institution: string;
	/** Lifetime reputation R (Algorithm 1 with RepuCoin's R1) over the whole chain; 0 once H = 0. */
	r: number;
	/** H: no proven misbehaviour on chain up to the epoch's end. */
	honest: boolean;
	/** Latest keyblock height at which it was seen (mined a keyblock, or proposed a batch of that round); 0: never. */
	lastSeen: number;
}

/** Keyblocks of the presence window. */
export function presenceWindow(params: MembershipParams): number {
	checkParams(params);
	return PRESENCE_WINDOW_EPOCHS * params.epochLength;
}

/**
 * Eligible for a seat in `epoch`: honest, some reputation, and seen on chain within the presence
 * window before the epoch's end (never seen = not eligible, also on a young chain: an institution that
 * is not online must not be seated, or absent members could hold a third of the group).
 */
export function isEligible(standing: Standing, epoch: number, params: MembershipParams): boolean {
	const end = epoch * params.epochLength;
	return (
		standing.honest &&
		standing.r > 0 &&
		standing.lastSeen >= 1 &&
		standing.lastSeen > end - presenceWindow(params)
	);
}

/**
 * The incoming group of `epoch` (hex ids): the top X eligible institutions by LIFETIME reputation,
 * ties to the lower id. Who mined the epoch just ended plays no part beyond the reputation it earned:
 * one identity holds at most one seat, however much hash power it rents. Every node, member or not,
 * runs this on its own chain and refuses a hand-over that names anything else.
 */
export function rankIncomingGroup(
	standings: readonly Standing[],
	epoch: number,
	params: MembershipParams
): string[] {
	checkParams(params);
	ensure(Number.isSafeInteger(epoch) && epoch >= 1, 'membership-epoch', 'hand-overs start at epoch 1');
	const eligible = standings.filter((s) => isEligible(s, epoch, params));
	ensure(
		eligible.length > 0,
		'membership-no-candidate',
		`no institution is eligible for a seat in epoch ${epoch}`
	);
	return consensusGroup(eligible, params.groupSize);
}

export interface Handover {
	/** The new group (its epoch is the outgoing group's + 1). */
	members: GroupMember[];
	epoch: number;
	/** The outgoing group's 'membership' certificate at height `epoch` over the new group's hash. */
	certificate: Certificate;
}

/** Verifies a hand-over against the outgoing group and returns the incoming group. */
export function verifyHandover(
	outgoing: ConsensusGroup,
	handover: Handover,
	scheme?: SignatureScheme
): ConsensusGroup {
	ensure(
		handover.epoch === outgoing.epoch + 1,
		'handover-epoch',
		`hand-over to epoch ${handover.epoch} cannot follow epoch ${outgoing.epoch}`
	);
	const incoming = new ConsensusGroup(handover.members, handover.epoch);
	verifyCertificate(
		handover.certificate,
		outgoing,
		{ kind: 'membership', height: handover.epoch, value: incoming.hash },
		scheme
	);
	return incoming;
}

/** Follows certified hand-overs from a known group (e.g. genesis) to the latest one. */
export function followHandovers(
	from: ConsensusGroup,
	handovers: Iterable<Handover>,
	scheme?: SignatureScheme
): ConsensusGroup {
	let group = from;
	for (const handover of handovers) group = verifyHandover(group, handover, scheme);
	return group;
}

export function encodeHandover(handover: Handover): Bytes {
	return encodeCanonical({
		epoch: handover.epoch,
		members: handover.members.map((m) => [m.id, m.blsPublicKey, reputationWeight(m.reputation)]),
		certificate: encodeCertificate(handover.certificate)
	});
}

/** Reputations travel as integer weights (the group hash binds weights, not floats). */
export function decodeHandover(bytes: Bytes): Handover {
	const r = read.object(decodeCanonical(bytes, 64 * 1024), 'handover', ['epoch', 'members', 'certificate']);
	return {
		epoch: read.uint(r.epoch, 'handover.epoch'),
		members: read.array(r.members, 'handover.members', MAX_GROUP_SIZE, (v, where) => {
			const fields = read.array(v, where, 3, (x) => x);
			ensure(fields.length === 3, 'schema', `${where}: expected [id, blsPublicKey, weight]`);
			return {
				id: read.bytes(fields[0], `${where}.id`, MEMBER_ID_LENGTH),
				blsPublicKey: read.bytes(fields[1], `${where}.blsPublicKey`, BLS_PUBLIC_KEY_LENGTH),
				reputation: read.uint(fields[2], `${where}.weight`) / REPUTATION_SCALE
			};
		}),
		certificate: decodeCertificate(read.bytes(r.certificate, 'handover.certificate', { max: 4096 }))
	};
}
