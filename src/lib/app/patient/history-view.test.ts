/**
 * The timeline the patient's screen shows, from chain entries and the records the device opened (played
 * by the test: no network): a label shown with the record it corrects and its signed reason, and a record
 * that could not be fetched shown with the sentence saying why.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../core/bytes.ts';
import type { LeafEntry } from '../../core/patient-block.ts';
import { transactionId, type LabelBody, type MedicalBody } from '../../core/transaction.ts';
import { generateMasterKey, issueRecordKey, signRecordContent } from '../../records/envelope.ts';
import { recordFromForm } from '../../records/fhir.ts';
import { clinics, patientKeys, testGenesis } from '../../../../tests/fixtures/chain.ts';
import type { OpenedRecord } from './record-cache.ts';
import { historyViews } from './history-view.ts';

const alice = patientKeys('alice');
const A = clinics[0]!;
const genesis = testGenesis();
const masterKey = generateMasterKey();

function entry(round: number, code: string, correction?: { target: Uint8Array; reason: string }) {
	const { header } = issueRecordKey(masterKey, alice.publicKey, A.institution.id);
	const common = {
		patient: alice.publicKey,
		institution: A.institution.id,
		round,
		record: {
			chameleon: { h: new Uint8Array(32), proof: new Uint8Array(256) },
			pointer: { digest: new Uint8Array(32).fill(round), holder: A.institution.id }
		}
	};
	const body: MedicalBody | LabelBody = correction
		? { ...common, kind: 'label', fees: genesis.fees.label, target: correction.target }
		: { ...common, kind: 'medical', fees: genesis.fees.medical };
	const resource = recordFromForm('Condition', { patient: 'spp1alice', code });
	const content = signRecordContent(
		header,
		{ resource: JSON.stringify(resource), authoredAt: 1000 * round, correction },
		A.secrets.signingKey
	);
	const leaf: LeafEntry = { tx: { body, signature: new Uint8Array(64) }, pin: new Uint8Array(32) };
	return { leaf, opened: { header, content } as OpenedRecord, id: transactionId(body) };
}

describe('the history view', () => {
	it('joins a label to its record, says why a record is missing, newest first', async () => {
		const flu = entry(3, 'Influenza');
		const unreachable = entry(5, 'Fracture');
		const label = entry(7, 'Common cold', { target: flu.id, reason: 'PCR sample mix-up' });
		const opened = new Map([flu, label].map((e) => [bytesToHex(e.id), e.opened]));
		const views = await historyViews({
			genesis,
			entries: [flu.leaf, unreachable.leaf, label.leaf],
			open: async (leaf) => {
				const found = opened.get(bytesToHex(transactionId(leaf.tx.body)));
				if (!found) throw new Error(`${A.institution.name} is not reachable right now.`);
				return found;
			},
			timeOf: (round) => round * 10_000,
			isPinned: () => true
		});
		expect(views.map((v) => v.id)).toEqual([unreachable.id, flu.id].map(bytesToHex));
		const [missing, labelled] = views;
		expect(missing!.resource).toBeUndefined();
		expect(missing!.unavailable).toBe(`${A.institution.name} is not reachable right now.`);
		expect(missing!.at).toBe(50_000);
		expect(labelled!.label).toMatchObject({
			id: bytesToHex(label.id),
			institution: { name: A.institution.name },
			reason: 'PCR sample mix-up',
			corrected: { code: { text: 'Common cold' } }
		});
		expect(labelled!.resource).toMatchObject({ code: { text: 'Influenza' } });
	});

	it('a label whose corrected record cannot be fetched shows the record, labelled, without content', async () => {
		const flu = entry(3, 'Influenza');
		const label = entry(7, 'Common cold', { target: flu.id, reason: 'PCR sample mix-up' });
		const [view] = await historyViews({
			genesis,
			entries: [flu.leaf, label.leaf],
			open: async (leaf) => {
				if (leaf === label.leaf) throw new Error('The institution did not answer in time.');
				return flu.opened;
			},
			timeOf: () => 0,
			isPinned: () => true
		});
		expect(view!.label?.corrected).toBeUndefined();
		expect(view!.label?.reason).toContain('The institution did not answer in time.');
	});
});
