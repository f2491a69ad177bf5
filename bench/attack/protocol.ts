/** The lines the attack bench, its attackers' process and its member process exchange. */
import type { GenesisConfig } from '../../src/lib/core/genesis.ts';
import { devGenesis, targetForExpectedHashes } from '../../tests/fixtures/genesis-dev.ts';
import type { AttackKind } from './attacker.ts';

export const ATTACK_PREFIX = 'ATTACK ';
export const MEMBER_PREFIX = 'MEMBER ';
export const MEMBER_NAMES = ['Aster Clinic', 'Birch Hospital', 'Cedar Health', 'Dogwood Medical'];

export type AttackCommand =
	| { type: 'view'; height: number; batches: number }
	| { type: 'prepare'; bootstrap: string[]; identities: number; members: number }
	| { type: 'flood'; kinds: AttackKind[]; perSecond: number; until: number; warmUp: number };

/** What the bench tells a member process (member-main.ts) through SPCHAIN_ATTACK_MEMBER. */
export interface MemberSetup {
	index: number;
	storeDir: string;
	bootstrap: string[];
	genesisTimestamp: number;
	/** Hex of the protobuf libp2p key: the same peer id after a restart. */
	privateKey: string;
	/** The other members' and the relay's peer ids: the consortium's own, protected peers. */
	protectedIds: string[];
	/** Multiaddrs to listen on (default: a free loopback port). */
	listen?: string[];
}

export type MemberReport =
	| {
			type: 'status';
			height: number;
			peers: number;
			banned: string[];
			/** The throughput deployment's members add these (bench/throughput/deployment-member.ts). */
			batches?: number;
			patients?: number;
			mempool?: number;
	  }
	| { type: 'hashes'; hashes: string[] }
	/** A garbage collection ran, as asked on stdin: RSS read now is what the member keeps. */
	| { type: 'collected' };

/**
 * The bench's genesis. The difficulty never retargets (a real chain retargets every 10 keyblocks
 * towards one per 10 s): with it fixed, the pin rate of every phase is comparable with the quiet
 * baseline's, instead of falling from the start's fast blocks to the interval whatever the attack.
 * No hand-over during the bench either: the four stay the group.
 */
export function attackGenesis(timestamp: number, overrides: Partial<GenesisConfig> = {}): GenesisConfig {
	return devGenesis({
		timestamp,
		initialTarget: targetForExpectedHashes(1n << 21n),
		retargetInterval: 1_000_000,
		epochLength: 100_000,
		...overrides
	});
}
