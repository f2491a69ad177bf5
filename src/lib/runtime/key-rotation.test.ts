/**
 * Issue 12 acceptance, "a rotated key keeps old records verifiable": an institution writes records
 * under its first signing key, rotates it (a fact signed by the old and the new key, approved by the
 * group's quorum, carried by a keyblock), and writes more. Every record then verifies with the key in
 * force at its round: on the ledger that lived through it, on a late node that replays the chain with
 * every rule, and on a light client that learns the rotation fact; content signed after the rotation
 * with the old key is refused, and so is a keyblock mined with it.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes } from '@noble/hashes/utils.js';
import { equalBytes } from '../core/bytes.ts';
import type { Ledger } from '../core/chain.ts';
import { generateSigningKey, publicKeyOf } from '../core/identity.ts';
import type { LeafEntry } from '../core/patient-block.ts';
import type { RegistryFact } from '../core/registry-facts.ts';
import { transactionId, type RecordBody, type Transaction } from '../core/transaction.ts';
import { checkRecordContent, signRecordContent, type RecordHeader } from '../records/envelope.ts';
import { LightClient } from './light-client.ts';
import {
	clinics,
	labelTx,
	leafProof,
	medicalTx,
	patientKeys,
	pinRecords,
	registerTx,
	soundVerifier,
	testGenesis
} from '../../../tests/fixtures/chain.ts';
import type { DevInstitution } from '../../../tests/fixtures/genesis-dev.ts';
import { codeOf } from '../../../tests/fixtures/records.ts';
import { approvedRotation, approvingLedger, groupOf, mineWith } from '../../../tests/fixtures/registry.ts';

const genesis = testGenesis();
const NOW = Date.UTC(2030, 0, 1);
const [aster, birch] = clinics as [DevInstitution, DevInstitution];
const patient = patientKeys('rotation');

/** What a clinic signs off chain for a record: its content, for the record header it holds. */
function content(resource: string, signingSecret: Uint8Array) {
	const header: RecordHeader = {
		patient: patient.publicKey,
		holder: aster.institution.id,
		record: randomBytes(32)
	};
	return { header, content: signRecordContent(header, { resource, authoredAt: NOW }, signingSecret) };
}

/** The chain as it happened: keyblocks, then for each attachment its entries and leaf proof. */
interface History {
	ledger: Ledger;
	rotation: RegistryFact;
	attachments: { entries: LeafEntry[]; proof: Uint8Array }[];
	records: { tx: Transaction<RecordBody>; signed: ReturnType<typeof content> }[];
	freshKey: Uint8Array;
}

async function attach(ledger: Ledger, history: History['attachments'], txs: Transaction<RecordBody>[]) {
	const block = ledger.patientBlock(patient.publicKey)!;
	const leaf = block.leaves.find((l) => equalBytes(l.institution, aster.institution.id))!;
	const entries = pinRecords(ledger, txs);
	const proof = leafProof(patient.publicKey, aster, [...leaf.entries, ...entries]);
	await ledger.attachRecords(patient.publicKey, aster.institution.id, entries, proof, soundVerifier);
	history.push({ entries, proof });
}

async function liveThroughRotation(): Promise<History> {
	const ledger = approvingLedger(genesis);
	const attachments: History['attachments'] = [];
	// Keyblock 1 (Birch) registers the patient at Aster; Aster writes a record under its first key.
	ledger.appendKeyblock(
		mineWith(ledger, birch.secrets.signingKey, [], [registerTx(genesis, patient, aster, 1)]),
		NOW
	);
	const before = medicalTx(genesis, patient, aster, 1, 'before rotation');
	await attach(ledger, attachments, [before]);

	// Keyblock 2 carries Aster's rotation: its new key is in force from keyblock 3.
	const freshKey = generateSigningKey().secretKey;
	const rotation = approvedRotation(ledger, aster, aster.secrets.signingKey, freshKey);
	ledger.appendKeyblock(mineWith(ledger, birch.secrets.signingKey, [rotation]), NOW);
	// Aster mines keyblock 3 with its new key, then writes a record and a label of the first one.
	ledger.appendKeyblock(mineWith(ledger, freshKey), NOW);
	const after = medicalTx(genesis, patient, aster, 3, 'after rotation');
	const label = labelTx(genesis, patient, aster, 3, before, 'corrected after rotation');
	await attach(ledger, attachments, [after, label]);
	return {
		ledger,
		rotation,
		attachments,
		freshKey,
		records: [
			{ tx: before, signed: content('{"before":true}', aster.secrets.signingKey) },
			{ tx: after, signed: content('{"after":true}', freshKey) },
			{ tx: label, signed: content('{"label":true}', freshKey) }
		]
	};
}

