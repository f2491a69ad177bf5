/**
 * How a node judges what peers gossip, so that gossipsub forwards only what was checked and blames only
 * the author: a message is 'accept'ed (forwarded) when this node checked it and found it new, 'ignore'd
 * when it cannot be checked here yet or depends on our state (we may be behind: neither forwarded nor
 * blamed), and 'reject'ed (the sending peer penalised) only when it is wrong in itself, which an honest
 * relay never forwards because it checks before forwarding.
 */
import type { Bytes } from '../core/bytes.ts';
import type { ConsensusKind } from '../core/certificate.ts';
import { ValidationError, type ValidationCode } from '../core/errors.ts';
import { decodeConsensusEnvelope } from '../core/gossip.ts';
import type { Verdict } from '../net/peer-net.ts';
import type { ConsensusDriver } from './consensus-driver.ts';

/** State-dependent rejections (we may be behind): ignore the message without blaming the peer. */
export const STATE_DEPENDENT: ReadonlySet<ValidationCode> = new Set<ValidationCode>([
	'keyblock-height',
	'keyblock-prev',
	'keyblock-penu',
	'keyblock-target',
	'keyblock-stale',
	'batch-sequence',
	'batch-round',
	'tx-unregistered',
	'tx-round',
	'tx-unpinned',
	'tx-duplicate',
	'tx-pinned-twice',
	'register-again',
	'register-identity',
	'label-target',
	'mempool-full',
	'mempool-patient',
	'handover-missing',
	'handover-epoch',
	'handover-early',
	'evidence-group',
	// Our own chain was found invalid (certified-sync.ts): the message is not at fault.
	'chain-invalid',
	// An honest miner's candidate that lost the pin may still be in flight when the pin lands.
	'keyblock-conflicts-pin'
]);

/**
 * The gossip verdict of a handler's outcome: a ValidationError is the sender's fault ('reject': it
 * authored the message or forwarded it unchecked) unless it depends on our state ('ignore': we may be
 * behind). `refused` hears of each. Other errors propagate.
 */
export async function judged(
	handler: () => Promise<Verdict>,
	refused: (error: ValidationError, blamed: boolean) => void = () => {}
): Promise<Verdict> {
	try {
		return await handler();
	} catch (error) {
		if (!(error instanceof ValidationError)) throw error;
		const blamed = !STATE_DEPENDENT.has(error.code);
		refused(error, blamed);
		return blamed ? 'reject' : 'ignore';
	}
}

/**
 * A consensus envelope from the network, handed to this node's driver of its kind: forwarded only when
 * the machine checked it and found it new (a vote of a later height cannot be checked yet: it is
 * buffered within bounds and ignored, so no honest relay is blamed for it). A node outside the group
 * (`driverOf` null) checks nothing and so forwards nothing: members reach each other directly.
 */
export async function consensusVerdict(
	data: Bytes,
	driverOf: (kind: ConsensusKind) => ConsensusDriver | null
): Promise<Verdict> {
	const envelope = decodeConsensusEnvelope(data);
	const driver = driverOf(envelope.kind);
	return driver ? driver.receive(envelope.message) : 'ignore';
}
