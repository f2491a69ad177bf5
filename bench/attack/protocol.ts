/** The lines the attack bench and its attackers' process exchange (see attacker-main.ts). */
import type { AttackKind } from './attacker.ts';

export const ATTACK_PREFIX = 'ATTACK ';
export const MEMBER_NAMES = ['Aster Clinic', 'Birch Hospital', 'Cedar Health', 'Dogwood Medical'];

export type AttackCommand =
	| { type: 'view'; height: number; batches: number }
	| { type: 'prepare'; bootstrap: string[]; identities: number; members: number }
	| { type: 'flood'; kinds: AttackKind[]; perSecond: number; until: number; warmUp: number };
