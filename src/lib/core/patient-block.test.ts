import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bytesToHex, type Bytes } from './bytes.ts';
import { Ledger } from './chain.ts';
import { ValidationError } from './errors.ts';
import { sha256 } from './hash.ts';
import {
	checkPatientBlock,
	decodePatientBlock,
	encodePatientBlock,
	type LeafEntry,
	type PatientBlock
} from './patient-block.ts';
import { encodeCanonical } from './encoding.ts';
import { signTransaction, transactionToCanonical, type RecordBody, type Transaction } from './transaction.ts';
import { verifyReceivedPatientBlock } from './received-patient-block.ts';
import {
	aster,
	attachProven,
	birch,
	expectOnlyValidationErrors,
	labelTx,
	leafProof,
	medicalTx,
	mineNext,
	patientKeys,
	pinRecords,
	registerTx,
	soundVerifier,
	testGenesis
} from '../../../tests/fixtures/chain.ts';

const genesis = testGenesis();
const alice = patientKeys('alice');
const bob = patientKeys('bob');
const NOW = Date.UTC(2030, 0, 1);
const code = (code: string) => expect.objectContaining({ code });

/** Alice registered at Aster in round 1, bob at Birch after her; the chain is at height 3. */
function created(): { ledger: Ledger; block: PatientBlock } {
	const ledger = new Ledger(genesis);
	const [block] = ledger.appendKeyblock(
		mineNext(ledger, aster, [registerTx(genesis, alice, aster, 1), registerTx(genesis, bob, birch, 1)]),
		NOW
	);
	ledger.appendKeyblock(mineNext(ledger, birch), NOW);
	ledger.appendKeyblock(mineNext(ledger, aster), NOW);
	return { ledger, block: block! };
}

/** `block` with `entries` behind Aster's leaf (index 0), and `proof` (null: none). */
function withEntries(block: PatientBlock, entries: LeafEntry[], proof: Bytes | null = new Uint8Array(256)) {
	const leaf = { ...block.leaves[0]!, entries, ...(proof ? { proof } : {}) };
	return { ...block, leaves: [leaf, ...block.leaves.slice(1)] };
}

const entry = (tx: Transaction<RecordBody>): LeafEntry => ({ tx, pin: new Uint8Array(32) });

/** The code a received block is refused with, after decoding and the ledger's check, or 'accepted'. */
async function verdict(ledger: Ledger, bytes: Bytes): Promise<string> {
	try {
		await verifyReceivedPatientBlock(ledger, decodePatientBlock(bytes, 16), soundVerifier);
	} catch (error) {
		expect(error).toBeInstanceOf(ValidationError);
		return (error as ValidationError).code;
	}
	return 'accepted';
}

function indexOfBytes(haystack: Bytes, needle: Bytes): number {
	const hex = bytesToHex(haystack);
	const at = hex.indexOf(bytesToHex(needle));
	expect(at % 2).toBe(0);
	return at / 2;
}

