import { describe, expect, it } from 'vitest';
import { Ledger } from './chain.ts';
import { keyblockHash, sealKeyblock } from './keyblock.ts';
import { patientBlockHash } from './patient-block.ts';
import { targetForExpectedHashes } from './genesis-dev.ts';
import {
	clinics,
	mineNext,
	patientKeys,
	registerTx,
	testGenesis,
	timeOf
} from '../../../tests/fixtures/chain.ts';
import { generateSigningKey } from './identity.ts';

const genesis = testGenesis();
const [aster, birch] = clinics as [(typeof clinics)[0], (typeof clinics)[0]];
const NOW = Date.UTC(2030, 0, 1);

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
