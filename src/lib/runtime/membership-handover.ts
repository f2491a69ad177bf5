/**
 * Consensus-group hand-over at epoch boundaries (section 5.2; the certificate rules are core
 * membership.ts). Once the last keyblock of epoch e−1 is pinned, the outgoing group runs one height of
 * the 'membership' consensus (height = e) over the hash of the incoming group: the top X institutions by
 * the reputation the chain implies at the epoch's end. A member proposes, and accepts, only the group it
 * computes itself, so the certificate says that more than 2/3 of the outgoing members (by count and by
 * reputation) ranked the chain the same way. The certificate with the member list is the hand-over: a
 * chain fact every node verifies against the outgoing group, and gossiped.
 *
 * The ranking is core membership.ts rankIncomingGroup over chain-metrics.ts chainStandings: the top X
 * institutions by LIFETIME reputation among those seen on chain (a keyblock mined or a batch proposed)
 * within the presence window, less any whose equivocation is evidence on the chain. Who mined the epoch
 * just ended counts only through the reputation it earned, so hash power rented for an epoch buys one
 * seat per identity at most. Every node applies the same function to a hand-over it receives
 * (chain-state.ts), so a certificate naming another group is refused, member or not.
 */
import { equalBytes, type Bytes } from '../core/bytes.ts';
import type { Certificate } from '../core/certificate.ts';
import type { ConsensusGroup } from '../core/consensus/group.ts';
import type { Handover } from '../core/consensus/membership.ts';
import type { ChainState } from './chain-state.ts';
import { expectedGroup } from './chain-metrics.ts';
import type { ConsensusDriver } from './consensus-driver.ts';

export interface HandoverAgreementOptions {
	chain: ChainState;
	/** The membership driver when this node is a member of `group`, else null. */
	driverFor(group: ConsensusGroup): ConsensusDriver | null;
	publish(handover: Handover): Promise<void>;
}

export class HandoverAgreement {
	constructor(private readonly options: HandoverAgreementOptions) {}

	/** The group this node ranks for `epoch`, from the chain as it stands at that epoch's boundary. */
	incomingGroup(epoch: number): ConsensusGroup {
		return expectedGroup(this.options.chain, epoch);
	}

	/** Starts the hand-over height once the epoch's last keyblock is pinned (members of the outgoing group). */
	async maybeStart(): Promise<void> {
		const { chain } = this.options;
		const epoch = chain.epochs;
		if (chain.height < epoch * chain.membershipParams.epochLength) return;
		const outgoing = chain.groupOfEpoch(epoch - 1)!;
		const driver = this.options.driverFor(outgoing);
		if (driver && driver.height < epoch) await driver.start(epoch, outgoing);
	}

	/** ConsensusApplication.propose. */
	async propose(epoch: number): Promise<Bytes> {
		return this.incomingGroup(epoch).hash;
	}

	/** ConsensusApplication.validate: only the group this member ranks itself. */
	async validate(value: Bytes, epoch: number): Promise<boolean> {
		return this.isReady(epoch) && equalBytes(value, this.incomingGroup(epoch).hash);
	}

	/** The outgoing group decided: apply the hand-over and tell the network. */
	async decided(epoch: number, value: Bytes, certificate: Certificate): Promise<void> {
		const { chain } = this.options;
		if (epoch !== chain.epochs) return; // applied already through gossip or sync
		const group = this.incomingGroup(epoch);
		// A member whose ranking lost waits for the hand-over from one whose ranking won.
		if (!equalBytes(group.hash, value)) return;
		const handover: Handover = { epoch, members: [...group.members], certificate };
		await chain.apply({ type: 'handover', handover });
		await this.options.publish(handover);
	}

	private isReady(epoch: number): boolean {
		const { chain } = this.options;
		return epoch === chain.epochs && chain.height >= epoch * chain.membershipParams.epochLength;
	}
}
