/**
 * The mempool's prune: what reached the chain leaves quietly, what never can (its round expired) leaves
 * with the reason, which the node reports so the sender's screen stops saying "waiting".
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../core/bytes.ts';
import { Ledger } from '../core/chain.ts';
import { transactionId } from '../core/transaction.ts';
import {
	clinics,
	medicalTx,
	mineNext,
	patientKeys,
	registerTx,
	soundVerifier,
	testGenesis
} from '../../../tests/fixtures/chain.ts';
import { Mempool } from './mempool.ts';

const genesis = testGenesis({ roundWindow: 1 });
const [aster] = clinics as [(typeof clinics)[0]];
const alice = patientKeys('mempool alice');
const bob = patientKeys('mempool bob');
const NOW = Date.UTC(2030, 0, 1);
const notPinned = () => false;

describe('mempool prune', () => {
	it('reports the transactions whose round expired, and drops what was pinned without a report', async () => {
		const ledger = new Ledger(genesis);
		ledger.appendKeyblock(mineNext(ledger, aster, [registerTx(genesis, alice, aster, 0)]), NOW);
		const mempool = new Mempool(ledger, soundVerifier, () => NOW);
		const record = medicalTx(genesis, alice, aster, 1);
		const register = registerTx(genesis, bob, aster, 1);
		expect(await mempool.admit(record, notPinned)).toBe(true);
		expect(await mempool.admit(register, notPinned)).toBe(true);
		expect(mempool.prune(notPinned)).toEqual([]);
		expect(mempool.size).toBe(2);

		ledger.appendKeyblock(mineNext(ledger, aster), NOW);
		ledger.appendKeyblock(mineNext(ledger, aster), NOW);
		const dropped = mempool.prune(notPinned);
		expect(dropped.map((d) => [bytesToHex(d.id), d.code]).sort()).toEqual(
			[
				[bytesToHex(transactionId(record.body)), 'tx-round'],
				[bytesToHex(transactionId(register.body)), 'tx-round']
			].sort()
		);
		expect(dropped.every((d) => d.message.includes('expired'))).toBe(true);
		expect(mempool.size).toBe(0);

		const pinnedRecord = medicalTx(genesis, alice, aster, 3, 'pinned ciphertext');
		await mempool.admit(pinnedRecord, notPinned);
		expect(mempool.prune(() => true)).toEqual([]);
		expect(mempool.size).toBe(0);
	});
});
