/**
 * Consensus voting state (locks, last signed message) in the node's store: the machine awaits `save`
 * before any signed message leaves, so a member that crashes and restarts never signs two conflicting
 * values at one (height, round, step).
 */
import type { ConsensusKind } from '../core/certificate.ts';
import {
	decodeVotingState,
	encodeVotingState,
	type VotingState,
	type VotingStateStore
} from '../core/consensus/voting-state.ts';
import type { Store } from '../store/store.ts';

export class StoredVotingState implements VotingStateStore {
	constructor(private readonly store: Store) {}

	async load(kind: ConsensusKind): Promise<VotingState | null> {
		const bytes = await this.store.get('voting', kind);
		return bytes ? decodeVotingState(bytes) : null;
	}

	async save(state: VotingState): Promise<void> {
		await this.store.write([{ table: 'voting', key: state.kind, value: encodeVotingState(state) }]);
	}
}
