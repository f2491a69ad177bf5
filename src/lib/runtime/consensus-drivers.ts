/**
 * An institution node's consensus drivers, one per kind of consensus (pinned keyblocks, pinned
 * transactions, hand-overs), each created the first time a group names this institution: membership
 * changes at hand-overs, so a node joins the voting when a group names it.
 */
import type { Bytes } from '../core/bytes.ts';
import type { Certificate, ConsensusKind } from '../core/certificate.ts';
import { blsSign } from '../core/consensus/bls.ts';
import type { ConsensusGroup } from '../core/consensus/group.ts';
import {
	ConsensusMachine,
	type ConsensusApplication,
	type TimeoutConfig
} from '../core/consensus/machine.ts';
import type { EquivocationEvidence } from '../core/evidence.ts';
import type { Store } from '../store/store.ts';
import type { ChainState } from './chain-state.ts';
import { ConsensusDriver } from './consensus-driver.ts';
import { StoredVotingState } from './voting-store.ts';

/** What agrees on the values of one kind of consensus (keyblock-, batch- and handover-agreement.ts). */
export interface Agreement extends ConsensusApplication {
	decided(height: number, value: Bytes, certificate: Certificate): Promise<void>;
}

export interface ConsensusDriversOptions {
	/** The institution's id and BLS key; undefined for a node that never votes. */
	signer: { id: Bytes; blsKey: Bytes } | undefined;
	chain: ChainState;
	store: Store;
	timeouts?: TimeoutConfig;
	/** The agreement of each kind, read when a driver is created (they are built after this). */
	agreement: (kind: ConsensusKind) => Agreement;
	publish: (bytes: Bytes) => Promise<void>;
	evidence: (evidence: EquivocationEvidence) => Promise<void>;
	fail: (error: unknown) => void;
	stopped: () => boolean;
}

export class ConsensusDrivers {
	private readonly drivers = new Map<ConsensusKind, ConsensusDriver>();
	private readonly voting: StoredVotingState;

	constructor(private readonly options: ConsensusDriversOptions) {
		this.voting = new StoredVotingState(options.store);
	}

	/** The driver of `kind` when this institution is a member of `group` (created the first time it is). */
	driverFor =
		(kind: ConsensusKind) =>
		(group: ConsensusGroup): ConsensusDriver | null => {
			const { signer, chain, timeouts } = this.options;
			// No vote on a chain not verified in full (certified-sync.ts).
			if (!signer || !chain.fullyVerified || group.indexOf(signer.id) < 0) return null;
			let existing = this.drivers.get(kind);
			if (!existing) {
				const agreement = this.options.agreement(kind);
				const machine = new ConsensusMachine({
					kind,
					signer: { id: signer.id, sign: (message) => blsSign(signer.blsKey, message) },
					application: {
						propose: (height, round) => agreement.propose(height, round),
						validate: (value, height) => agreement.validate(value, height)
					},
					store: this.voting,
					timeouts,
					groupOf: (height) => chain.groupForVotes(kind, height)
				});
				const { fail } = this.options;
				existing = new ConsensusDriver(machine, {
					publish: (bytes) => this.options.publish(bytes),
					decided: (height, value, certificate) =>
						void agreement.decided(height, value, certificate).catch(fail),
					evidence: (evidence) => void this.options.evidence(evidence).catch(fail),
					error: fail
				});
				if (this.options.stopped()) existing.stop();
				this.drivers.set(kind, existing);
			}
			return existing;
		};

	/** The driver of `kind` if one runs here. */
	running(kind: ConsensusKind): ConsensusDriver | undefined {
		return this.drivers.get(kind);
	}

	stop(): void {
		for (const driver of this.drivers.values()) driver.stop();
	}
}