describe('patient block', () => {
	it('is created with one empty leaf per institution, needs no proofs, and round-trips', async () => {
		const { ledger, block } = created();
		expect(block.leaves.map((l) => l.institution)).toEqual(genesis.institutions.map((i) => i.id));
		expect(checkPatientBlock(block, genesis.institutions)).toEqual([]);
		const bytes = encodePatientBlock(block);
		expect(decodePatientBlock(bytes, 16)).toEqual(block);
		expect(await verdict(ledger, bytes)).toBe('accepted');
	});

	it('rejects a flipped bit in every byte; a header field the chain derives cannot be forged', async () => {
		const { ledger, block } = created();
		const bytes = encodePatientBlock(block);
		const codes: string[] = [];
		for (let i = 0; i < bytes.length; i++) {
			const tampered = bytes.slice();
			tampered[i]! ^= 0x01;
			codes.push(await verdict(ledger, tampered));
			expect(codes[i], `byte ${i}`).not.toBe('accepted');
		}
		// The value bytes of each hash field are refused because they differ from the derived header.
		for (const field of ['register', 'keyblock', 'prev', 'institutionRoot'] as const) {
			const at = indexOfBytes(bytes, block.header[field]);
			expect(new Set(codes.slice(at, at + 32)), field).toEqual(new Set(['patient-header']));
		}
		const at = indexOfBytes(bytes, block.header.patient);
		expect(new Set(codes.slice(at, at + 32))).toEqual(new Set(['tx-unregistered']));
	});

	it('the ledger refuses any header field other than the one it derived', async () => {
		const { ledger, block } = created();
		const other = ledger.patientBlock(bob.publicKey)!.header;
		const check = (header: Partial<PatientBlock['header']>) =>
			verifyReceivedPatientBlock(ledger, { ...block, header: { ...block.header, ...header } }, soundVerifier);
		for (const field of ['register', 'keyblock', 'prev', 'institutionRoot'] as const)
			await expect(check({ [field]: sha256(other[field]) }), field).rejects.toMatchObject({
				code: 'patient-header'
			});
		await expect(check({ round: 2 })).rejects.toMatchObject({ code: 'patient-header' });
		// Bob's genuine header is not alice's, and an unregistered patient has no block at all.
		await expect(check({ ...other, patient: block.header.patient })).rejects.toMatchObject({
			code: 'patient-header'
		});
		await expect(check({ patient: patientKeys('carol').publicKey })).rejects.toMatchObject({
			code: 'tx-unregistered'
		});
	});

	it('rejects a flipped bit in every byte of a leaf with records: entries, pins and proof', async () => {
		const { ledger, block } = created();
		const record = medicalTx(genesis, alice, aster, 2);
		const [first] = pinRecords(ledger, [record]);
		const [second] = pinRecords(ledger, [labelTx(genesis, alice, aster, 3, record)]);
		const entries = [first!, second!];
		await attachProven(ledger, alice.publicKey, aster, entries);
		const bytes = encodePatientBlock(ledger.patientBlock(alice.publicKey)!);
		expect(await verdict(ledger, bytes)).toBe('accepted');
		const leaf = ledger.patientBlock(alice.publicKey)!.leaves[0]!;
		const leafBytes = encodeCanonical({
			institution: leaf.institution,
			entries: leaf.entries.map((e) => ({ tx: transactionToCanonical(e.tx), pin: e.pin })),
			proof: leaf.proof!
		});
		// Aster's leaf, every byte of it: its framing, both entries with their pins, and the leaf proof.
		const start = indexOfBytes(bytes, leafBytes);
		const end = start + leafBytes.length;
		const codes = new Set<string>();
		for (let i = start; i < end; i++) {
			const tampered = bytes.slice();
			tampered[i]! ^= 0x01;
			const result = await verdict(ledger, tampered);
			expect(result, `byte ${i}`).not.toBe('accepted');
			codes.add(result);
		}
		expect([...codes]).toEqual(
			expect.arrayContaining(['patient-leaves', 'tx-signature', 'tx-pin', 'leaf-proof', 'schema'])
		);
		// An entry the group never pinned is refused even with a valid signature and leaf proof.
		const unpinned = [first!, entry(medicalTx(genesis, alice, aster, 3, 'unpinned'))];
		await expect(
			verifyReceivedPatientBlock(
				ledger,
				withEntries(block, unpinned, leafProof(alice.publicKey, aster, unpinned)),
				soundVerifier
			)
		).rejects.toMatchObject({ code: 'tx-unpinned' });
	});

	it('rejects leaves that do not match the consortium, and proofs on empty leaves', () => {
		const { block } = created();
		const expectCode = (b: typeof block, code: string) =>
			expect(() => checkPatientBlock(b, genesis.institutions)).toThrow(expect.objectContaining({ code }));
		expectCode({ ...block, leaves: block.leaves.slice(1) }, 'patient-leaves');
		expectCode(
			{ ...block, leaves: [block.leaves[1]!, block.leaves[0]!, ...block.leaves.slice(2)] },
			'patient-leaves'
		);
		expectCode(
			{ ...block, leaves: block.leaves.map((l, i) => (i === 0 ? { ...l, proof: new Uint8Array(256) } : l)) },
			'patient-proof'
		);
		expectCode(
			{ ...block, header: { ...block.header, patient: patientKeys('bob').publicKey } },
			'patient-root'
		);
	});

	it('names each broken rule of a leaf’s entries', () => {
		const { block } = created();
		const check = (entries: LeafEntry[], proof?: Bytes | null) => () =>
			checkPatientBlock(withEntries(block, entries, proof), genesis.institutions);
		const record = medicalTx(genesis, alice, aster, 2);
		const label = labelTx(genesis, alice, aster, 3, record);
		expect(check([entry(record), entry(label)])()).toHaveLength(1);

		expect(check([entry(record)], null)).toThrow(code('patient-proof'));
		expect(check([entry(record), entry(record)])).toThrow(code('leaf-duplicate'));
		expect(check([entry(medicalTx(genesis, bob, aster, 2))])).toThrow(code('leaf-patient'));
		expect(check([entry(medicalTx(genesis, alice, birch, 2))])).toThrow(code('leaf-institution'));
		expect(check([entry(label), entry(medicalTx(genesis, alice, aster, 2))])).toThrow(code('label-target'));
		expect(check([entry(medicalTx(genesis, alice, aster, 3, 'later')), entry(record)])).toThrow(
			code('leaf-order')
		);
		// Nothing may be attached for a round before the patient registered (round 1).
		expect(check([entry(medicalTx(genesis, alice, aster, 0))])).toThrow(code('leaf-order'));
		const rehashed = signTransaction(
			{
				...label.body,
				record: {
					...label.body.record,
					chameleon: medicalTx(genesis, alice, aster, 2, 'x').body.record.chameleon
				}
			},
			alice.secretKey
		);
		expect(check([entry(record), entry(rehashed)])).toThrow(code('label-hash'));
		const again = labelTx(genesis, alice, aster, 3, record, 'corrected twice');
		expect(check([entry(record), entry(label), entry(again)])).toThrow(code('label-twice'));
	});

	it('refuses a register transaction behind a leaf when decoding', () => {
		const { block } = created();
		const register = registerTx(genesis, alice, aster, 1) as unknown as Transaction<RecordBody>;
		const bytes = encodePatientBlock(withEntries(block, [entry(register)]));
		expect(() => decodePatientBlock(bytes, 16)).toThrow(code('leaf-entry'));
	});

	it('never throws anything but a ValidationError on random or truncated bytes', () => {
		const bytes = encodePatientBlock(created().block);
		fc.assert(
			fc.property(fc.nat(bytes.length), fc.uint8Array({ maxLength: 400 }), (cut, noise) => {
				expectOnlyValidationErrors((b) => decodePatientBlock(b, 16), [bytes.slice(0, cut), noise]);
			}),
			{ numRuns: 300 }
		);
	});
});
