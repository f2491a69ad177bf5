/**
 * The patient block's life with real Groth16 proofs: a record attached behind its institution's leaf,
 * then corrected by a label, while the block hash never changes; every way to cheat is rejected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { Ledger } from '../../src/lib/core/chain.ts';
import { messageFromDigest, type ChameleonHash } from '../../src/lib/core/chameleon.ts';
import { initialLeafValue, leafMessage, type LeafEntry } from '../../src/lib/core/patient-block.ts';
import {
	signTransaction,
	transactionId,
	type LabelBody,
	type MedicalBody,
	type Transaction
} from '../../src/lib/core/transaction.ts';
import { createNodeProver } from '../../src/lib/crypto/prover.node.ts';
import { loadVerificationKey } from '../../src/lib/crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../../src/lib/crypto/batch-verifier.ts';
import { proveCollision, proveHash, type ChameleonProver } from '../../src/lib/crypto/chameleon-prover.ts';
import { clinics, mineNext, patientKeys, registerTx, testGenesis } from '../fixtures/chain.ts';
import type { DevInstitution } from '../fixtures/genesis-dev.ts';
import type { Bytes } from '../../src/lib/core/bytes.ts';

const genesis = testGenesis();
const [aster, birch] = clinics as [DevInstitution, DevInstitution];
const alice = patientKeys('alice');
const NOW = Date.UTC(2030, 0, 1);

let prover: ChameleonProver;
let verifier: Groth16BatchVerifier;
let ledger: Ledger;

beforeAll(async () => {
	prover = await createNodeProver();
	verifier = await Groth16BatchVerifier.create(await loadVerificationKey());
	ledger = new Ledger(genesis);
	ledger.appendKeyblock(mineNext(ledger, aster, [registerTx(genesis, alice, aster, 1)]), NOW);
	ledger.appendKeyblock(mineNext(ledger, birch), NOW);
}, 120_000);

afterAll(async () => {
	await prover.close();
});

/** A clinic's record: the ciphertext's digest is the pointer, its reduction the chameleon message. */
async function medicalRecord(clinic: DevInstitution, ciphertext: string) {
	const digest = sha256(new TextEncoder().encode(ciphertext));
	const { hash, r } = await proveHash(prover, messageFromDigest(digest), clinic.institution.chameleonKey);
	const tx = signTransaction<MedicalBody>(
		{
			kind: 'medical',
			patient: alice.publicKey,
			institution: clinic.institution.id,
			round: ledger.height,
			fees: genesis.fees.medical,
			record: { chameleon: hash, pointer: { digest, holder: clinic.institution.id } }
		},
		alice.secretKey
	);
	return { tx, r, m: messageFromDigest(digest) };
}

/** The institution's proof that its unchanged leaf value opens to the new list of entries. */
async function leafProof(clinic: DevInstitution, entryIds: Bytes[]): Promise<Bytes> {
	const X = clinic.institution.chameleonKey;
	const m0 = leafMessage(alice.publicKey, clinic.institution.id, []);
	const opening = {
		x: clinic.secrets.trapdoor,
		X,
		h: initialLeafValue(alice.publicKey, clinic.institution.id),
		m: m0,
		r: 0n
	};
	const { hash } = await proveCollision(
		prover,
		opening,
		leafMessage(alice.publicKey, clinic.institution.id, entryIds)
	);
	return hash.proof;
}

function pin(txs: Transaction[]): LeafEntry[] {
	const certificate = sha256(Uint8Array.from(txs.flatMap((tx) => [...transactionId(tx.body)])));
	ledger.recordPinnedBatch(
		certificate,
		txs.map((tx) => transactionId(tx.body))
	);
	return txs.map((tx) => ({ tx: tx as Transaction<MedicalBody | LabelBody>, pin: certificate }));
}

