/**
 * The consensus group of one epoch: the top-X institutions by reputation (section 5.2), each with a
 * BLS public key and its reputation. Section 5.3 (6) asks for a double quorum: a decision needs
 * signatures from MORE than 2/3 of the members AND from members holding MORE than 2/3 of the
 * group's total reputation.
 *
 * Reputation is a real number in the paper (R ∈ [0, 1]); quorum arithmetic must give the same answer on
 * every machine, so each reputation is fixed to an integer weight (REPUTATION_SCALE units, rounded)
 * and all sums are exact integers.
 *
 * Members are ordered by id so the signer bitmap of a certificate means the same on every node, and the
 * group hash (epoch, ids, keys, weights) is bound into every signed statement: a signature made for one
 * group is never counted for another.
 */
import { bytesToHex, compareBytes, type Bytes } from '../bytes.ts';
import { encodeCanonical } from '../encoding.ts';
import { ensure, ValidationError } from '../errors.ts';
import { taggedHash } from '../hash.ts';
import { assertBlsPublicKey, BLS_PUBLIC_KEY_LENGTH } from './bls.ts';

export const MEMBER_ID_LENGTH = 32;
/** Integer units per unit of reputation (1e-6 resolution). */
export const REPUTATION_SCALE = 1_000_000;
/** Upper bound on group size (paper evaluates 4-13 members); bounds bitmaps and vote sets. */
export const MAX_GROUP_SIZE = 256;

/** What the consensus needs to know about an institution; identity/genesis records carry more. */
export interface GroupMember {
	id: Bytes;
	blsPublicKey: Bytes;
	reputation: number;
}

export function reputationWeight(reputation: number): number {
	if (!Number.isFinite(reputation) || reputation < 0 || reputation > 1_000_000)
		throw new ValidationError(
			'group-reputation',
			`reputation must be a finite number in [0, 1e6], got ${reputation}`
		);
	return Math.round(reputation * REPUTATION_SCALE);
}

export class ConsensusGroup {
	readonly members: readonly GroupMember[];
	readonly weights: readonly number[];
	readonly totalWeight: number;
	/** Binds signatures to this exact group (see header). */
	readonly hash: Bytes;
	private readonly index = new Map<string, number>();

	constructor(
		members: readonly GroupMember[],
		readonly epoch = 0
	) {
		ensure(members.length > 0, 'group-empty', 'a consensus group needs at least one member');
		ensure(
			members.length <= MAX_GROUP_SIZE,
			'group-size',
			`a consensus group has at most ${MAX_GROUP_SIZE} members`
		);
		ensure(Number.isSafeInteger(epoch) && epoch >= 0, 'group-epoch', 'epoch must be an unsigned integer');
		const sorted = [...members].sort((a, b) => compareBytes(a.id, b.id));
		for (const [i, member] of sorted.entries()) {
			ensure(
				member.id.length === MEMBER_ID_LENGTH,
				'group-member-id',
				`member id must be ${MEMBER_ID_LENGTH} bytes`
			);
			ensure(
				member.blsPublicKey.length === BLS_PUBLIC_KEY_LENGTH,
				'group-member-key',
				`member BLS key must be ${BLS_PUBLIC_KEY_LENGTH} bytes`
			);
			assertBlsPublicKey(member.blsPublicKey);
			const key = bytesToHex(member.id);
			ensure(!this.index.has(key), 'group-duplicate-member', `member ${key} appears twice`);
			this.index.set(key, i);
		}
		this.members = sorted.map((m) => ({ id: m.id, blsPublicKey: m.blsPublicKey, reputation: m.reputation }));
		this.weights = sorted.map((m) => reputationWeight(m.reputation));
		this.totalWeight = this.weights.reduce((a, b) => a + b, 0);
		ensure(this.totalWeight > 0, 'group-reputation', 'the group holds no reputation at all');
		this.hash = taggedHash(
			'SPChain/consensus-group',
			encodeCanonical({
				epoch,
				members: sorted.map((m, i) => [m.id, m.blsPublicKey, this.weights[i]!])
			})
		);
	}

	get size(): number {
		return this.members.length;
	}

	/** Index of a member in bitmap order, or -1. */
	indexOf(id: Bytes): number {
		return this.index.get(bytesToHex(id)) ?? -1;
	}

	private tally(indices: Iterable<number>): { count: number; weight: number } {
		let count = 0;
		let weight = 0;
		for (const i of new Set(indices)) {
			const w = this.weights[i];
			if (w === undefined) continue;
			count++;
			weight += w;
		}
		return { count, weight };
	}

	/** More than 2/3 of the members AND more than 2/3 of the reputation (section 5.3 (6)). */
	isQuorum(indices: Iterable<number>): boolean {
		const { count, weight } = this.tally(indices);
		return 3 * count > 2 * this.size && 3 * weight > 2 * this.totalWeight;
	}

	/**
	 * More than 1/3 of the members and of the reputation: with fewer than 1/3 Byzantine by both measures,
	 * such a set contains an honest member (Tendermint's "f + 1").
	 */
	isBlocking(indices: Iterable<number>): boolean {
		const { count, weight } = this.tally(indices);
		return 3 * count > this.size && 3 * weight > this.totalWeight;
	}

	/** Round-robin proposer: every member proposes once in any n consecutive rounds of a height. */
	proposer(height: number, round: number): number {
		return (height + round) % this.size;
	}
}
