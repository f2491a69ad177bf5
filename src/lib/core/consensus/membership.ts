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
