/**
 * Consensus-group hand-over at epoch boundaries (section 5.2; the certificate rules are core
 * membership.ts). Once the last keyblock of epoch e−1 is pinned, the outgoing group runs one height of
 * the 'membership' consensus (height = e) over the hash of the incoming group: the top X institutions by
 * the reputation the chain implies at the epoch's end. A member proposes, and accepts, only the group it
 * computes itself, so the certificate says that more than 2/3 of the outgoing members (by count and by
 * reputation) ranked the chain the same way. The certificate with the member list is the hand-over: a
 * chain fact every node verifies against the outgoing group, and gossiped.
 *
 * Candidates, as in RepuCoin: the institutions that mined at least one keyblock of the epoch just
 * ended (work proves they are up; an institution that has gone away must not hold a seat, or a group
 * with more than a third of absent members could never pin again), less any whose equivocation is
 * evidence on the chain (H = 0: no seat, whatever its work). Ranking input: keyblocks 1..end
 * (mining work, register counts) and the record transactions of rounds before the last epoch (pinned
 * and attached long before the boundary), so honest members compute the same group; if their views
 * still differ, the round times out and the next proposer's value is judged again until they agree.
 */
import { bytesToHex, equalBytes, type Bytes } from '../core/bytes.ts';
import type { Certificate } from '../core/certificate.ts';
import type { ConsensusGroup } from '../core/consensus/group.ts';
import { selectGroup, type Handover } from '../core/consensus/membership.ts';
import { honestFlag } from '../core/reputation.ts';
import type { ChainState } from './chain-state.ts';
import { chainReputations } from './chain-metrics.ts';
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
		const { chain } = this.options;
		const { epochLength, groupSize } = chain.membershipParams;
		const end = epoch * epochLength;
		const reputations = new Map(
			chainReputations(chain, end, Math.max(0, end - epochLength)).map((r) => [r.institution, r.r])
		);
		const miners = new Set<string>();
		for (let height = Math.max(1, end - epochLength + 1); height <= end; height++)
			miners.add(bytesToHex(chain.ledger.keyblock(height)!.block.header.miner));
		const candidates = chain.ledger.genesis.institutions
			.filter((institution) => {
				const id = bytesToHex(institution.id);
				return miners.has(id) && honestFlag(id, chain.misbehaviour, end);
			})
			.map((institution) => ({
				id: institution.id,
				blsPublicKey: institution.blsKey,
				reputation: reputations.get(bytesToHex(institution.id)) ?? 0
			}));
		return selectGroup(candidates, epoch, { epochLength, groupSize });
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