describe('patient block records with real proofs', () => {
	let original: Awaited<ReturnType<typeof medicalRecord>>;
	let blockHash: Bytes;

	it('attaches a pinned medical record with the leaf proof; the patient block hash does not change', async () => {
		blockHash = ledger.patientBlockHash(alice.publicKey)!;
		original = await medicalRecord(aster, 'E_A(E_P(first visit))');
		const statement = ledger.checkRecordTransaction(original.tx);
		expect(await verifier.verifyAll([statement])).toEqual([true]);

		await expect(
			ledger.attachRecords(
				alice.publicKey,
				aster.institution.id,
				[{ tx: original.tx, pin: new Uint8Array(32) }],
				new Uint8Array(256),
				verifier
			)
		).rejects.toMatchObject({ code: 'tx-unpinned' });

		const entries = pin([original.tx]);
		const wrongLeafProof = await leafProof(aster, []);
		await expect(
			ledger.attachRecords(alice.publicKey, aster.institution.id, entries, wrongLeafProof, verifier)
		).rejects.toMatchObject({
			code: 'leaf-proof'
		});
		await ledger.attachRecords(
			alice.publicKey,
			aster.institution.id,
			entries,
			await leafProof(aster, [transactionId(original.tx.body)]),
			verifier
		);
		expect(ledger.patientBlock(alice.publicKey)!.leaves[0]!.entries).toHaveLength(1);
		expect(ledger.patientBlockHash(alice.publicKey)).toEqual(blockHash);
		expect(() => ledger.checkRecordTransaction(original.tx)).toThrow(
			expect.objectContaining({ code: 'tx-duplicate' })
		);
	});

	it('lets only the authoring clinic label the record, with the patient signature, keeping h and the block hash', async () => {
		const corrected = sha256(new TextEncoder().encode('E_A(E_P(corrected diagnosis))'));
		const m2 = messageFromDigest(corrected);
		const h = original.tx.body.record.chameleon.h;
		const { hash } = await proveCollision(
			prover,
			{ x: aster.secrets.trapdoor, X: aster.institution.chameleonKey, h, m: original.m, r: original.r },
			m2
		);
		expect(hash.h).toEqual(h);
		const labelBody = (clinic: DevInstitution, chameleon: ChameleonHash): LabelBody => ({
			kind: 'label',
			patient: alice.publicKey,
			institution: clinic.institution.id,
			round: ledger.height,
			fees: genesis.fees.label,
			target: transactionId(original.tx.body),
			record: { chameleon, pointer: { digest: corrected, holder: clinic.institution.id } }
		});
		const label = signTransaction(labelBody(aster, hash), alice.secretKey);

		// Birch did not write the record: refused by rule, and its trapdoor could not open Aster's h anyway.
		const byBirch = signTransaction(labelBody(birch, hash), alice.secretKey);
		expect(() => ledger.checkRecordTransaction(byBirch)).toThrow(
			expect.objectContaining({ code: 'label-author' })
		);
		await expect(
			proveCollision(
				prover,
				{ x: birch.secrets.trapdoor, X: aster.institution.chameleonKey, h, m: original.m, r: original.r },
				m2
			)
		).rejects.toMatchObject({ code: 'chameleon-trapdoor' });
		// Without the patient's signature there is no label.
		const unsigned = signTransaction(labelBody(aster, hash), patientKeys('mallory').secretKey);
		expect(() => ledger.checkRecordTransaction(unsigned)).toThrow(
			expect.objectContaining({ code: 'tx-signature' })
		);
		// A proof for another message under the same h does not verify for the corrected ciphertext.
		const stale = signTransaction(labelBody(aster, original.tx.body.record.chameleon), alice.secretKey);
		expect(await verifier.verifyAll([ledger.checkRecordTransaction(stale)])).toEqual([false]);

		expect(await verifier.verifyAll([ledger.checkRecordTransaction(label)])).toEqual([true]);
		const ids = [transactionId(original.tx.body), transactionId(label.body)];
		await ledger.attachRecords(
			alice.publicKey,
			aster.institution.id,
			pin([label]),
			await leafProof(aster, ids),
			verifier
		);
		expect(ledger.patientBlockHash(alice.publicKey)).toEqual(blockHash);
		expect(ledger.patientBlock(alice.publicKey)!.leaves[0]!.entries.map((e) => e.tx.body.kind)).toEqual([
			'medical',
			'label'
		]);
		expect(() =>
			ledger.checkRecordTransaction(
				// A second correction of the same record (another ciphertext), in the same round.
				signTransaction(
					{
						...label.body,
						record: {
							...label.body.record,
							pointer: { ...label.body.record.pointer, digest: new Uint8Array(32).fill(9) }
						}
					},
					alice.secretKey
				)
			)
		).toThrow(expect.objectContaining({ code: 'label-twice' }));
	});
});
