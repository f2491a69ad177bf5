/**
 * Transactions patients sent that are not on the chain yet: register transactions wait for a miner to
 * pack them into a keyblock; medical and label transactions wait, per receiving institution (table B
 * of Algorithm 2), for the consensus group to pin them. Admission runs every rule the chain can check
 * now, including the chameleon proof, so a peer cannot fill the pool with transactions that will never
 * be pinned; entries that became invalid (expired round, registered meanwhile) are dropped on `prune`.
 *
 * Bounded against a hostile network: every kind's round window is checked at admission (a register
 * for a round more than REGISTER_ROUNDS_AHEAD past the next keyblock is refused, as is an expired
 * one), one patient may have only a few transactions waiting, and a full pool makes room by evicting
 * an entry of the patient with the most waiting, then the lowest fee, then the oldest (`makeRoom`).
 */
import { bytesToHex, fromHex, type Bytes } from '../core/bytes.ts';
import type { Ledger } from '../core/chain.ts';
import { feesByPayer, type FeeAccounts } from '../core/balances.ts';
import type { ChameleonVerifier } from '../core/chameleon.ts';
import { ensure, ValidationError } from '../core/errors.ts';
import type { InstitutionQueue } from '../core/selection.ts';
import {
	checkTransaction,
	isRecordTransaction,
	transactionId,
	type RecordBody,
	type RegisterBody,
	type Transaction
} from '../core/transaction.ts';

/** A waiting transaction the chain can no longer take (its round expired, or a rule it now fails). */
export interface DroppedTransaction {
	id: Bytes;
	code: string;
	message: string;
}

/** Bound on waiting transactions (memory); beyond it the least valuable entry makes room. */
export const MAX_MEMPOOL = 20_000;
/** A register may be made for a round this far past the next keyblock (clocks and tips differ a little). */
export const REGISTER_ROUNDS_AHEAD = 2;
/** Waiting transactions per patient: registers (one is packed; a spare for a retry) and records. */
export const MAX_REGISTERS_PER_PATIENT = 2;
export const MAX_RECORDS_PER_PATIENT = 64;

export interface MempoolLimits {
	capacity: number;
}

export class Mempool {
	private readonly registers = new Map<string, Transaction<RegisterBody>>();
	private readonly records = new Map<string, Transaction<RecordBody>>();
	/** When each transaction arrived here (ms): what a proposer surely had, and eviction by age. */
	private readonly arrivals = new Map<string, number>();
	/** Waiting transactions per patient (hex), registers and records apart. */
	private readonly perPatient = new Map<string, { registers: number; records: number }>();
	/** Fees the waiting transactions owe, by payer: kept as entries come and go, so a refusal costs no scan. */
	private readonly owedByPayer = new Map<string, bigint>();
	private readonly capacity: number;

	constructor(
		private readonly ledger: Ledger,
		private readonly verifier: ChameleonVerifier,
		private readonly clock: () => number = Date.now,
		/** The chain's balances: a transaction whose payer cannot pay its fees is refused (balances.ts). */
		private readonly accounts?: FeeAccounts,
		limits: Partial<MempoolLimits> = {}
	) {
		this.capacity = limits.capacity ?? MAX_MEMPOOL;
	}

	get size(): number {
		return this.registers.size + this.records.size;
	}

	has(id: Bytes): boolean {
		const key = bytesToHex(id);
		return this.registers.has(key) || this.records.has(key);
	}

