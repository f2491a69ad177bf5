import { describe, expect, it } from 'vitest';
import { Ledger } from './chain.ts';
import { keyblockHash, sealKeyblock } from './keyblock.ts';
import { patientBlockHash, type LeafEntry } from './patient-block.ts';
import { targetForExpectedHashes } from '../../../tests/fixtures/genesis-dev.ts';
import { sha256 } from './hash.ts';
import { signTransaction, transactionId, type RecordBody, type Transaction } from './transaction.ts';
import {
	aster,
	attachProven,
	birch,
	labelTx,
	leafProof,
	medicalTx,
	mineNext,
	outsider,
	patientKeys,
	pinRecords,
	registerTx,
	soundVerifier,
	testGenesis,
	timeOf
} from '../../../tests/fixtures/chain.ts';
import { generateSigningKey } from './identity.ts';

const genesis = testGenesis();
const NOW = Date.UTC(2030, 0, 1);
const code = (code: string) => expect.objectContaining({ code });

describe('ledger: keyblocks and patient blocks', () => {
	it('links keyblocks, mines each over the microblock tip of round h − 2, and creates patient blocks in register order', () => {
		const ledger = new Ledger(genesis);
		const [alice, bob, carol] = ['alice', 'bob', 'carol'].map(patientKeys) as [
			ReturnType<typeof patientKeys>,
			ReturnType<typeof patientKeys>,
			ReturnType<typeof patientKeys>
		];
		const kb1 = mineNext(ledger, aster, [
			registerTx(genesis, alice, aster, 1),
			registerTx(genesis, bob, birch, 1)
		]);
		const created = ledger.appendKeyblock(kb1, NOW);
		expect(created.map((b) => b.header.patient)).toEqual([alice.publicKey, bob.publicKey]);
		expect(created[0]!.header.prev).toEqual(genesis.genesisMicroblock);
		expect(created[1]!.header.prev).toEqual(patientBlockHash(created[0]!.header));
		expect(kb1.header.prev).toEqual(ledger.genesisHash);
		expect(kb1.header.penu).toEqual(genesis.genesisMicroblock);

		const kb2 = mineNext(ledger, birch, [registerTx(genesis, carol, birch, 2)]);
		ledger.appendKeyblock(kb2, NOW);
		expect(kb2.header.prev).toEqual(keyblockHash(kb1.header));
		// Round 0 has no microblocks: keyblock 2 still mines over the genesis part.
		expect(kb2.header.penu).toEqual(genesis.genesisMicroblock);

		const kb3 = mineNext(ledger, aster);
		ledger.appendKeyblock(kb3, NOW);
		expect(kb3.header.penu).toEqual(patientBlockHash(created[1]!.header));
		const kb4 = mineNext(ledger, aster);
		ledger.appendKeyblock(kb4, NOW);
		expect(kb4.header.penu).toEqual(ledger.patientBlockHash(carol.publicKey));
		const kb5 = mineNext(ledger, aster);
		// Round 3 created no microblocks: the tip is inherited from round 2.
		expect(kb5.header.penu).toEqual(ledger.patientBlockHash(carol.publicKey));
		expect(ledger.patientBlock(bob.publicKey)?.header.round).toBe(1);
		expect(ledger.patientCount).toBe(3);
	});

	it('rejects each contextual violation with its own code', () => {
		const ledger = new Ledger(genesis);
		ledger.appendKeyblock(mineNext(ledger, aster), NOW);
		const good = mineNext(ledger, aster);
		const reseal = (change: Partial<typeof good.header>) => {
			const copy = new Ledger(genesis);
			copy.appendKeyblock(ledger.keyblock(1)!.block, NOW);
			const block = mineNext(copy, aster);
			const header = { ...block.header, ...change };
			return sealKeyblock(header, block.registers, aster.secrets.signingKey);
		};
		const expectCode = (block: typeof good, code: string, now = NOW) =>
			expect(() => ledger.checkNextKeyblock(block, now)).toThrow(expect.objectContaining({ code }));

		expect(() => ledger.checkNextKeyblock(good, NOW)).not.toThrow();
		expectCode(reseal({ height: 3 }), 'keyblock-height');
		expectCode(reseal({ prev: ledger.genesisHash }), 'keyblock-prev');
		expectCode(reseal({ penu: new Uint8Array(32) }), 'keyblock-penu');
		expectCode(reseal({ target: targetForExpectedHashes(2n) }), 'keyblock-target');
		expectCode(reseal({ timestamp: genesis.timestamp }), 'keyblock-stale');
		expectCode(good, 'keyblock-future', good.header.timestamp - genesis.maxFutureDriftMs - 1);
		const outsider = generateSigningKey();
		const foreign = {
			...aster,
			institution: { ...aster.institution, id: outsider.publicKey },
			secrets: { ...aster.secrets, signingKey: outsider.secretKey }
		};
		expectCode(mineNext(ledger, foreign), 'keyblock-miner');
	});

	it('registers a patient once: a second register, even at another clinic, is rejected', () => {
		const ledger = new Ledger(genesis);
		const alice = patientKeys('alice');
		ledger.appendKeyblock(mineNext(ledger, aster, [registerTx(genesis, alice, aster, 1)]), NOW);
		const again = mineNext(ledger, birch, [registerTx(genesis, alice, birch, 2, 'new salt')]);
		expect(() => ledger.appendKeyblock(again, NOW)).toThrow(
			expect.objectContaining({ code: 'register-again' })
		);
		expect(ledger.height).toBe(1);
	});

	it('expires register transactions outside the round window and refuses future rounds', () => {
		const ledger = new Ledger(testGenesis({ roundWindow: 1 }));
		const g = ledger.genesis;
		ledger.appendKeyblock(mineNext(ledger, aster), NOW);
		ledger.appendKeyblock(mineNext(ledger, aster), NOW);
		const stale = mineNext(ledger, aster, [registerTx(g, patientKeys('dave'), aster, 1)]);
		expect(() => ledger.checkNextKeyblock(stale, NOW)).toThrow(expect.objectContaining({ code: 'tx-round' }));
		const early = mineNext(ledger, aster, [registerTx(g, patientKeys('erin'), aster, 9)]);
		expect(() => ledger.checkNextKeyblock(early, NOW)).toThrow(expect.objectContaining({ code: 'tx-round' }));
		expect(timeOf(ledger, 3)).toBeGreaterThan(g.timestamp);
	});
});

