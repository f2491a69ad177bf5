import { describe, expect, it } from 'vitest';
import { bytesToHex } from './bytes.ts';
import { ENDOWMENT_KEYBLOCK_REWARDS, FeeAccounts, feeOf } from './balances.ts';
import { devGenesis } from '../../../tests/fixtures/genesis-dev.ts';

const genesis = devGenesis();
const [aster, birch, cedar, dogwood, elm] = genesis.institutions.map((i) => i.id) as [
	Uint8Array,
	Uint8Array,
	Uint8Array,
	Uint8Array,
	Uint8Array
];
const endowment = ENDOWMENT_KEYBLOCK_REWARDS * BigInt(genesis.keyblockReward);
const total = (accounts: FeeAccounts) => [...accounts.all().values()].reduce((a, b) => a + b, 0n);
const members = [aster, birch, cedar, dogwood].map((id, i) => ({
	id,
	blsPublicKey: new Uint8Array(48),
	reputation: [0.6, 0.5, 0.5, 0.4][i]!
}));

describe('fee accounts', () => {
	it('debits a register fee from its institution and credits the miner; only the reward is new money', () => {
		const accounts = new FeeAccounts(genesis);
		expect(accounts.balance(birch)).toBe(endowment);
		const register = { institution: birch, fees: genesis.fees.register };
		accounts.applyKeyblock(1, aster, [register, register]);
		const fee = feeOf(register);
		expect(fee).toBe(12n);
		expect(accounts.balance(birch)).toBe(endowment - 2n * fee);
		expect(accounts.balance(aster)).toBe(endowment + 1000n + 2n * fee);
		expect(total(accounts)).toBe(5n * endowment + 1000n);
	});

	it('debits record fees at attachment and shares them between the creator and the pinning group', () => {
		const accounts = new FeeAccounts(genesis);
		accounts.applyBatch(1, cedar, members);
		expect(total(accounts)).toBe(5n * endowment + 100n);
		const before = accounts.all();
		const record = { institution: elm, fees: genesis.fees.medical };
		accounts.applyAttachment(elm, [{ sequence: 1, bodies: [record, record, record], group: members }]);
		// Elm pays 3 × 22 = 66 and, as the creator, gets 20 % back (13); the members share 53 by weight.
		expect(accounts.balance(elm)).toBe(endowment - 66n + 13n);
		const gained = members.map((m) => accounts.balance(m.id) - before.get(bytesToHex(m.id))!);
		expect(gained.reduce((a, b) => a + b, 0n)).toBe(53n);
		expect(total(accounts)).toBe(5n * endowment + 100n);
	});

	it('refuses a transaction whose payer cannot pay, before any balance changes', () => {
		// A consortium whose genesis endows nothing (keyblock reward 0): nobody can pay a fee yet.
		const poor = new FeeAccounts(devGenesis({ keyblockReward: 0 }));
		const register = { institution: birch, fees: genesis.fees.register };
		expect(() => poor.applyKeyblock(1, aster, [register])).toThrow(
			expect.objectContaining({ code: 'balance-insufficient', message: expect.stringMatching(/holds 0/) })
		);
		expect(total(poor)).toBe(0n);
		// What the payer already owes counts too.
		const accounts = new FeeAccounts(genesis);
		const owed = new Map([[bytesToHex(birch), endowment - 5n]]);
		expect(() => accounts.checkPayable([register], 'a register', owed)).toThrow(/a register/);
		expect(() => accounts.checkPayable([register], 'a register')).not.toThrow();
		// An attachment its creator cannot pay changes nothing.
		const broke = new FeeAccounts(devGenesis({ keyblockReward: 0 }));
		const record = { institution: elm, fees: genesis.fees.medical };
		expect(() => broke.applyAttachment(elm, [{ sequence: 1, bodies: [record], group: members }])).toThrow(
			expect.objectContaining({ code: 'balance-insufficient' })
		);
		expect(total(broke)).toBe(0n);
	});
});
