/**
 * The clinic's record writer with no network: the patient's phone is the real signing desk, answering
 * the record-key and signing protocols over an in-process loopback (tests/fixtures/loopback-net.ts); the
 * holder, the sealing and the chameleon hashes (and their collisions) are real; a real ledger and
 * mempool stand in for the full node, which checks what is submitted as the node would. Proofs are the
 * chain fixture's stand-in for Groth16 (a proof of its own statement only, checked by soundVerifier).
 * Shown: the patient reads the record before signing, and the signature covers what was read; a declined
 * record leaves nothing; the writer refuses before it asks the phone; a label opens the original's hash
 * to the corrected record.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { bytesToHex, equalBytes } from '../../core/bytes.ts';
import { feeOf } from '../../core/balances.ts';
import { hashWithRandomness } from '../../core/chameleon.ts';
import type { PublicKey } from '../../core/identity.ts';
import {
	checkTransaction,
	transactionId,
	type RecordBody,
	type Transaction
} from '../../core/transaction.ts';
import type { ChameleonProver } from '../../crypto/chameleon-prover.ts';
import { serve } from '../../net/protocol.ts';
import { generateMasterKey } from '../../records/envelope.ts';
import { recordFromForm } from '../../records/fhir.ts';
import { openMemoryStore } from '../../store/memory-store.ts';
import {
	aster,
	attachProven,
	fakeProof,
	patientKeys,
	pinRecords,
	registerTx,
	testGenesis
} from '../../../../tests/fixtures/chain.ts';
import { loopback } from '../../../../tests/fixtures/loopback-net.ts';
import { OfflineNode } from '../../../../tests/fixtures/offline-node.ts';
import { Holder } from '../holder.ts';
import type { OpenedRecord } from '../patient/record-cache.ts';
import { SigningDesk } from '../patient/signing-desk.ts';
import type { PendingTransactionView } from '../types.ts';
import { RECORD_KEY, SIGN } from '../wire.ts';
import { RecordWriter, type WriterNode } from './record-writer.ts';

const genesis = testGenesis();
const NOW = Date.UTC(2030, 0, 1);
const clock = () => NOW;
const alice = patientKeys('writer alice');
const bob = patientKeys('writer bob');
const visit = recordFromForm(
	'Observation',
	{ patient: 'spp1alice', code: 'Blood pressure', value: 142, unit: 'mm[Hg]' },
	new Date(NOW)
);

/** The chameleon hash h = m·B + r·X computed for real; its SNARK replaced by the chain fixture's. */
const prover: ChameleonProver = {
	async prove({ m, r, X }, onProgress) {
		const h = hashWithRandomness(m, r, X);
		onProgress?.({ stage: 'done' });
		return { h, proof: fakeProof(X, m, h) };
	},
	close: async () => {}
};

/** A patient's phone on the loopback: the signing desk, answering Aster's peer. */
function phone(wire: ReturnType<typeof loopback>, peer: string, patient: typeof alice) {
	const kept = new Map<string, OpenedRecord>();
	const desk = new SigningDesk({
		patient,
		masterKey: generateMasterKey(),
		genesis,
		clock,
		original: async (id) => kept.get(bytesToHex(id))!,
		keep: async (id, record) => void kept.set(bytesToHex(id), record),
		changed: () => {}
	});
	const net = wire.net(peer);
	const institutionAt = async (from: string) => {
		if (from !== 'aster') throw new Error('not a consortium institution');
		return aster.institution.id;
	};
	serve(net, RECORD_KEY, async (_request, from) => desk.grant(await institutionAt(from)));
	serve(net, SIGN, async (request, from) => desk.receive(request, await institutionAt(from)));
	return { desk, kept };
}

function setup() {
	const node: WriterNode & OfflineNode = new OfflineNode(genesis, NOW);
	const { ledger } = node;
	node.mine([registerTx(genesis, alice, aster, 0)]);
	const wire = loopback();
	const net = wire.net('aster');
	const phones = new Map<string, string>([[bytesToHex(alice.publicKey), 'alice-phone']]);
	const holder = new Holder({
		store: openMemoryStore(),
		net,
		ledger,
		institution: { id: aster.institution.id, secretKey: aster.secrets.signingKey },
		clock
	});
	const views: PendingTransactionView[] = [];
	const owed: PendingTransactionView[] = [];
	const writer = new RecordWriter({
		node,
		net,
		holder,
		prover: () => prover,
		institution: {
			id: aster.institution.id,
			chameleonKey: aster.institution.chameleonKey,
			secrets: aster.secrets
		},
		clock,
		reach: async (patient: PublicKey) => phones.get(bytesToHex(patient))!,
		owed: () => owed,
		track: (view) => (views.push(view), view),
		changed: () => {}
	});
	return {
		node,
		net,
		holder,
		writer,
		views,
		owed,
		phones,
		wire,
		alicePhone: phone(wire, 'alice-phone', alice)
	};
}

/** The one request the phone lists, once it is there. */
async function listed(desk: SigningDesk) {
	await expect.poll(() => desk.requests().length, { timeout: 20_000 }).toBe(1);
	return desk.requests()[0]!;
}

afterEach(() => void vi.useRealTimers());

