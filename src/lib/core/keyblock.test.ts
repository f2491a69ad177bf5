import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex } from './bytes.ts';
import { ConsensusGroup } from './consensus/group.ts';
import { encodeCanonical } from './encoding.ts';
import { ValidationError } from './errors.ts';
import { Ledger } from './chain.ts';
import {
	checkKeyblock,
	decodeKeyblock,
	encodeKeyblock,
	keyblockHash,
	MAX_PIN_BYTES,
	sealKeyblock,
	type Keyblock
} from './keyblock.ts';
import { decodePin, encodePin, verifyKeyblockPin } from './pinning.ts';
import { meetsTarget, powHash } from './pow.ts';
import type { RegisterBody, Transaction } from './transaction.ts';
import {
	clinics,
	expectOnlyValidationErrors,
	medicalTx,
	mineNext,
	patientKeys,
	registerTx,
	testGenesis,
	timeOf
} from '../../../tests/fixtures/chain.ts';
import { certify } from '../../../tests/fixtures/pins.ts';

const genesis = testGenesis();
const [aster, birch, cedar] = clinics as [(typeof clinics)[0], (typeof clinics)[0], (typeof clinics)[0]];

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

	it('packs register transactions only: another kind is refused by the decoder and by the rules', () => {
		const block = sample();
		const medical = medicalTx(
			genesis,
			patientKeys('alice'),
			birch,
			1
		) as unknown as Transaction<RegisterBody>;
		const ledger = new Ledger(genesis);
		const mixed = mineNext(ledger, aster, [block.registers[0]!, medical], timeOf(ledger, 1));
		expect(() => checkKeyblock(mixed, genesis.fees, 16)).toThrow(
			expect.objectContaining({ code: 'keyblock-register' })
		);
		expect(() => decodeKeyblock(encodeKeyblock(mixed), 16)).toThrow(
			expect.objectContaining({ code: 'keyblock-register' })
		);
	});

	it('rejects a flipped bit in every byte of the pin slot (decoding, then the certificate)', () => {
		const block = sample();
		const group = new ConsensusGroup(
			clinics.map((c) => ({ id: c.institution.id, blsPublicKey: c.institution.blsKey, reputation: 1 }))
		);
		const pin = encodePin(certify(group, [aster, birch, cedar], 'keyblock', 1, keyblockHash(block.header)));
		const bytes = encodeKeyblock({ ...block, pin });
		const validate = (b: Uint8Array) => {
			const decoded = decodeKeyblock(b, 16);
			checkKeyblock(decoded, genesis.fees, 16);
			const position = { height: decoded.header.height, keyblockHash: keyblockHash(decoded.header) };
			verifyKeyblockPin(decodePin(decoded.pin!), position, group);
		};
		expect(() => validate(bytes)).not.toThrow();
		// The slot: the "pin" key, the byte string's length prefix and the certificate itself.
		const slot = encodeCanonical({ pin }).subarray(1);
		const start = bytesToHex(bytes).indexOf(bytesToHex(slot)) / 2;
		const end = start + slot.length;
		expect(start).toBeGreaterThan(0);
		for (let i = start; i < end; i++) {
			const tampered = bytes.slice();
			tampered[i]! ^= 0x01;
			expect(() => validate(tampered), `byte ${i}`).toThrow(ValidationError);
		}
	});

	it('round-trips arbitrary keyblocks built from valid fields', () => {
		const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
		const uint32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
		const register: fc.Arbitrary<Transaction<RegisterBody>> = fc.record({
			body: fc.record({
				kind: fc.constant('register' as const),
				patient: bytes(32),
				institution: bytes(32),
				round: uint32,
				fees: fc.record({ service: fc.maxSafeNat(), transaction: fc.maxSafeNat() }),
				identity: bytes(32)
			}),
			signature: bytes(64)
		});
		const keyblock: fc.Arbitrary<Keyblock> = fc.record(
			{
				header: fc.record({
					height: uint32,
					prev: bytes(32),
					penu: bytes(32),
					nonce: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
					miner: bytes(32),
					target: bytes(32),
					timestamp: fc.maxSafeNat(),
					registersRoot: bytes(32)
				}),
				registers: fc.array(register, { maxLength: 4 }),
				signature: bytes(64),
				// Long pins are rare in runs but allowed up to the bound.
				pin: fc.oneof(
					fc.uint8Array({ minLength: 1, maxLength: 300 }),
					fc.constant(new Uint8Array(MAX_PIN_BYTES).fill(7))
				)
			},
			{ requiredKeys: ['header', 'registers', 'signature'] }
		);
		fc.assert(
			fc.property(keyblock, (block) => {
				const encoded = encodeKeyblock(block);
				const decoded = decodeKeyblock(encoded, 4);
				expect(decoded).toEqual(block);
				expect(encodeKeyblock(decoded)).toEqual(encoded);
				expect(keyblockHash(decoded.header)).toEqual(keyblockHash(block.header));
			}),
			{ numRuns: 150 }
		);
	});
});
