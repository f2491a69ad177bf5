/** What the libp2p deployment of the throughput bench (deployment.ts) and its members exchange. */
import type { GenesisConfig } from '../../src/lib/core/genesis.ts';
import { devInstitution, targetForExpectedHashes } from '../../tests/fixtures/genesis-dev.ts';
import { attackGenesis, type MemberSetup } from '../attack/protocol.ts';

/**
 * The member institutions, in genesis order (the first epoch's group is the first X of them). The
 * records' author, Aster, comes after them: an institution outside the group, so no member spends
 * proving time attaching records (step 6 of Upload, after the pin this bench measures).
 */
export const GROUP_NAMES = [
	'Birch Hospital',
	'Cedar Health',
	'Dogwood Medical',
	'Elm Family Practice',
	'Fir Street Clinic',
	'Ginkgo Care',
	'Hazel Hospice',
	'Ivy Medical Centre',
	'Juniper Clinic',
	'Kapok Health',
	'Larch Hospital',
	'Maple Practice',
	'Nutmeg Clinic'
];

export interface DeploymentSetup extends MemberSetup {
	/** The consortium's institution names in genesis order; the first `groupSize` are the group. */
	institutions: string[];
	groupSize: number;
}

export type DeploymentCommand =
	| { type: 'mining'; on: boolean }
	/** Submit the transactions in `file` (a JSON array of hex encodings) through the node, in order. */
	| { type: 'submit'; file: string; track: boolean }
	/** Answer with the latencies of the tracked transactions pinned so far. */
	| { type: 'report' };

export type DeploymentReport =
	| { type: 'batch'; sequence: number; count: number; at: number }
	| { type: 'submitted'; count: number; refused: number; firstRefusal?: string; at: number }
	| { type: 'latencies'; latencies: number[]; lastPinAt: number; errors: string[] };

/**
 * Fixed difficulty (attack/protocol.ts), 1/128 of the attack bench's work per keyblock so the set-up's
 * keyblocks come quickly even on a starved machine (mining is not what this bench measures), and no hand-over: the first X institutions stay the group.
 */
export function deploymentGenesis(timestamp: number, names: string[], groupSize: number): GenesisConfig {
	return attackGenesis(timestamp, {
		institutions: names.map((name) => devInstitution(name).institution),
		consensusGroupSize: groupSize,
		initialTarget: targetForExpectedHashes(1n << 14n)
	});
}
