/**
 * Provable misbehaviour: two valid signatures by one member of the consensus group for conflicting
 * statements at the same (kind, height, round, step). An honest member never does this (its voting state
 * is persisted before it signs, see consensus/voting-state.ts), so the pair proves the member Byzantine
 * and lets every node set its honest flag H = 0 in the reputation algorithm (Algorithm 1, line 9).
 * Verification needs only the group the votes were cast in; the result is the offender and the height.
 */
import { bytesToHex, equalBytes, type Bytes } from './bytes.ts';
import { statementBytes } from './certificate.ts';
import { blsVerify } from './consensus/bls.ts';
import type { ConsensusGroup } from './consensus/group.ts';
import { decodeMessage, encodeMessage, statementOf, type SignedMessage } from './consensus/messages.ts';
import { decodeCanonical, encodeCanonical } from './encoding.ts';
import { ensure, ValidationError } from './errors.ts';
import * as read from './schema.ts';

export interface EquivocationEvidence {
	first: SignedMessage;
	second: SignedMessage;
}

/**
 * What a verified piece of evidence establishes: the reputation code sets H = 0 for `offender`.
 * `height` is the height of the offence in its consensus (a keyblock height for 'keyblock' votes, a batch
 * sequence for 'transactions', an epoch for 'membership'); reputation.ts's ProvenMisbehaviour wants the
 * keyblock height at which the evidence is recorded on chain, which the chain code supplies.
 */
export interface Misbehaviour {
	/** Member id, hex. */
	offender: string;
	height: number;
}

/** Throws a ValidationError (code evidence-*) unless the two messages prove equivocation in `group`. */
export function verifyEvidence(evidence: EquivocationEvidence, group: ConsensusGroup): Misbehaviour {
	const { first, second } = evidence;
	ensure(
		equalBytes(first.sender, second.sender),
		'evidence-sender',
		'the two messages have different senders'
	);
	ensure(
		first.type === second.type &&
			first.kind === second.kind &&
			first.height === second.height &&
			first.round === second.round,
		'evidence-position',
		'the two messages are not for the same kind, height, round and step'
	);
	const a = statementBytes(group, statementOf(first));
	const b = statementBytes(group, statementOf(second));
	ensure(!equalBytes(a, b), 'evidence-same-statement', 'the two messages sign the same statement');
	const index = group.indexOf(first.sender);
	ensure(index >= 0, 'evidence-not-member', 'the sender is not a member of the group');
	const publicKey = group.members[index]!.blsPublicKey;
	for (const [message, statement] of [
		[first, a],
		[second, b]
	] as const) {
		let ok: boolean;
		try {
			ok = blsVerify(publicKey, statement, message.signature);
		} catch (error) {
			if (error instanceof ValidationError) ok = false;
			else throw error;
		}
		ensure(ok, 'evidence-signature', 'a signature in the evidence is not valid');
	}
	return { offender: bytesToHex(first.sender), height: first.height };
}

export function encodeEvidence(evidence: EquivocationEvidence): Bytes {
	return encodeCanonical({ first: encodeMessage(evidence.first), second: encodeMessage(evidence.second) });
}

export function decodeEvidence(bytes: Bytes): EquivocationEvidence {
	const r = read.object(decodeCanonical(bytes, 4096), 'evidence', ['first', 'second']);
	const messages = [r.first, r.second].map((value, i) => {
		const message = decodeMessage(read.bytes(value, `evidence[${i}]`, { max: 1024 }));
		if (message.type === 'commit') throw new ValidationError('schema', `evidence[${i}]: not a signed vote`);
		return message;
	});
	return { first: messages[0]!, second: messages[1]! };
}
