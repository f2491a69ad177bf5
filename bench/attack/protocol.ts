/** The lines the attack bench, its attackers' process and its member process exchange. */
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
}

export type MemberReport =
	{ type: 'status'; height: number; peers: number; banned: string[] } | { type: 'hashes'; hashes: string[] };