describe('ledger: register transactions in context', () => {
	it('refuses a register naming an institution outside the consortium', () => {
		const ledger = new Ledger(genesis);
		const block = mineNext(ledger, aster, [registerTx(genesis, patientKeys('alice'), outsider, 1)]);
		expect(() => ledger.checkNextKeyblock(block, NOW)).toThrow(code('tx-institution'));
	});

	it('refuses an identity commitment registered before, or twice in one keyblock', () => {
		const ledger = new Ledger(genesis);
		const first = registerTx(genesis, patientKeys('alice'), aster, 1);
		const bob = patientKeys('bob');
		// Another patient key reusing alice's commitment: the same person registering twice.
		const reuse = (round: number) =>
			signTransaction(
				{ ...registerTx(genesis, bob, birch, round).body, identity: first.body.identity },
				bob.secretKey
			);
		expect(() => ledger.checkNextKeyblock(mineNext(ledger, aster, [first, reuse(1)]), NOW)).toThrow(
			code('register-identity')
		);
		ledger.appendKeyblock(mineNext(ledger, aster, [first]), NOW);
		expect(() => ledger.checkNextKeyblock(mineNext(ledger, aster, [reuse(2)]), NOW)).toThrow(
			code('register-identity')
		);
		expect(() =>
			ledger.checkNextKeyblock(mineNext(ledger, aster, [registerTx(genesis, bob, birch, 2)]), NOW)
		).not.toThrow();
	});
});

