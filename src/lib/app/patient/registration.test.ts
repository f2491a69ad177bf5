/**
 * Register on the patient's device, with no network: a real ledger and mempool stand in for the full
 * node (the mempool checks a registration as the node's does; a keyblock mined over the ledger includes
 * what was submitted). The chain learns only a salted commitment, through the chosen institution; the
 * salt and the demographics stay on the device, sealed; the device refuses before it keeps or sends
 * anything; it waits for the keyblock, and says so when none came.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { encodeCanonical } from '../../core/encoding.ts';
import {
	checkTransaction,
	encodeTransaction,
	type RegisterBody,
	type Transaction
} from '../../core/transaction.ts';
import { containsBytes } from '../../records/envelope.ts';
import { openMemoryStore } from '../../store/memory-store.ts';
import { aster, birch, patientKeys, registerTx, testGenesis } from '../../../../tests/fixtures/chain.ts';
import { OfflineNode } from '../../../../tests/fixtures/offline-node.ts';
import { ledgerPatientChain } from '../patient-chain.ts';
import { register, registerSaltKey } from './registration.ts';

const genesis = testGenesis();
const NOW = Date.UTC(2030, 0, 1);
const alice = patientKeys('registration alice');
const details = { name: '  Alice Example ', birthDate: '1980-04-02', institution: 'Birch Hospital' };

function setup() {
	const node = new OfflineNode(genesis, NOW);
	const chain = ledgerPatientChain(node, alice.publicKey, () => {
		throw new Error('an offline node draws no status');
	});
	const store = openMemoryStore();
	const steps: string[] = [];
	const run = (input: Parameters<typeof register>[1] = details) =>
		register({ chain, store, patient: alice }, input, (p) => void steps.push(p.step));
	return { node, chain, store, steps, run };
}

/** Lets every settled promise run its reactions (no timers involved). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

afterEach(() => void vi.useRealTimers());

describe('registering from the patient device', () => {
	it('sends a salted commitment through the chosen institution and resolves once a keyblock has it', async () => {
		const { node, store, steps, run } = setup();
		let registered = false;
		const done = run().then(() => (registered = true));
		await expect.poll(() => node.submitted.length, { timeout: 20_000 }).toBe(1);
		const tx = node.submitted[0] as Transaction<RegisterBody>;
		expect(() => checkTransaction(tx, genesis.fees)).not.toThrow(); // signed by alice, fees paid
		expect(tx.body).toMatchObject({
			kind: 'register',
			patient: alice.publicKey,
			institution: birch.institution.id,
			round: 0,
			fees: genesis.fees.register
		});
		// H(name ‖ birth date ‖ salt) with the salt kept on the device: no name or date on the chain.
		const salt = await store.get('meta', registerSaltKey(tx.body.identity));
		expect(salt).toHaveLength(32);
		expect(tx.body.identity).toEqual(
			sha256(encodeCanonical({ name: 'Alice Example', birthDate: '1980-04-02', salt: salt! }))
		);
		for (const text of ['Alice', '1980-04-02'])
			expect(containsBytes(encodeTransaction(tx), utf8ToBytes(text))).toBe(false);
		// The demographics the patient lets clinics see are kept sealed, not as plaintext.
		const kept = await store.get('meta', 'demographics');
		expect(kept).toBeDefined();
		expect(containsBytes(kept!, utf8ToBytes('Alice'))).toBe(false);

		// A keyblock without the registration leaves it waiting; the one that includes it ends the wait.
		node.mine([]);
		await settle();
		expect(registered).toBe(false);
		node.mine(node.submitted as Transaction<RegisterBody>[]);
		await done;
		expect(node.ledger.patientBlock(alice.publicKey)?.header.patient).toEqual(alice.publicKey);
		expect(steps).toEqual([
			'Sending the registration to the consortium',
			'Waiting for a pinned keyblock with your registration',
			'Registered'
		]);
	});

	it('keeps and sends nothing when it refuses: no name, a future birth date, an unknown institution', async () => {
		const { node, store, run } = setup();
		await expect(run({ ...details, name: '   ' })).rejects.toMatchObject({ code: 'schema' });
		await expect(run({ ...details, birthDate: '2999-01-01' })).rejects.toMatchObject({ code: 'schema' });
		await expect(run({ ...details, birthDate: '1980-02-30' })).rejects.toMatchObject({ code: 'schema' });
		await expect(run({ ...details, institution: 'Nowhere Clinic' })).rejects.toMatchObject({
			name: 'AppError',
			code: 'institution'
		});
		expect(node.submitted).toEqual([]);
		expect(await store.list('meta')).toEqual([]);
	});

	it('refuses a patient already on the chain', async () => {
		const { node, store, run } = setup();
		node.mine([registerTx(genesis, alice, aster, 0)]);
		await expect(run()).rejects.toMatchObject({ name: 'AppError', code: 'registered' });
		expect(node.submitted).toEqual([]);
		expect(await store.list('meta')).toEqual([]);
	});

	it('keeps no demographics when the patient tells clinics nothing', async () => {
		const { node, store, run } = setup();
		const done = run({ ...details, tellClinics: false });
		await expect.poll(() => node.submitted.length, { timeout: 20_000 }).toBe(1);
		node.mine(node.submitted as Transaction<RegisterBody>[]);
		await done;
		expect(await store.get('meta', 'demographics')).toBeUndefined();
		const [tx] = node.submitted as Transaction<RegisterBody>[];
		expect(await store.get('meta', registerSaltKey(tx!.body.identity))).toHaveLength(32);
	});

	it("passes the node's refusal on as an app error with the rule's code, keeping the waiting salts", async () => {
		const { node, store, run } = setup();
		const first = run();
		await expect.poll(() => node.submitted.length, { timeout: 20_000 }).toBe(1);
		const retry = run();
		await expect.poll(() => node.submitted.length, { timeout: 20_000 }).toBe(2);
		// Two registrations of one patient may wait in the pool (one and a retry); a third is refused.
		await expect(run()).rejects.toMatchObject({ name: 'AppError', code: 'mempool-patient' });
		expect(node.submitted).toHaveLength(2);
		// The refused attempt left the salts of both waiting registrations as they were.
		for (const tx of node.submitted as Transaction<RegisterBody>[]) {
			const salt = (await store.get('meta', registerSaltKey(tx.body.identity)))!;
			const { name, birthDate } = details;
			expect(sha256(encodeCanonical({ name: name.trim(), birthDate, salt }))).toEqual(tx.body.identity);
		}
		// The keyblock that includes one of them ends both waits.
		node.mine([node.submitted[0] as Transaction<RegisterBody>]);
		await Promise.all([first, retry]);
	});

	it('says the registration stays pending when no keyblock includes it in time', async () => {
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		const { node, chain, store } = setup();
		let waiting!: () => void;
		const waits = new Promise<void>((resolve) => (waiting = resolve));
		const outcome = register({ chain, store, patient: alice }, details, (p) => {
			if (p.step.startsWith('Waiting')) waiting();
		});
		const refused = expect(outcome).rejects.toMatchObject({ name: 'AppError', code: 'register-timeout' });
		await waits;
		node.mine([]);
		await vi.advanceTimersByTimeAsync(5 * 60_000);
		await refused;
		expect(node.submitted).toHaveLength(1);
	});
});
