import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sha256 } from './hash.ts';
import { ValidationError } from './errors.ts';
import { encodeCanonical, type Canonical } from './encoding.ts';
import {
	assertKind,
	checkTransaction,
	MAX_PROOF_LENGTH,
	decodeTransaction,
	encodeTransaction,
	signTransaction,
	transactionId,
	transactionToCanonical,
	type LabelBody,
	type MedicalBody,
	type Transaction,
	type TransactionBody
} from './transaction.ts';
import {
	clinics,
	expectOnlyValidationErrors,
	patientKeys,
	registerTx,
	testGenesis
} from '../../../tests/fixtures/chain.ts';

const genesis = testGenesis();
const alice = patientKeys('alice');
const [aster, birch] = clinics as [(typeof clinics)[0], (typeof clinics)[0]];

function medical(overrides: Partial<MedicalBody> = {}): Transaction<MedicalBody> {
	const digest = sha256(new TextEncoder().encode('ciphertext'));
	return signTransaction(
		{
			kind: 'medical',
			patient: alice.publicKey,
			institution: aster.institution.id,
			round: 3,
			fees: genesis.fees.medical,
			record: {
				chameleon: { h: new Uint8Array(32).fill(9), proof: new Uint8Array(256).fill(1) },
				pointer: { digest, holder: aster.institution.id }
			},
			...overrides
		},
		alice.secretKey
	);
}

function label(): Transaction<LabelBody> {
	const original = medical();
	return signTransaction(
		{
			kind: 'label',
			patient: alice.publicKey,
			institution: aster.institution.id,
			round: 4,
			fees: genesis.fees.label,
			target: transactionId(original.body),
			record: {
				...original.body.record,
				pointer: { ...original.body.record.pointer, digest: sha256(Uint8Array.of(2)) }
			}
		},
		alice.secretKey
	);
}

const samples: Record<string, () => Transaction> = {
	register: () => registerTx(genesis, alice, aster, 1),
	medical,
	label
};

describe.each(Object.entries(samples))('%s transaction', (_kind, make) => {
	it('round-trips through the canonical encoding and passes its rules', () => {
		const tx = make();
		const bytes = encodeTransaction(tx);
		const decoded = decodeTransaction(bytes);
		expect(decoded).toEqual(tx);
		expect(encodeTransaction(decoded)).toEqual(bytes);
		expect(() => checkTransaction(decoded, genesis.fees)).not.toThrow();
	});

	it('rejects a flipped bit in every byte (field values, framing and signature)', () => {
		const bytes = encodeTransaction(make());
		for (let i = 0; i < bytes.length; i++) {
			const tampered = bytes.slice();
			tampered[i]! ^= 0x01;
			expect(() => {
				checkTransaction(decodeTransaction(tampered), genesis.fees);
			}, `byte ${i}`).toThrow(ValidationError);
		}
	});

	it('never throws anything but a ValidationError when fed random or truncated bytes', () => {
		const bytes = encodeTransaction(make());
		fc.assert(
			fc.property(fc.nat(bytes.length), fc.uint8Array({ maxLength: 600 }), (cut, noise) => {
				expectOnlyValidationErrors(decodeTransaction, [bytes.slice(0, cut), noise]);
			}),
			{ numRuns: 300 }
		);
	});
});

describe('transaction rules', () => {
	it('identifies a transaction by its body: re-signing keeps the id, any change makes a new one', () => {
		const tx = medical();
		const again = signTransaction(tx.body, alice.secretKey);
		expect(transactionId(again.body)).toEqual(transactionId(tx.body));
		expect(transactionId(medical({ round: 4 }).body)).not.toEqual(transactionId(tx.body));
	});

	it('requires the fixed fees of its kind', () => {
		const cheap = medical({ fees: { service: 20, transaction: 1 } });
		expect(() => checkTransaction(cheap, genesis.fees)).toThrow(expect.objectContaining({ code: 'tx-fee' }));
		const asRegister = medical({ fees: genesis.fees.register });
		expect(() => checkTransaction(asRegister, genesis.fees)).toThrow(
			expect.objectContaining({ code: 'tx-fee' })
		);
	});

	it('requires the record to be held by the institution it is sent to', () => {
		const tx = medical();
		const moved = medical({
			record: { ...tx.body.record, pointer: { ...tx.body.record.pointer, holder: birch.institution.id } }
		});
		expect(() => checkTransaction(moved, genesis.fees)).toThrow(
			expect.objectContaining({ code: 'tx-holder' })
		);
	});

	it('rejects a signature by anyone but the patient', () => {
		const mallory = patientKeys('mallory');
		const forged = signTransaction(medical().body, mallory.secretKey);
		expect(() => checkTransaction(forged, genesis.fees)).toThrow(
			expect.objectContaining({ code: 'tx-signature' })
		);
	});

	it('rejects unknown fields, wrong kinds and oversized proofs with the field named', () => {
		const raw = transactionToCanonical(medical()) as {
			body: Record<string, Canonical>;
			signature: Canonical;
		};
		const withBody = (body: Record<string, Canonical>) => encodeCanonical({ ...raw, body });
		expect(() => decodeTransaction(withBody({ ...raw.body, extra: 1 }))).toThrow(/unknown field "extra"/);
		expect(() => decodeTransaction(withBody({ ...raw.body, kind: 'transfer' }))).toThrow(/kind/);
		const record = raw.body.record as Record<string, Canonical>;
		const big = { ...record, chameleon: { h: new Uint8Array(32), proof: new Uint8Array(257) } };
		expect(() => decodeTransaction(withBody({ ...raw.body, record: big }))).toThrow(/proof/);
		const short = { ...record, chameleon: { h: new Uint8Array(32), proof: new Uint8Array(255) } };
		expect(() => decodeTransaction(withBody({ ...raw.body, record: short }))).toThrow(/proof/);
	});

	it('asserts the kind a caller expects', () => {
		expect(() => assertKind(label(), 'label')).not.toThrow();
		expect(() => assertKind(medical(), 'register')).toThrow(expect.objectContaining({ code: 'tx-kind' }));
	});
});

describe('transaction encoding (property)', () => {
	const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
	const common = {
		patient: bytes(32),
		institution: bytes(32),
		round: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
		fees: fc.record({ service: fc.maxSafeNat(), transaction: fc.maxSafeNat() })
	};
	const record = fc.record({
		chameleon: fc.record({
			h: bytes(32),
			proof: fc.uint8Array({ minLength: MAX_PROOF_LENGTH, maxLength: MAX_PROOF_LENGTH })
		}),
		pointer: fc.record({ digest: bytes(32), holder: bytes(32) })
	});
	const body: fc.Arbitrary<TransactionBody> = fc.oneof(
		fc.record({ kind: fc.constant('register' as const), ...common, identity: bytes(32) }),
		fc.record({ kind: fc.constant('medical' as const), ...common, record }),
		fc.record({ kind: fc.constant('label' as const), ...common, target: bytes(32), record })
	);

	it('round-trips every transaction built from valid fields, with a stable id', () => {
		fc.assert(
			fc.property(body, bytes(64), (b, signature) => {
				const tx: Transaction = { body: b, signature };
				const encoded = encodeTransaction(tx);
				const decoded = decodeTransaction(encoded);
				expect(decoded).toEqual(tx);
				expect(encodeTransaction(decoded)).toEqual(encoded);
				expect(transactionId(decoded.body)).toEqual(transactionId(b));
			}),
			{ numRuns: 300 }
		);
	});
});