	/**
	 * Checks and admits; returns false for a transaction already waiting. Throws ValidationError
	 * otherwise (cheap rules first: window and per-patient bound before signatures and proofs).
	 */
	async admit(tx: Transaction, isPinned: (id: Bytes) => boolean): Promise<boolean> {
		const id = transactionId(tx.body);
		const key = bytesToHex(id);
		if (this.registers.has(key) || this.records.has(key)) return false;
		ensure(!isPinned(id), 'tx-pinned-twice', 'this transaction is already pinned');
		const patient = bytesToHex(tx.body.patient);
		const waiting = this.perPatient.get(patient) ?? { registers: 0, records: 0 };
		if (isRecordTransaction(tx)) {
			ensure(
				waiting.records < MAX_RECORDS_PER_PATIENT,
				'mempool-patient',
				`this patient already has ${MAX_RECORDS_PER_PATIENT} records waiting; try again once some are pinned`
			);
			this.accounts?.checkPayable([tx.body], 'transaction', this.owedByPayer);
			const statement = this.ledger.checkRecordTransaction(tx);
			const [valid] = await this.verifier.verifyAll([statement]);
			if (!valid) throw new ValidationError('record-proof', 'the chameleon hash proof is not valid');
			if (this.records.has(key)) return false; // arrived again while its proof was checked
			this.makeRoom(tx);
			this.records.set(key, tx);
			waiting.records++;
		} else {
			const register = tx as Transaction<RegisterBody>;
			const next = this.ledger.height + 1;
			ensure(
				register.body.round <= next + REGISTER_ROUNDS_AHEAD,
				'tx-round',
				`the registration is made for round ${register.body.round}, which is too far ahead (next: ${next})`
			);
			ensure(
				next - register.body.round <= this.ledger.genesis.roundWindow,
				'tx-round',
				`the registration for round ${register.body.round} has expired`
			);
			ensure(
				waiting.registers < MAX_REGISTERS_PER_PATIENT,
				'mempool-patient',
				'this patient already has a registration waiting'
			);
			ensure(
				!this.ledger.patientBlock(register.body.patient),
				'register-again',
				'this patient is already registered; one registration serves every institution'
			);
			this.accounts?.checkPayable([tx.body], 'transaction', this.owedByPayer);
			checkTransaction(register, this.ledger.genesis.fees);
			this.makeRoom(tx);
			this.registers.set(key, register);
			waiting.registers++;
		}
		this.perPatient.set(patient, waiting);
		this.arrivals.set(key, this.clock());
		this.addOwed(tx, 1n);
		return true;
	}

	/**
	 * When the pool is full, evicts the least valuable entry for `tx`: one of the patient with the most
	 * waiting (a flood from few keys makes room first), then the lowest fee, then the oldest. Throws
	 * 'mempool-full' when `tx`'s patient would then hold more than that one's (a heavy key cannot churn
	 * the pool), or as many while `tx` pays less.
	 */
	private makeRoom(tx: Transaction): void {
		if (this.size < this.capacity) return;
		const countOf = (patient: Bytes) => {
			const waiting = this.perPatient.get(bytesToHex(patient));
			return (waiting?.registers ?? 0) + (waiting?.records ?? 0);
		};
		let victim: { key: string; fee: number; count: number; at: number } | undefined;
		for (const [key, entry] of [...this.registers, ...this.records] as [string, Transaction][]) {
			const fee = feeOf(entry);
			const count = countOf(entry.body.patient);
			const at = this.arrivals.get(key) ?? 0;
			if (
				!victim ||
				count > victim.count ||
				(count === victim.count && (fee < victim.fee || (fee === victim.fee && at < victim.at)))
			)
				victim = { key, fee, count, at };
		}
		const count = countOf(tx.body.patient) + 1;
		ensure(
			victim && (count < victim.count || (count === victim.count && feeOf(tx) >= victim.fee)),
			'mempool-full',
			'too many transactions are waiting; try again shortly'
		);
		this.drop(victim.key);
	}

	/** Removes one entry and its bookkeeping. */
	private drop(key: string): void {
		const tx = this.registers.get(key) ?? this.records.get(key);
		if (!tx) return;
		this.addOwed(tx, -1n);
		const patient = bytesToHex(tx.body.patient);
		const waiting = this.perPatient.get(patient);
		if (waiting) {
			if (this.registers.delete(key)) waiting.registers--;
			if (this.records.delete(key)) waiting.records--;
			if (waiting.registers <= 0 && waiting.records <= 0) this.perPatient.delete(patient);
		}
		this.registers.delete(key);
		this.records.delete(key);
		this.arrivals.delete(key);
	}

