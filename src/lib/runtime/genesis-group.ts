/**
 * The consensus group that certifies pins on this network. At genesis no institution has reputation yet
 * (R is earned over chunks of keyblocks), so the first epoch's group is the first X institutions of the
 * genesis consortium with equal weight; later groups come from certified hand-overs (core membership.ts).
 */
import { ConsensusGroup } from '../core/consensus/group.ts';
import type { GenesisConfig } from '../core/genesis.ts';

export function genesisGroup(genesis: GenesisConfig): ConsensusGroup {
	return new ConsensusGroup(
		genesis.institutions
			.slice(0, genesis.consensusGroupSize)
			.map((institution) => ({ id: institution.id, blsPublicKey: institution.blsKey, reputation: 1 })),
		0
	);
}