describe('key rotation keeps old records verifiable', () => {
	it('checks every record with the key in force at its round, and refuses the old key after', async () => {
		const { ledger, records, freshKey } = await liveThroughRotation();
		const [before, after, label] = records.map((r) => ({ ...r, id: transactionId(r.tx.body) }));

		expect(ledger.recordAuthorKey(before!.id)).toEqual(aster.institution.id);
		expect(ledger.recordAuthorKey(after!.id)).toEqual(publicKeyOf(freshKey));
		expect(ledger.recordAuthorKey(label!.id)).toEqual(publicKeyOf(freshKey));
		for (const { id, signed } of [before!, after!, label!])
			expect(
				codeOf(() => checkRecordContent(signed.header, signed.content, ledger.recordAuthorKey(id)))
			).toBe('no error');

		// Content of a post-rotation record signed with the old key (whoever stole it) is refused…
		const stale = content('{"forged":true}', aster.secrets.signingKey);
		expect(
			codeOf(() => checkRecordContent(stale.header, stale.content, ledger.recordAuthorKey(after!.id)))
		).toBe('record-author');
		// …and so is a pre-rotation record re-signed with the new key: each round has one key.
		const resigned = content('{"before":true}', freshKey);
		expect(
			codeOf(() => checkRecordContent(resigned.header, resigned.content, ledger.recordAuthorKey(before!.id)))
		).toBe('record-author');
		// The old key cannot mine any more either.
		expect(() => ledger.checkNextKeyblock(mineWith(ledger, aster.secrets.signingKey), NOW)).toThrow(
			expect.objectContaining({ code: 'keyblock-miner' })
		);
		ledger.appendKeyblock(mineWith(ledger, freshKey), NOW);
	});

	it('a late node replays the chain with every rule and a restart rebuilds the same keys', async () => {
		const history = await liveThroughRotation();
		const late = approvingLedger(genesis);
		const restarted = approvingLedger(genesis);
		// As chain sync hands them over: keyblocks (re-checked), then each attachment (re-verified).
		const attachAt = new Map([
			[1, history.attachments[0]!],
			[3, history.attachments[1]!]
		]);
		for (let height = 1; height <= history.ledger.height; height++) {
			const { block } = history.ledger.keyblock(height)!;
			late.appendKeyblock(block, NOW);
			restarted.restoreKeyblock(block);
			const attachment = attachAt.get(height);
			if (!attachment) continue;
			late.recordPinnedBatch(
				attachment.entries[0]!.pin,
				attachment.entries.map((e) => transactionId(e.tx.body))
			);
			await late.attachRecords(
				patient.publicKey,
				aster.institution.id,
				attachment.entries,
				attachment.proof,
				soundVerifier
			);
		}
		expect(late.patientBlockHash(patient.publicKey)).toEqual(
			history.ledger.patientBlockHash(patient.publicKey)
		);
		for (const { tx, signed } of history.records) {
			const id = transactionId(tx.body);
			expect(late.recordAuthorKey(id)).toEqual(history.ledger.recordAuthorKey(id));
			checkRecordContent(signed.header, signed.content, late.recordAuthorKey(id));
		}
		expect(restarted.registry.all).toEqual(history.ledger.registry.all);
	});

	it('a light client that learns the rotation fact knows the key of each round', async () => {
		const { ledger, rotation, records } = await liveThroughRotation();
		const light = new LightClient(genesis, groupOf());
		light.applyRegistryFact(2, rotation);
		for (const { tx, signed } of records) {
			const key = light.registry.signingKeyAt(tx.body.institution, tx.body.round);
			expect(key).toEqual(ledger.recordAuthorKey(transactionId(tx.body)));
			checkRecordContent(signed.header, signed.content, key);
		}
		// The rotation again (a replay) does not hold: its sequence is spent.
		expect(() => light.applyRegistryFact(2, rotation)).toThrow(
			expect.objectContaining({ code: 'rotation-sequence' })
		);
	});
});
