/**
 * Balances as chain state: every transaction's fees are paid by an institution, and nothing is created
 * but the keyblock and microblock rewards (§5.2 reward system, §6.2.2 fixed fees against reputation
 * fraud). docs/protocol.md "Fees and balances" says the same in prose.
 *
 * - Payer: the institution a transaction is sent to (`body.institution`) pays its service and
 *   transaction fee. Patients have no account on the chain; they settle with their clinic for the
 *   visit. So an institution that fakes zombie patients pays every one of their fees itself.
 * - Endowment: each genesis institution starts with ENDOWMENT_KEYBLOCK_REWARDS keyblock rewards, so a
 *   clinic that does not mine can serve patients from the first block (a consortium's genesis decision;
 *   derived from genesis so the genesis format stays as it is).
 * - When: a register's fees when the keyblock packing it is pinned (the miner is credited the keyblock
 *   reward plus those fees, rewards.ts); a record's fees when it is attached (only then does every node
 *   hold its body), credited as the batch's fees: the attaching institution (the microblock's creator)
 *   takes the creator share, the members of the group that pinned the batch the rest by reputation
 *   weight. The microblock reward is credited when the batch is pinned: creator share to the proposer
 *   that assembled it, the rest to the group's members. Members, not the signers of one certificate:
 *   nodes hold different certificates of one decision, and balances must be the same on every node.
 * - Refusal: a keyblock whose register payers cannot pay, or an attachment whose payer cannot, is
 *   invalid ('balance-insufficient'); nodes check the same rule before anyone signs (the clinic before
 *   it asks the patient, the mempool on admission, members before they pin).
 * All amounts are bigint; every check runs before any balance changes, so a refused fact changes nothing.
 */
import { bytesToHex, type Bytes } from './bytes.ts';
import type { GroupMember } from './consensus/group.ts';
import { ValidationError } from './errors.ts';
import type { GenesisConfig } from './genesis.ts';
import { rewardsOf, type RewardParams, type Verifier } from './rewards.ts';
import type { Fees } from './transaction.ts';

/** Creators' part of a batch's reward and fees (basis points); the group's members share the rest. */
export const CREATOR_SHARE_BPS = 2000;
/** Each genesis institution's opening balance, in keyblock rewards. */
export const ENDOWMENT_KEYBLOCK_REWARDS = 1000n;

/** What the accounts need of a transaction body: who pays and how much. */
export interface Payable {
	institution: Bytes;
	fees: Fees;
}

export function feeOf(body: Pick<Payable, 'fees'>): bigint {
	return BigInt(body.fees.service) + BigInt(body.fees.transaction);
}

/** What the accounts read from genesis (the simulator passes its own consortium in this shape). */
export type AccountsGenesis = Pick<GenesisConfig, 'keyblockReward' | 'microblockReward'> & {
	institutions: readonly { id: Bytes }[];
};

export function rewardParamsOf(genesis: AccountsGenesis): RewardParams {
	return {
		keyblockReward: BigInt(genesis.keyblockReward),
		microblockReward: BigInt(genesis.microblockReward),
		creatorShare: CREATOR_SHARE_BPS
	};
}

/** Fees each payer owes for `bodies`, by institution id (hex). */
export function feesByPayer(bodies: Iterable<Payable>): Map<string, bigint> {
	const out = new Map<string, bigint>();
	// The bodies of one attachment or batch share few payers: their keys are made once per run of one.
	let last: Bytes | undefined;
	let key = '';
	for (const body of bodies) {
		if (body.institution !== last) [last, key] = [body.institution, bytesToHex(body.institution)];
		out.set(key, (out.get(key) ?? 0n) + feeOf(body));
	}
	return out;
}

/** A batch's verifiers: the members of the group that pinned it (any quorum's certificate is the same decision). */
export const verifiersOf = (members: readonly GroupMember[]): Verifier[] =>
	members.map((m) => ({ id: m.id, reputation: m.reputation }));

export class FeeAccounts {
	private readonly balances = new Map<string, bigint>();
	private readonly params: RewardParams;

	constructor(genesis: AccountsGenesis) {
		this.params = rewardParamsOf(genesis);
		const endowment = ENDOWMENT_KEYBLOCK_REWARDS * this.params.keyblockReward;
		for (const institution of genesis.institutions) this.balances.set(bytesToHex(institution.id), endowment);
	}

	balance(institution: Bytes | string): bigint {
		return this.balances.get(typeof institution === 'string' ? institution : bytesToHex(institution)) ?? 0n;
	}

	/** Every balance, by institution id (hex). */
	all(): Map<string, bigint> {
		return new Map(this.balances);
	}

	/**
	 * Throws 'balance-insufficient' unless every payer of `bodies` holds their fees on top of what it
	 * already owes (`owed`, e.g. its transactions waiting in a mempool). Changes nothing.
	 */
	checkPayable(bodies: Iterable<Payable>, what: string, owed: ReadonlyMap<string, bigint> = new Map()): void {
		for (const [payer, fees] of feesByPayer(bodies)) {
			const need = fees + (owed.get(payer) ?? 0n);
			const has = this.balance(payer);
			if (has < need)
				throw new ValidationError(
					'balance-insufficient',
					`${what}: institution ${payer.slice(0, 16)}… holds ${has} and would owe ${need} in fees`
				);
		}
	}

	/** A pinned keyblock: its registers' payers pay, then its miner gets the reward plus those fees. */
	applyKeyblock(height: number, miner: Bytes, registers: readonly Payable[]): void {
		this.checkPayable(registers, `keyblock ${height}`);
		let registerFees = 0n;
		for (const [payer, fees] of feesByPayer(registers)) {
			this.add(payer, -fees);
			registerFees += fees;
		}
		this.credit(rewardsOf({ type: 'keyblock', height, miner, registerFees }, this.params));
	}

	/** A pinned batch: the microblock reward, to its proposer (creator share) and the group's members. */
	applyBatch(sequence: number, proposer: Bytes, group: readonly GroupMember[]): void {
		this.credit(
			rewardsOf(
				{
					type: 'batch',
					sequence,
					creators: [{ id: proposer, transactions: 1 }],
					fees: 0n,
					verifiers: verifiersOf(group)
				},
				this.params
			)
		);
	}

	/**
	 * An attachment by `creator`: each entry's payer pays its fees; per batch, those fees are shared
	 * between the creator and the members of the group that pinned the batch.
	 */
	applyAttachment(
		creator: Bytes,
		parts: readonly { sequence: number; bodies: readonly Payable[]; group: readonly GroupMember[] }[]
	): void {
		this.checkPayable(
			parts.flatMap((p) => p.bodies),
			'attachment'
		);
		for (const part of parts) {
			let fees = 0n;
			for (const [payer, owed] of feesByPayer(part.bodies)) {
				this.add(payer, -owed);
				fees += owed;
			}
			const fact = {
				type: 'batch' as const,
				sequence: part.sequence,
				creators: [{ id: creator, transactions: part.bodies.length }],
				fees,
				verifiers: verifiersOf(part.group)
			};
			this.credit(rewardsOf(fact, { ...this.params, microblockReward: 0n }));
		}
	}

	private credit(amounts: ReadonlyMap<string, bigint>): void {
		for (const [id, amount] of amounts) this.add(id, amount);
	}

	private add(id: string, amount: bigint): void {
		this.balances.set(id, (this.balances.get(id) ?? 0n) + amount);
	}
}
