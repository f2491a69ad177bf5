import { describe, expect, it } from 'vitest';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import { transactionId, type RecordBody } from '../core/transaction.ts';
import { clinics, patientKeys } from '../../../tests/fixtures/chain.ts';
import { issueRecordKey, generateMasterKey, signRecordContent, type Correction } from './envelope.ts';
import { recordFromForm } from './fhir.ts';
import { buildHistory, type ChainRecord, type OpenedRecord } from './history.ts';

const alice = patientKeys('alice');
const A = clinics[0]!;
const B = clinics[1]!;
const master = generateMasterKey();
const NOW = Date.UTC(2026, 10, 24, 12);

function record(
	clinic: typeof A,
	round: number,
	code: string,
	label?: { target: Bytes; correction?: Correction }
): { chain: ChainRecord; opened: OpenedRecord } {
	const { header } = issueRecordKey(master, alice.publicKey, clinic.institution.id);
	const resource = recordFromForm('Condition', { patient: 'spp1alice', code }, new Date(NOW + round));
	const content = signRecordContent(
		header,
		{ resource: JSON.stringify(resource), authoredAt: NOW + round, correction: label?.correction },
		clinic.secrets.signingKey
	);
	const common = {
		patient: alice.publicKey,
		institution: clinic.institution.id,
		round,
		fees: { service: 1, transaction: 1 },
		record: {
			chameleon: { h: randomBytes(32), proof: randomBytes(256) },
			pointer: { digest: randomBytes(32), holder: clinic.institution.id }
		}
	};
	const body: RecordBody = label
		? { ...common, kind: 'label', target: label.target }
		: { ...common, kind: 'medical' };
	return { chain: { id: transactionId(body), body, round }, opened: { header, content } };
}

function lookup(items: { chain: ChainRecord; opened: OpenedRecord }[]) {
	const m = new Map(items.map((i) => [bytesToHex(i.chain.id), i.opened]));
	return (id: Bytes) => m.get(bytesToHex(id));
}

describe('patient history', () => {
	it('orders records, keeps the original of a labelled record and shows who, when, why', () => {
		const flu = record(A, 5, 'Influenza');
		const asthma = record(B, 7, 'Asthma');
		const label = record(A, 9, 'Common cold', {
			target: flu.chain.id,
			correction: { target: flu.chain.id, reason: 'PCR sample mix-up' }
		});
		const all = [label, asthma, flu];
		const { entries, orphanLabels } = buildHistory(
			all.map((i) => i.chain),
			lookup(all)
		);
		expect(orphanLabels).toEqual([]);
		expect(entries.map((e) => e.resource?.resourceType === 'Condition' && e.resource.code?.text)).toEqual([
			'Influenza',
			'Asthma'
		]);
		expect(entries[0]!.label).toMatchObject({
			id: label.chain.id,
			institution: A.institution.id,
			round: 9,
			reason: 'PCR sample mix-up',
			corrected: { code: { text: 'Common cold' } }
		});
		expect(entries[0]!.label!.problem).toBeUndefined();
		expect(entries[1]!.label).toBeUndefined();
	});

	it('reports what it cannot show or trust', () => {
		const flu = record(A, 5, 'Influenza');
		const unopened = record(B, 6, 'Fracture');
		const wrongTarget = record(A, 9, 'Cold', {
			target: flu.chain.id,
			correction: { target: unopened.chain.id, reason: 'x' }
		});
		const orphan = record(A, 10, 'Other', {
			target: randomBytes(32),
			correction: { target: randomBytes(32), reason: 'y' }
		});
		const all = [flu, unopened, wrongTarget, orphan];
		const { entries, orphanLabels } = buildHistory(
			all.map((i) => i.chain),
			lookup([flu, wrongTarget, orphan])
		);
		expect(entries[1]!.unavailable).toBe('not fetched from the holding institution yet');
		expect(entries[0]!.label!.problem).toBe(
			'the corrected record names another record than the label transaction'
		);
		expect(orphanLabels.map((l) => l.id)).toEqual([orphan.chain.id]);
		// An opened record that names another holder than the chain's pointer is not shown.
		const swapped = buildHistory([flu.chain], () => ({
			...flu.opened,
			header: { ...flu.opened.header, holder: B.institution.id }
		}));
		expect(swapped.entries[0]!.unavailable).toBe(
			'the opened record is held by another institution than the chain says'
		);
	});
});
