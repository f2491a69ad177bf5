import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ValidationError } from './errors.ts';
import { Ledger } from './chain.ts';
import { checkKeyblock, decodeKeyblock, encodeKeyblock, keyblockHash, sealKeyblock } from './keyblock.ts';
import { meetsTarget, powHash } from './pow.ts';
import {
	clinics,
	expectOnlyValidationErrors,
	mineNext,
	patientKeys,
	registerTx,
	testGenesis,
	timeOf
} from '../../../tests/fixtures/chain.ts';

const genesis = testGenesis();
const [aster, birch] = clinics as [(typeof clinics)[0], (typeof clinics)[0]];

function sample() {
	const ledger = new Ledger(genesis);
	const registers = ['alice', 'bob'].map((name) => registerTx(genesis, patientKeys(name), birch, 1));
	return mineNext(ledger, aster, registers, timeOf(ledger, 1));
}

describe('keyblock', () => {
	it('round-trips through the canonical encoding and passes its own rules', () => {
		const block = sample();
		const bytes = encodeKeyblock(block);
		const decoded = decodeKeyblock(bytes, genesis.maxRegistersPerKeyblock);
		expect(decoded).toEqual(block);
		expect(() => checkKeyblock(decoded, genesis.fees, genesis.maxRegistersPerKeyblock)).not.toThrow();
	});

	it('solves exactly the paper puzzle H(prev || penu || Nonce || PK) < target', () => {
		const { header } = sample();
		expect(meetsTarget(powHash(header.prev, header.penu, header.nonce, header.miner), header.target)).toBe(
			true
		);
	});

	it('rejects a flipped bit in every byte', () => {
		const bytes = encodeKeyblock(sample());
		for (let i = 0; i < bytes.length; i++) {
			const tampered = bytes.slice();
			tampered[i]! ^= 0x01;
			expect(() => {
				checkKeyblock(
					decodeKeyblock(tampered, genesis.maxRegistersPerKeyblock),
					genesis.fees,
					genesis.maxRegistersPerKeyblock
				);
			}, `byte ${i}`).toThrow(ValidationError);
		}
	});

	it('never throws anything but a ValidationError on random or truncated bytes', () => {
		const bytes = encodeKeyblock(sample());
		fc.assert(
			fc.property(fc.nat(bytes.length), fc.uint8Array({ maxLength: 400 }), (cut, noise) => {
				expectOnlyValidationErrors((b) => decodeKeyblock(b, 16), [bytes.slice(0, cut), noise]);
			}),
			{ numRuns: 300 }
		);
	});

	it('names the broken rule: nonce, signature by another key, root, size, duplicate patient', () => {
		const block = sample();
		const check =
			(b: typeof block, max = 16) =>
			() =>
				checkKeyblock(b, genesis.fees, max);
		let badNonce = block.header.nonce + 1n;
		while (
			meetsTarget(
				powHash(block.header.prev, block.header.penu, badNonce, block.header.miner),
				block.header.target
			)
		)
			badNonce++;
		const unsolved = sealKeyblock(
			{ ...block.header, nonce: badNonce },
			block.registers,
			aster.secrets.signingKey
		);
		expect(check(unsolved)).toThrow(expect.objectContaining({ code: 'keyblock-pow' }));
		const stolen = {
			...block,
			signature: sealKeyblock(block.header, block.registers, birch.secrets.signingKey).signature
		};
		expect(check(stolen)).toThrow(expect.objectContaining({ code: 'keyblock-signature' }));
		expect(check({ ...block, registers: block.registers.slice(1) })).toThrow(
			expect.objectContaining({ code: 'keyblock-root' })
		);
		expect(check(block, 1)).toThrow(expect.objectContaining({ code: 'keyblock-size' }));
		const twice = registerTx(genesis, patientKeys('alice'), birch, 1, 'other salt');
		const ledger = new Ledger(genesis);
		const dup = mineNext(ledger, aster, [block.registers[0]!, twice], timeOf(ledger, 1));
		expect(check(dup)).toThrow(expect.objectContaining({ code: 'register-duplicate' }));
	});

	it('hashes the whole header: the pin slot is outside it', () => {
		const block = sample();
		expect(keyblockHash({ ...block.header, timestamp: block.header.timestamp + 1 })).not.toEqual(
			keyblockHash(block.header)
		);
		const pinned = decodeKeyblock(encodeKeyblock({ ...block, pin: Uint8Array.of(1, 2, 3) }), 16);
		expect(keyblockHash(pinned.header)).toEqual(keyblockHash(block.header));
	});
});
