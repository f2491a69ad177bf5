/**
 * Reputation fraud (§4.3, §6.2.2): an institution registers N zombie patients and has them send medical
 * transactions to itself. How much reputation does that buy, and what does it cost under the chain's
 * own fee rules?
 *
 * Consortium: `institutions` equal institutions (equal hash share, equal share of real patients,
 * Poisson per chunk). Institution 0 is the fraudster. Each zombie is one register transaction and
 * `zombieVisits` medical transactions. Strategies: `steady` spreads zombies evenly over the horizon
 * (the regular service R2 rewards), `burst` puts them all in the last chunk before the measurement.
 *
 * Money runs through the node's accounts (core balances.ts FeeAccounts, what ChainState applies): the
 * institution a transaction is sent to pays its fees, from its genesis endowment and what it earned;
 * register fees go to the miner of the keyblock that packs them, record fees to the attaching institution
 * (creator share) and the members of the group that pinned the batch; microblock rewards per batch of
 * `batchCapacity`. A zombie its fraudster cannot pay for is refused, as the chain refuses it. The group
 * is handed over every chunk by core rankIncomingGroup. Real patients reimburse their clinic off-chain
 * (the service fee is the visit's price); zombies do not, so the fraud's cost is its net on-chain cost:
 * the fraudster's balance without the fraud minus its balance with it (same seed). Transactions are
 * handed to the accounts aggregated per institution and kind (one payable carrying n transactions' fees),
 * which gives the same sums as n payables, since each attachment has one creator.
 */
import { FeeAccounts, type Payable } from '../core/balances.ts';
import { fromHex } from '../core/bytes.ts';
import { rankIncomingGroup } from '../core/consensus/membership.ts';
import { ValidationError } from '../core/errors.ts';
import { consensusGroup } from '../core/reputation.ts';
import { ActivityLedger, simulatedInstitutionId } from './activity-ledger.ts';
import { lineChartSvg } from './chart.ts';
import { seededRandom } from './random.ts';
import {
	KEYBLOCKS_PER_DAY,
	list,
	round,
	scalar,
	type ParamValues,
	type Scenario,
	REPUTATION_PARAMS,
	reputationParams as repParams
} from './scenario.ts';

export type FraudStrategy = 'steady' | 'burst';

export interface FraudOutcome {
	zombies: number;
	strategy: FraudStrategy;
	r2: number;
	r: number;
	/** 1 = highest R in the consortium. */
	rank: number;
	inGroup: boolean;
	/** Zombies whose transactions the chain took (the rest were refused: their fraudster could not pay). */
	zombiesAccepted: number;
	/** Zombie medical transactions the chain took. */
	medicalAccepted: number;
	/** Fees the fraudster paid for its zombies' transactions. */
	feesPaid: number;
	/** The fraudster's balance at the end. */
	balance: number;
}

