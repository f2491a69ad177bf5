/**
 * Fees on the node (core balances.ts through ChainState, Mempool and KeyblockAgreement, with real PoW
 * keyblocks and BLS pins): a register's fee is debited from the institution it names when the keyblock
 * is pinned, and a register its institution cannot pay is refused by the mempool, by members before they
 * pin, and by the chain even with a certificate.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../core/bytes.ts';
import { ENDOWMENT_KEYBLOCK_REWARDS } from '../core/balances.ts';
import { keyblockHash, type Keyblock } from '../core/keyblock.ts';
import { encodePin } from '../core/pinning.ts';
import { openMemoryStore } from '../store/memory-store.ts';
import {
	clinics,
	mineNext,
	patientKeys,
	registerTx,
	soundVerifier,
	testGenesis
} from '../../../tests/fixtures/chain.ts';
import { certify } from '../../../tests/fixtures/pins.ts';
import { chainBalances } from './chain-metrics.ts';
import { ChainState } from './chain-state.ts';
import { genesisGroup } from './genesis-group.ts';
import { KeyblockAgreement } from './keyblock-agreement.ts';
import { Mempool } from './mempool.ts';

// Keyblock reward 1: every institution starts with ENDOWMENT_KEYBLOCK_REWARDS units; a register costs 10 + 2.
const genesis = testGenesis({ keyblockReward: 1 });
const group = genesisGroup(genesis);
const [aster, birch, cedar] = clinics as [(typeof clinics)[0], (typeof clinics)[0], (typeof clinics)[0]];
const clock = () => Date.UTC(2030, 0, 1);
const pinned = (block: Keyblock): Keyblock => ({
	...block,
	pin: encodePin(
		certify(group, [aster, birch, cedar], 'keyblock', block.header.height, keyblockHash(block.header))
	)
});

describe('fees on the node', () => {
	it('debits register fees from their institution and refuses what it cannot pay', async () => {
		const chain = await ChainState.open({
			genesis,
			store: openMemoryStore(),
			group,
			verifier: soundVerifier,
			clock
		});
		const mempool = new Mempool(chain.ledger, soundVerifier, clock, chain.accounts);
		const agreement = new KeyblockAgreement({
			chain,
			driverFor: () => null,
			publishPinned: async () => {},
			clock
		});
		const endowment = ENDOWMENT_KEYBLOCK_REWARDS * 1n;
		const payable = Number(endowment / 12n); // registers Birch can pay
		const registers = Array.from({ length: payable + 1 }, (_, i) =>
			registerTx(genesis, patientKeys(`fee patient ${i}`), birch, 0, `salt ${i}`)
		);
		// The mempool takes what Birch can pay and refuses the next with the reason, before anyone packs it.
		for (const tx of registers.slice(0, payable)) expect(await mempool.admit(tx, () => false)).toBe(true);
		await expect(mempool.admit(registers[payable]!, () => false)).rejects.toMatchObject({
			code: 'balance-insufficient',
			message: expect.stringMatching(new RegExp(`holds ${endowment} and would owe ${12 * (payable + 1)}`))
		});

		// A miner that packs them all anyway: members refuse the candidate, the chain refuses it pinned.
		const greedy = mineNext(chain.ledger, aster, registers);
		await expect(agreement.offer(greedy)).rejects.toMatchObject({ code: 'balance-insufficient' });
		await expect(chain.apply({ type: 'keyblock', block: pinned(greedy) })).rejects.toMatchObject({
			code: 'balance-insufficient'
		});
		expect(chain.height).toBe(0);
		expect(chainBalances(chain).get(bytesToHex(birch.institution.id))).toBe(endowment);

		// The ones the mempool offers are paid: Birch pays, Aster (the miner) gets 1 reward + those fees.
		const packed = mempool.registersFor(1000);
		expect(packed).toHaveLength(payable);
		const fees = BigInt(12 * payable);
		await chain.apply({ type: 'keyblock', block: pinned(mineNext(chain.ledger, aster, packed)) });
		const balances = chainBalances(chain);
		expect(balances.get(bytesToHex(birch.institution.id))).toBe(endowment - fees);
		expect(balances.get(bytesToHex(aster.institution.id))).toBe(endowment + 1n + fees);
		const total = [...balances.values()].reduce((a, b) => a + b, 0n);
		expect(total).toBe(BigInt(genesis.institutions.length) * endowment + 1n);
	}, 60_000);
});