describe('ledger: record transactions', () => {
	const alice = patientKeys('alice');
	const bob = patientKeys('bob');

	/** Alice and bob registered in round 1; the chain is at height 2. */
	function registered(): Ledger {
		const ledger = new Ledger(genesis);
		ledger.appendKeyblock(
			mineNext(ledger, aster, [registerTx(genesis, alice, aster, 1), registerTx(genesis, bob, birch, 1)]),
			NOW
		);
		ledger.appendKeyblock(mineNext(ledger, birch), NOW);
		return ledger;
	}

	it('accepts a valid record and names each contextual violation', async () => {
		const ledger = registered();
		const record = medicalTx(genesis, alice, aster, 2);
		expect(await soundVerifier.verifyAll([ledger.checkRecordTransaction(record)])).toEqual([true]);
		const check =
			(tx: Transaction<RecordBody>, pending: LeafEntry[] = []) =>
			() =>
				ledger.checkRecordTransaction(tx, pending);

		expect(check(medicalTx(genesis, patientKeys('carol'), aster, 2))).toThrow(code('tx-unregistered'));
		expect(check(medicalTx(genesis, alice, outsider, 2))).toThrow(code('unknown-institution'));
		expect(check(labelTx(genesis, alice, aster, 2, record))).toThrow(code('label-target'));

		const pending = [{ tx: record, pin: new Uint8Array(32) }];
		expect(check(labelTx(genesis, alice, aster, 2, record), pending)).not.toThrow();
		const label = labelTx(genesis, alice, aster, 2, record);
		const otherHash = medicalTx(genesis, alice, aster, 2, 'another ciphertext').body.record.chameleon;
		const rehashed = signTransaction(
			{ ...label.body, record: { ...label.body.record, chameleon: otherHash } },
			alice.secretKey
		);
		expect(check(rehashed, pending)).toThrow(code('label-hash'));
		// Leaves are kept in round order, so an older transaction behind a newer one could never be attached.
		expect(check(medicalTx(genesis, alice, aster, 1, 'older'), pending)).toThrow(code('leaf-order'));
	});

	it('pins a transaction in one batch only', () => {
		const ledger = registered();
		const id = transactionId(medicalTx(genesis, alice, aster, 2).body);
		ledger.recordPinnedBatch(sha256(Uint8Array.of(1)), [id]);
		// Replaying the same pin is harmless; another batch pinning it again is not.
		expect(() => ledger.recordPinnedBatch(sha256(Uint8Array.of(1)), [id])).not.toThrow();
		expect(() => ledger.recordPinnedBatch(sha256(Uint8Array.of(2)), [id])).toThrow(code('tx-pinned-twice'));
	});

	it('attaches only pinned, valid entries with valid proofs, and changes nothing when it refuses', async () => {
		const ledger = registered();
		const record = medicalTx(genesis, alice, aster, 2);
		const [entry] = pinRecords(ledger, [record]);
		const attach = (
			entries: LeafEntry[],
			{ patient = alice.publicKey, clinic = aster, proof = leafProof(alice.publicKey, aster, entries) } = {}
		) => ledger.attachRecords(patient, clinic.institution.id, entries, proof, soundVerifier);

		await expect(attach([entry!], { patient: patientKeys('carol').publicKey })).rejects.toMatchObject({
			code: 'tx-unregistered'
		});
		await expect(attach([entry!], { clinic: outsider })).rejects.toMatchObject({
			code: 'unknown-institution'
		});
		const atBirch = pinRecords(ledger, [medicalTx(genesis, alice, birch, 2)]);
		await expect(attach(atBirch)).rejects.toMatchObject({ code: 'leaf-institution' });
		await expect(attach([{ ...entry!, pin: atBirch[0]!.pin }])).rejects.toMatchObject({ code: 'tx-pin' });
		const unproven = medicalTx(genesis, alice, aster, 2, 'unproven');
		const forged = signTransaction(
			{
				...unproven.body,
				record: {
					...unproven.body.record,
					chameleon: { ...unproven.body.record.chameleon, proof: new Uint8Array(256) }
				}
			},
			alice.secretKey
		);
		await expect(attach(pinRecords(ledger, [forged]))).rejects.toMatchObject({ code: 'record-proof' });
		await expect(attach([entry!], { proof: leafProof(alice.publicKey, aster, []) })).rejects.toMatchObject({
			code: 'leaf-proof'
		});
		expect(ledger.patientBlock(alice.publicKey)!.leaves[0]!.entries).toEqual([]);

		await attach([entry!]);
		expect(ledger.recordLocation(transactionId(record.body))).toEqual({
			patient: alice.publicKey,
			leaf: 0,
			index: 0
		});
		const older = pinRecords(ledger, [medicalTx(genesis, alice, aster, 1, 'older')]);
		await expect(
			attach(older, { proof: leafProof(alice.publicKey, aster, [entry!, ...older]) })
		).rejects.toMatchObject({ code: 'leaf-order' });
	});

	it("refuses a label of another patient's record, or of a record another clinic wrote", async () => {
		const ledger = registered();
		const bobs = pinRecords(ledger, [medicalTx(genesis, bob, aster, 2)]);
		await attachProven(ledger, bob.publicKey, aster, bobs);
		const alices = pinRecords(ledger, [medicalTx(genesis, alice, aster, 2)]);
		await attachProven(ledger, alice.publicKey, aster, alices);
		expect(() => ledger.checkRecordTransaction(labelTx(genesis, alice, aster, 2, bobs[0]!.tx))).toThrow(
			code('label-target')
		);
		expect(() => ledger.checkRecordTransaction(labelTx(genesis, alice, birch, 2, alices[0]!.tx))).toThrow(
			code('label-author')
		);
		expect(() =>
			ledger.checkRecordTransaction(labelTx(genesis, alice, aster, 2, alices[0]!.tx))
		).not.toThrow();
	});
});