describe("the clinic's record writer", () => {
	it('has the patient read the record, keeps it once signed, and submits exactly what was signed', async () => {
		const { node, holder, writer, views, alicePhone } = setup();
		const fractions: number[] = [];
		const written = writer.write(alice.publicKey, visit, (p) => void fractions.push(p.fraction!));
		const request = await listed(alicePhone.desk);
		// The phone opened the sealed record itself: what it shows is the record, every field.
		expect(request).toMatchObject({ kind: 'medical', record: visit });
		expect(views.map((v) => v.state)).toEqual(['awaiting-signature']);
		expect(await holder.all()).toEqual([]); // nothing kept before the patient signed
		await alicePhone.desk.approve(request.id);
		const view = await written;

		expect(view).toMatchObject({ kind: 'medical', state: 'waiting-for-pin' });
		expect(node.submitted).toHaveLength(1);
		const tx = node.submitted[0] as Transaction<RecordBody>;
		expect(() => checkTransaction(tx, genesis.fees)).not.toThrow(); // alice's signature of this body
		expect(view.id).toBe(bytesToHex(transactionId(tx.body)));
		const [row] = await holder.all();
		expect(row!.digest).toEqual(tx.body.record.pointer.digest);
		expect(row!.transactionId).toEqual(transactionId(tx.body));
		// The record the phone kept under that transaction is the one it showed.
		expect(JSON.parse(alicePhone.kept.get(view.id)!.content.resource)).toEqual(visit);
		expect(fractions.at(-1)).toBe(1);
		expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
	});

	it('leaves nothing when the patient declines, and tells the clinic the reason', async () => {
		const { node, holder, writer, views, alicePhone } = setup();
		const written = writer.write(alice.publicKey, visit);
		const request = await listed(alicePhone.desk);
		await alicePhone.desk.decline(request.id, 'This was not my visit');
		await expect(written).rejects.toMatchObject({
			name: 'AppError',
			code: 'patient-declined',
			message: 'The patient declined: This was not my visit'
		});
		expect(views.map((v) => v.state)).toEqual(['declined']);
		expect(await holder.all()).toEqual([]);
		expect(node.submitted).toEqual([]);
	});

	it('refuses before asking the phone when the clinic cannot pay the fees', async () => {
		const { net, writer, owed, node, alicePhone } = setup();
		const balance = node.chain.accounts.balance(aster.institution.id);
		const waiting = { kind: 'medical', state: 'waiting-for-pin' } as PendingTransactionView;
		owed.push(
			...Array.from({ length: Number(balance / feeOf({ fees: genesis.fees.medical })) }, () => waiting)
		);
		await expect(writer.write(alice.publicKey, visit)).rejects.toMatchObject({
			name: 'AppError',
			code: 'balance-insufficient'
		});
		expect(net.asked).toEqual([]);
		expect(alicePhone.desk.requests()).toEqual([]);
	});

	it('refuses a record key the phone grants for another patient', async () => {
		const { writer, phones, wire, node } = setup();
		phone(wire, 'bob-phone', bob);
		phones.set(bytesToHex(alice.publicKey), 'bob-phone');
		await expect(writer.write(alice.publicKey, visit)).rejects.toMatchObject({ code: 'patient-reply' });
		expect(node.submitted).toEqual([]);
	});

	it("waits for the patient's registration to reach its chain, and gives up after a while", async () => {
		const { node, writer, phones, wire } = setup();
		const bobPhone = phone(wire, 'bob-phone', bob);
		phones.set(bytesToHex(bob.publicKey), 'bob-phone');
		const written = writer.write(bob.publicKey, visit);
		node.mine([registerTx(genesis, bob, aster, node.ledger.height)]);
		await bobPhone.desk.approve((await listed(bobPhone.desk)).id);
		await expect(written).resolves.toMatchObject({ state: 'waiting-for-pin' });

		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		const carol = patientKeys('writer carol');
		const refused = expect(writer.write(carol.publicKey, visit)).rejects.toMatchObject({
			code: 'not-registered'
		});
		await vi.advanceTimersByTimeAsync(20_000);
		await refused;
	});

	it('labels a record: the phone shows the original beside the correction, and the hash stays the same', async () => {
		const { node, holder, writer, alicePhone } = setup();
		const first = writer.write(alice.publicKey, visit);
		await alicePhone.desk.approve((await listed(alicePhone.desk)).id);
		await first;
		// The group pins the record and Aster attaches it behind its leaf.
		const original = node.submitted[0] as Transaction<RecordBody>;
		await attachProven(node.ledger, alice.publicKey, aster, pinRecords(node.ledger, [original]));

		const corrected = recordFromForm(
			'Observation',
			{ patient: 'spp1alice', code: 'Blood pressure', value: 124, unit: 'mm[Hg]' },
			new Date(NOW)
		);
		const [target] = await holder.all();
		const reason = 'Measured right after climbing the stairs';
		const labelled = writer.write(alice.publicKey, corrected, undefined, { target: target!, reason });
		const request = await listed(alicePhone.desk);
		expect(request).toMatchObject({ kind: 'label', reason, original: visit, record: corrected });
		await alicePhone.desk.approve(request.id);
		await expect(labelled).resolves.toMatchObject({ kind: 'label', state: 'waiting-for-pin' });

		const label = node.submitted[1] as Transaction<RecordBody>;
		expect(label.body).toMatchObject({ kind: 'label', target: transactionId(original.body) });
		// A collision: the corrected record opens the original's chameleon hash.
		expect(equalBytes(label.body.record.chameleon.h, original.body.record.chameleon.h)).toBe(true);
		expect(await holder.all()).toHaveLength(2);
	});
});
