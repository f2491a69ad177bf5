/**
 * The mempool's prune: what reached the chain leaves quietly, what never can (its round expired) leaves
 * with the reason, which the node reports so the sender's screen stops saying "waiting". Admission under
 * a flood: far-future registers are refused, one key cannot fill the pool, and a full pool still takes
 * a valid register by evicting the least valuable entry.
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
import { MAX_REGISTERS_PER_PATIENT, Mempool } from './mempool.ts';

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

async function refusal(promise: Promise<unknown>): Promise<string> {
	try {
		return String(await promise);
	} catch (error) {
		return (error as { code?: string }).code ?? String(error);
	}
}

describe('mempool admission under a flood', () => {
	const wide = testGenesis({ roundWindow: 20 });

	it('refuses far-future and expired registers, and more than a few from one key', async () => {
		const ledger = new Ledger(wide);
		const mempool = new Mempool(ledger, soundVerifier, () => NOW);
		const mallory = patientKeys('mempool mallory');
		// 300 correctly signed registers from one key for far-future rounds: none is admitted.
		for (let k = 0; k < 300; k++)
			expect(
				await refusal(mempool.admit(registerTx(wide, mallory, aster, 100 + k, `far ${k}`), notPinned))
			).toBe('tx-round');
		expect(mempool.size).toBe(0);
		// Registers for the current rounds from one key: only a spare beyond the one that gets packed.
		const codes: string[] = [];
		for (let k = 0; k < 50; k++)
			codes.push(await refusal(mempool.admit(registerTx(wide, mallory, aster, 1, `near ${k}`), notPinned)));
		expect(codes.filter((c) => c === 'true')).toHaveLength(MAX_REGISTERS_PER_PATIENT);
		expect(new Set(codes.filter((c) => c !== 'true'))).toEqual(new Set(['mempool-patient']));
		// A valid register from someone else is admitted.
		expect(await mempool.admit(registerTx(wide, alice, aster, 1), notPinned)).toBe(true);
		// One that expired is refused too (21 keyblocks later, round 0 is out of the window).
		for (let h = 0; h < 21; h++) ledger.appendKeyblock(mineNext(ledger, aster), NOW);
		expect(await refusal(mempool.admit(registerTx(wide, bob, aster, 0), notPinned))).toBe('tx-round');
	});

	it('a full pool admits a valid register by evicting the entry of the key with the most waiting', async () => {
		const ledger = new Ledger(wide);
		ledger.appendKeyblock(mineNext(ledger, aster, [registerTx(wide, bob, aster, 0)]), NOW);
		let now = NOW;
		const mempool = new Mempool(ledger, soundVerifier, () => now++, undefined, { capacity: 40 });
		// Bob (registered) floods records (the maximum per key) and many fresh keys flood registers.
		for (let k = 0; k < 30; k++) await mempool.admit(medicalTx(wide, bob, aster, 1, `flood ${k}`), notPinned);
		for (let k = 0; k < 10; k++)
			await mempool.admit(registerTx(wide, patientKeys(`sybil ${k}`), aster, 1), notPinned);
		expect(mempool.size).toBe(40);
		const register = registerTx(wide, alice, aster, 1);
		expect(await mempool.admit(register, notPinned)).toBe(true);
		expect(mempool.size).toBe(40);
		expect(mempool.has(transactionId(register.body))).toBe(true);
		// Bob's oldest record made room; his next one finds none (he holds the most).
		expect(mempool.registersFor(100)).toHaveLength(11);
		expect(mempool.recordCount()).toBe(29);
		expect(mempool.has(transactionId(medicalTx(wide, bob, aster, 1, 'flood 0').body))).toBe(false);
		expect(await refusal(mempool.admit(medicalTx(wide, bob, aster, 1, 'one more'), notPinned))).toBe(
			'mempool-full'
		);
		expect(mempool.recordCount()).toBe(29);
	});
});