	/** Register transactions a miner may pack on the current tip, in arrival order. */
	registersFor(limit: number): Transaction<RegisterBody>[] {
		const height = this.ledger.height + 1;
		const out: Transaction<RegisterBody>[] = [];
		const patients = new Set<string>();
		const identities = new Set<string>();
		for (const tx of this.registers.values()) {
			if (out.length >= limit) break;
			const { body } = tx;
			const patient = bytesToHex(body.patient);
			const identity = bytesToHex(body.identity);
			if (patients.has(patient) || identities.has(identity)) continue;
			if (body.round > height || height - body.round > this.ledger.genesis.roundWindow) continue;
			if (!this.affordable(out, body)) continue;
			patients.add(patient);
			identities.add(identity);
			out.push(tx);
		}
		return out;
	}

	/** Adds (sign 1n) or removes (-1n) what `tx` owes to its payer's running total. */
	private addOwed(tx: Transaction, sign: bigint): void {
		for (const [payer, fees] of feesByPayer([tx.body])) {
			const total = (this.owedByPayer.get(payer) ?? 0n) + sign * fees;
			if (total === 0n) this.owedByPayer.delete(payer);
			else this.owedByPayer.set(payer, total);
		}
	}

	/** Whether `body`'s payer can pay it on top of the registers already packed. */
	private affordable(packed: readonly Transaction<RegisterBody>[], body: RegisterBody): boolean {
		if (!this.accounts) return true;
		try {
			this.accounts.checkPayable([...packed.map((tx) => tx.body), body], 'keyblock');
			return true;
		} catch {
			return false;
		}
	}

	recordCount(): number {
		return this.records.size;
	}

	record(id: Bytes): Transaction<RecordBody> | undefined {
		return this.records.get(bytesToHex(id));
	}

	/**
	 * Table B of Algorithm 2: waiting record transactions per receiving institution, in arrival order;
	 * with `arrivedBefore`, only those that arrived before that time.
	 */
	table(reputationOf: (institution: Bytes) => number, arrivedBefore = Infinity): InstitutionQueue[] {
		const rows = new Map<string, { institution: Bytes; transactions: Bytes[] }>();
		for (const [id, tx] of this.records) {
			if ((this.arrivals.get(id) ?? 0) >= arrivedBefore) continue;
			const key = bytesToHex(tx.body.institution);
			let row = rows.get(key);
			if (!row) rows.set(key, (row = { institution: tx.body.institution, transactions: [] }));
			row.transactions.push(fromHex(id)); // the key is the id: no re-encoding and hashing of the body
		}
		return [...rows.values()].map((row) => ({ ...row, reputation: reputationOf(row.institution) }));
	}

	remove(ids: readonly Bytes[]): void {
		for (const id of ids) this.drop(bytesToHex(id));
	}

	/**
	 * Drops what the chain no longer takes: what is on it already (packed, registered meanwhile, pinned)
	 * and what can never get there (a round expired, a rule it now fails). Returns the latter, with why.
	 */
	prune(isPinned: (id: Bytes) => boolean): DroppedTransaction[] {
		const dropped: DroppedTransaction[] = [];
		for (const [key, tx] of this.registers) {
			const { body } = tx;
			if (this.ledger.patientBlock(body.patient)) this.drop(key);
			else if (this.ledger.height + 1 - body.round > this.ledger.genesis.roundWindow) {
				this.drop(key);
				const message = `the transaction for round ${body.round} has expired`;
				dropped.push({ id: transactionId(body), code: 'tx-round', message });
			}
		}
		for (const [key, tx] of this.records) {
			const id = fromHex(key);
			try {
				if (isPinned(id)) this.drop(key);
				else this.ledger.checkRecordTransaction(tx);
			} catch (error) {
				this.drop(key);
				const code = error instanceof ValidationError ? error.code : 'internal';
				dropped.push({ id, code, message: error instanceof Error ? error.message : String(error) });
			}
		}
		return dropped;
	}
}

function feeOf(tx: Transaction): number {
	return tx.body.fees.service + tx.body.fees.transaction;
}
