/**
 * Which consensus group certifies what on a node's chain (chain-state.ts), so that every node picks the
 * same group without a clock: keyblock h is pinned by the group of epochOf(h) (the keyblocks of a new
 * epoch wait for its hand-over); batch n is pinned by the group of the epoch of batch n−1's keyblock
 * round (batch 1 by the genesis group), a fact every node holds before it can start batch n.
 */
import { equalBytes } from '../core/bytes.ts';
import type { ConsensusKind } from '../core/certificate.ts';
import { ConsensusGroup } from '../core/consensus/group.ts';
import {
	epochOf,
	verifyHandover,
	type Handover,
	type MembershipParams
} from '../core/consensus/membership.ts';
import { ensure } from '../core/errors.ts';

export class GroupSchedule {
	/** Group of each epoch so far, by epoch number (epoch 0: genesis). */
	private readonly groups: ConsensusGroup[];
	/** The hand-overs applied, in epoch order (light clients are served them, light-sync.ts). */
	private readonly handovers: Handover[] = [];

	constructor(
		genesisGroup: ConsensusGroup,
		readonly membership: MembershipParams,
		/** The keyblock round of pinned batch `sequence`, once it is known. */
		private readonly batchRound: (sequence: number) => number | undefined
	) {
		this.groups = [genesisGroup];
	}

	/** The newest group: the one in office (or about to be, once the chain reaches its epoch). */
	get group(): ConsensusGroup {
		return this.groups[this.groups.length - 1]!;
	}

	get epochs(): number {
		return this.groups.length;
	}

	/** The group that pins keyblock `height`, or undefined while its epoch's hand-over is missing. */
	groupFor(height: number): ConsensusGroup | undefined {
		return this.groups[epochOf(height, this.membership)];
	}

	/** The group that pins batch `sequence` (see the header); undefined until batch sequence−1 is known. */
	groupForBatch(sequence: number): ConsensusGroup | undefined {
		if (sequence <= 1) return this.groups[0];
		const round = this.batchRound(sequence - 1);
		return round === undefined ? undefined : this.groupFor(Math.max(1, round));
	}

	groupOfEpoch(epoch: number): ConsensusGroup | undefined {
		return this.groups[epoch];
	}

	/** The hand-over to `epoch` (1 onwards), once applied. */
	handover(epoch: number): Handover | undefined {
		return this.handovers[epoch - 1];
	}

	/** The group whose members vote at `height` of consensus `kind` (undefined while it is unknown). */
	groupForVotes(kind: ConsensusKind, height: number): ConsensusGroup | undefined {
		switch (kind) {
			case 'keyblock':
				return this.groupFor(height);
			case 'transactions':
				return this.groupForBatch(height);
			case 'membership':
				return this.groupOfEpoch(height - 1);
		}
	}

	/**
	 * The keyblock height an offence at `height` of `kind` belongs to, the same on every node however late
	 * the evidence reaches it: the keyblock itself, the round whose group pins the batch, or the epoch's end.
	 */
	offenceHeight(kind: ConsensusKind, height: number): number {
		switch (kind) {
			case 'keyblock':
				return height;
			case 'transactions':
				return Math.max(1, this.batchRound(height - 1) ?? 1);
			case 'membership':
				return height * this.membership.epochLength;
		}
	}

	/** Whether the hand-over to this epoch, with this certificate, is the one applied. */
	knows(handover: Handover): boolean {
		const known = this.groups[handover.epoch];
		return known !== undefined && equalBytes(known.hash, handover.certificate.value);
	}

	/**
	 * The rules of a hand-over on a chain of height `height`: the next epoch, after the outgoing epoch's
	 * end, a group of consortium institutions with their BLS keys, certified by the outgoing group.
	 * Returns the incoming group (a full node ranks it against its own chain before it admits it). A
	 * light client keeps no keyblocks: it passes no height, and the certificate stands for the epoch's end.
	 */
	checkHandover(
		handover: Handover,
		height: number | undefined,
		isInstitutionKey: (member: Handover['members'][number]) => boolean
	): ConsensusGroup {
		ensure(
			handover.epoch === this.groups.length,
			'handover-epoch',
			`expected the hand-over to epoch ${this.groups.length}, got epoch ${handover.epoch}`
		);
		// The outgoing group hands over once its last keyblock is pinned, not before.
		ensure(
			height === undefined || height >= handover.epoch * this.membership.epochLength,
			'handover-early',
			`the hand-over to epoch ${handover.epoch} comes before the end of epoch ${handover.epoch - 1}`
		);
		ensure(
			handover.members.length <= this.membership.groupSize,
			'handover-size',
			`the hand-over names ${handover.members.length} members; the group has at most ${this.membership.groupSize}`
		);
		ensure(
			handover.members.every(isInstitutionKey),
			'handover-member',
			'the hand-over names a member that is not a consortium institution with its BLS key'
		);
		return verifyHandover(this.groups[handover.epoch - 1]!, handover);
	}

	/** Adds a hand-over checked now or before (a restart replays it without its rules). */
	admit(handover: Handover, incoming = new ConsensusGroup(handover.members, handover.epoch)): void {
		this.groups.push(incoming);
		this.handovers.push(handover);
	}
}
