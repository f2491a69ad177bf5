/**
 * The group's approval of a registry fact (an admission or a key rotation): each member that approves
 * signs, with its BLS consensus key, the fact's hash bound to the group's hash under a tag of its own,
 * so an approval is never a consensus vote (no equivocation evidence can be made of it) and is useless
 * for another group. Approvals aggregate into one certificate that must hold more than 2/3 of the members
 * AND of their reputation: the same double quorum as a pin (certificate.ts verifyQuorumSignature).
 */
import type { Bytes } from './bytes.ts';
import { bitmapLength, blsScheme, verifyQuorumSignature, type SignatureScheme } from './certificate.ts';
import { blsSign } from './consensus/bls.ts';
import type { ConsensusGroup } from './consensus/group.ts';
import { encodeCanonical } from './encoding.ts';
import { ensure } from './errors.ts';
import { taggedHash } from './hash.ts';
import type { Approval } from './registry-facts.ts';

/** The bytes a member signs to approve the fact with hash `factHash` in `group`. */
export function approvalMessage(group: ConsensusGroup, factHash: Bytes): Bytes {
	return taggedHash(
		'SPChain/registry-approval',
		encodeCanonical({ protocol: 'SPChain/registry/v1', group: group.hash, fact: factHash })
	);
}

/** One member's approval signature. */
export function signApproval(group: ConsensusGroup, factHash: Bytes, blsSecretKey: Bytes): Bytes {
	return blsSign(blsSecretKey, approvalMessage(group, factHash));
}

/**
 * Aggregates approvals (member index → signature, each verified by the caller or not: the certificate
 * is verified as a whole before it is used) into a certificate; throws 'approval-quorum' below quorum.
 */
export function assembleApproval(
	group: ConsensusGroup,
	signatures: ReadonlyMap<number, Bytes>,
	scheme: SignatureScheme = blsScheme
): Approval {
	const indices = [...signatures.keys()].sort((a, b) => a - b);
	ensure(
		group.isQuorum(indices),
		'approval-quorum',
		`${indices.length} of ${group.size} members approved so far; more than two thirds of the members and of their reputation are needed`
	);
	const signers = new Uint8Array(bitmapLength(group.size));
	for (const i of indices) signers[i >> 3]! |= 1 << (i & 7);
	return {
		epoch: group.epoch,
		signers,
		signature: scheme.aggregate(indices.map((i) => signatures.get(i)!))
	};
}

/** Throws unless `approval` is a double quorum of `group` over `factHash` (certificate-* codes). */
export function verifyApproval(
	approval: Approval,
	group: ConsensusGroup,
	factHash: Bytes,
	scheme: SignatureScheme = blsScheme
): void {
	ensure(
		approval.epoch === group.epoch,
		'approval-epoch',
		`the approval was made by the group of epoch ${approval.epoch}, not of epoch ${group.epoch}`
	);
	verifyQuorumSignature(
		group,
		approval.signers,
		approval.signature,
		approvalMessage(group, factHash),
		scheme
	);
}
