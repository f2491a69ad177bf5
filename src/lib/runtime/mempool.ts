/**
 * Transactions patients sent that are not on the chain yet: register transactions wait for a miner to
 * pack them into a keyblock; medical and label transactions wait, per receiving institution (table B
 * of Algorithm 2), for the consensus group to pin them. Admission runs every rule the chain can check
 * now, including the chameleon proof, so a peer cannot fill the pool with transactions that will never
 * be pinned; entries that became invalid (expired round, registered meanwhile) are dropped on `prune`.
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
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

/** Bound on waiting transactions (memory); beyond it new ones are refused until some are pinned. */
export const MAX_MEMPOOL = 20_000;

export class Mempool {
	private readonly registers = new Map<string, Transaction<RegisterBody>>();
	private readonly records = new Map<string, Transaction<RecordBody>>();
	/** When each record transaction arrived here (ms), to tell what a proposer surely had. */
	private readonly arrivals = new Map<string, number>();

	constructor(
		private readonly ledger: Ledger,
		private readonly verifier: ChameleonVerifier,
		private readonly clock: () => number = Date.now,
		/** The chain's balances: a transaction whose payer cannot pay its fees is refused (balances.ts). */
		private readonly accounts?: FeeAccounts
	) {}

	get size(): number {
		return this.registers.size + this.records.size;
	}

	has(id: Bytes): boolean {
		const key = bytesToHex(id);
		return this.registers.has(key) || this.records.has(key);
	}

	/** Checks and admits; returns false for a transaction already waiting. Throws ValidationError otherwise. */
	async admit(tx: Transaction, isPinned: (id: Bytes) => boolean): Promise<boolean> {
		const id = transactionId(tx.body);
		const key = bytesToHex(id);
		if (this.registers.has(key) || this.records.has(key)) return false;
		ensure(this.size < MAX_MEMPOOL, 'mempool-full', 'too many transactions are waiting; try again shortly');
		ensure(!isPinned(id), 'tx-pinned-twice', 'this transaction is already pinned');
		this.accounts?.checkPayable([tx.body], 'transaction', this.owed());
		if (isRecordTransaction(tx)) {
			const statement = this.ledger.checkRecordTransaction(tx);
			const [valid] = await this.verifier.verifyAll([statement]);
			if (!valid) throw new ValidationError('record-proof', 'the chameleon hash proof is not valid');
			this.records.set(key, tx);
			this.arrivals.set(key, this.clock());
		} else {
			const register = tx as Transaction<RegisterBody>;
			checkTransaction(register, this.ledger.genesis.fees);
			ensure(
				!this.ledger.patientBlock(register.body.patient),
				'register-again',
				'this patient is already registered; one registration serves every institution'
			);
			this.registers.set(key, register);
		}
		return true;
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

	/** Fees the waiting transactions owe, by payer (each must be payable on top of these). */
	private owed(): Map<string, bigint> {
		return feesByPayer([...this.registers.values(), ...this.records.values()].map((tx) => tx.body));
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
			row.transactions.push(transactionId(tx.body));
		}
		return [...rows.values()].map((row) => ({ ...row, reputation: reputationOf(row.institution) }));
	}

	remove(ids: readonly Bytes[]): void {
		for (const id of ids) {
			const key = bytesToHex(id);
			this.registers.delete(key);
			this.records.delete(key);
			this.arrivals.delete(key);
		}
	}

	/**
	 * Drops what the chain no longer takes: what is on it already (packed, registered meanwhile, pinned)
	 * and what can never get there (a round expired, a rule it now fails). Returns the latter, with why.
	 */
	prune(isPinned: (id: Bytes) => boolean): DroppedTransaction[] {
		const dropped: DroppedTransaction[] = [];
		for (const [key, tx] of this.registers) {
			const { body } = tx;
			if (this.ledger.patientBlock(body.patient)) this.registers.delete(key);
			else if (this.ledger.height + 1 - body.round > this.ledger.genesis.roundWindow) {
				this.registers.delete(key);
				const message = `the transaction for round ${body.round} has expired`;
				dropped.push({ id: transactionId(body), code: 'tx-round', message });
			}
		}
		for (const [key, tx] of this.records) {
			const id = transactionId(tx.body);
			try {
				if (isPinned(id)) {
					this.records.delete(key);
					this.arrivals.delete(key);
				} else this.ledger.checkRecordTransaction(tx);
			} catch (error) {
				this.records.delete(key);
				this.arrivals.delete(key);
				const code = error instanceof ValidationError ? error.code : 'internal';
				dropped.push({ id, code, message: error instanceof Error ? error.message : String(error) });
			}
		}
		return dropped;
	}
}