/** Splits `total` into `parts` integers as evenly as possible (earlier parts get the remainder). */
function spread(total: number, parts: number, index: number): number {
	return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

function isRefusal(error: unknown): boolean {
	return error instanceof ValidationError && error.code === 'balance-insufficient';
}

export function simulateFraud(
	params: ParamValues,
	seed: number,
	zombies: number,
	strategy: FraudStrategy
): FraudOutcome {
	const chunkSize = scalar(params, 'chunkSize');
	const count = scalar(params, 'institutions');
	const groupSize = scalar(params, 'groupSize');
	const capacity = scalar(params, 'batchCapacity');
	const blocks = Math.round(scalar(params, 'days') * KEYBLOCKS_PER_DAY);
	const chunks = Math.ceil(blocks / chunkSize);
	const visits = scalar(params, 'zombieVisits');
	if (!Number.isSafeInteger(zombies) || zombies < 0) throw new RangeError('zombies must be a count ≥ 0');
	if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError('batchCapacity must be ≥ 1');
	const ids = Array.from({ length: count }, (_, i) => simulatedInstitutionId(i));
	const idBytes = ids.map((id) => fromHex(id));
	const ledger = new ActivityLedger(ids, repParams(params));
	const accounts = new FeeAccounts({
		institutions: idBytes.map((id) => ({ id })),
		keyblockReward: scalar(params, 'keyblockReward'),
		microblockReward: scalar(params, 'microblockReward')
	});
	const registerFees = {
		service: scalar(params, 'registerServiceFee'),
		transaction: scalar(params, 'registerTxFee')
	};
	const medicalFees = {
		service: scalar(params, 'medicalServiceFee'),
		transaction: scalar(params, 'medicalTxFee')
	};
	const payable = (i: number, n: number, fees: typeof registerFees): Payable => ({
		institution: idBytes[i]!,
		fees: { service: n * fees.service, transaction: n * fees.transaction }
	});
	const root = seededRandom(seed);
	const mining = root.fork(1);
	const patients = root.fork(3);
	const registerMean = scalar(params, 'registerPerChunk') / count;
	const medicalMean = scalar(params, 'medicalPerChunk') / count;
	let group = ids.slice(0, groupSize).map((id) => ({ id, r: 1 }));
	let sequence = 0;
	let accepted = 0;
	let medicalAccepted = 0;
	let feesPaid = 0;
	for (let chunk = 0; chunk < chunks; chunk++) {
		const size = Math.min(chunkSize, blocks - chunk * chunkSize);
		const registers = ids.map(() => patients.poisson(registerMean));
		const medical = ids.map(() => patients.poisson(medicalMean));
		const fake = strategy === 'steady' ? spread(zombies, chunks, chunk) : chunk === chunks - 1 ? zombies : 0;
		// Registers are packed evenly into the chunk's keyblocks; what its payer cannot pay is refused.
		let fakeRegistered = 0;
		const registered = ids.map(() => 0);
		for (let b = 0; b < size; b++) {
			const miner = Math.floor(mining.float() * count);
			ledger.addKeyblock(miner);
			const packed: Payable[] = [];
			const pack = (i: number, wanted: number): number => {
				let taken = wanted;
				while (taken > 0) {
					try {
						accounts.checkPayable([...packed, payable(i, taken, registerFees)], 'keyblock');
						packed.push(payable(i, taken, registerFees));
						break;
					} catch (error) {
						if (!isRefusal(error)) throw error;
						taken = Math.floor(taken / 2);
					}
				}
				return taken;
			};
			registers.forEach((n, i) => (registered[i]! += pack(i, spread(n, size, b))));
			fakeRegistered += pack(0, spread(fake, size, b));
			accounts.applyKeyblock(ledger.length, idBytes[miner]!, packed);
		}
		accepted += fakeRegistered;
		feesPaid += fakeRegistered * (registerFees.service + registerFees.transaction);
		// Record transactions in batches of `capacity`, pinned by the group in office, then attached.
		const members = group.map((m) => ({
			id: fromHex(m.id),
			blsPublicKey: new Uint8Array(0),
			reputation: m.r
		}));
		const attach = (i: number, n: number): number => {
			let done = 0;
			for (let left = n; left > 0;) {
				const k = Math.min(capacity, left);
				sequence++;
				accounts.applyBatch(sequence, members[sequence % members.length]!.id, members);
				try {
					accounts.applyAttachment(idBytes[i]!, [
						{ sequence, bodies: [payable(i, k, medicalFees)], group: members }
					]);
				} catch (error) {
					if (!isRefusal(error)) throw error;
					break;
				}
				done += k;
				left -= k;
			}
			return done;
		};
		const real = medical.map((n, i) => attach(i, n));
		const fakeMedical = attach(0, fakeRegistered * visits);
		medicalAccepted += fakeMedical;
		feesPaid += fakeMedical * (medicalFees.service + medicalFees.transaction);
		for (let i = 0; i < count; i++)
			ledger.addTransactions(
				i,
				registered[i]! + (i === 0 ? fakeRegistered : 0),
				real[i]! + (i === 0 ? fakeMedical : 0)
			);
		// Hand-over at the chunk's end by the node's ranking.
		const standings = ledger.standings();
		const rOf = new Map(standings.map((s) => [s.institution, s.r]));
		const next = rankIncomingGroup(standings, chunk + 1, { groupSize, epochLength: chunkSize });
		group = next.map((id) => ({ id, r: rOf.get(id)! }));
	}
	const all = ledger.reputations();
	const order = consensusGroup(all, all.length);
	return {
		zombies,
		strategy,
		r2: all[0]!.r2,
		r: all[0]!.r,
		rank: order.indexOf(ids[0]!) + 1,
		inGroup: group.some((m) => m.id === ids[0]),
		zombiesAccepted: accepted,
		medicalAccepted,
		feesPaid,
		balance: Number(accounts.balance(idBytes[0]!))
	};
}

const COLUMNS = [
	'strategy',
	'zombies',
	'accepted',
	'medical_accepted',
	'r2',
	'r',
	'delta_r',
	'rank',
	'in_group',
	'fees_paid',
	'balance',
	'net_cost',
	'delta_r_per_1000_net'
];

export const fraud: Scenario = {
	name: 'fraud',
	title: 'Reputation fraud: zombie patients paid for under the chain’s fee rules',
	description:
		'Institution 0 adds N zombie patients (one register + v medical txs each) and pays their fees as the chain debits them; reputation gained vs net cost.',
	params: [
		{ name: 'zombies', label: 'Zombie patients N', default: [0, 1000, 10000, 100000] },
		{ name: 'zombieVisits', label: 'Medical txs per zombie', default: 4 },
		{ name: 'institutions', label: 'Institutions', default: 10 },
		{ name: 'groupSize', label: 'Consensus group size X', default: 4 },
		{ name: 'days', label: 'Horizon (days)', default: 365 },
		...REPUTATION_PARAMS,
		{ name: 'registerPerChunk', label: 'Real register txs per chunk (network)', default: 500 },
		{ name: 'medicalPerChunk', label: 'Real medical+label txs per chunk (network)', default: 5000 },
		{ name: 'batchCapacity', label: 'Transactions per pinned batch T_m', default: 100 },
		{ name: 'keyblockReward', label: 'Keyblock reward', default: 1000 },
		{ name: 'microblockReward', label: 'Microblock reward', default: 100 },
		{ name: 'registerServiceFee', label: 'Register service fee', default: 10 },
		{ name: 'registerTxFee', label: 'Register transaction fee', default: 2 },
		{ name: 'medicalServiceFee', label: 'Medical service fee', default: 20 },
		{ name: 'medicalTxFee', label: 'Medical transaction fee', default: 2 }
	],
	run(params, seed) {
		const strategies: FraudStrategy[] = ['steady', 'burst'];
		const outcomes = strategies.flatMap((s) =>
			[0, ...list(params, 'zombies').filter((n) => n !== 0)].map((n) => simulateFraud(params, seed, n, s))
		);
		const baseline = (s: FraudStrategy) => outcomes.find((o) => o.strategy === s && o.zombies === 0)!;
		const rows = outcomes.map((o) => {
			const base = baseline(o.strategy);
			const delta = round(o.r - base.r);
			const net = base.balance - o.balance;
			return [
				o.strategy,
				o.zombies,
				o.zombiesAccepted,
				o.medicalAccepted,
				round(o.r2),
				round(o.r),
				delta,
				o.rank,
				o.inGroup ? 'yes' : 'no',
				o.feesPaid,
				o.balance,
				net,
				net <= 0 ? '' : round((delta / net) * 1000, 9)
			];
		});
		const svg = lineChartSvg({
			title: `Fraudster's R vs its net on-chain cost (log10) (seed ${seed})`,
			xLabel: 'log10(1 + net cost)',
			yLabel: "fraudster's reputation R",
			yDomain: [0, 1],
			series: strategies.map((s) => ({
				name: s,
				points: outcomes
					.filter((o) => o.strategy === s)
					.map((o) => [Math.log10(1 + Math.max(0, baseline(s).balance - o.balance)), o.r])
			}))
		});
		const table = { name: 'fraud', columns: COLUMNS, rows };
		return { tables: [table], charts: [{ name: 'fraud', svg }], summary: table };
	}
};
