import { describe, expect, it } from 'vitest';
import { bytesToHex, randomBytes } from '@noble/hashes/utils.js';
import { createConsent } from '../core/consent.ts';
import { clinics, patientKeys, testGenesis } from '../../../tests/fixtures/chain.ts';
import { signerOf } from '../../../tests/fixtures/records.ts';
import { generateMasterKey, issueRecordKey, signRecordContent } from '../records/envelope.ts';
import { decodeShareBundle, encodeShareBundle, openShare, sealShare } from '../records/share.ts';
import { sharedRecordViews } from './views.ts';

const alice = patientKeys('alice');
const [A, , , D] = [clinics[0]!, clinics[1]!, clinics[2]!, clinics[3]!];
const NOW = Date.UTC(2026, 11, 6, 21);
const genesis = testGenesis();

function bloodPressure(systolic: number, diastolic: number) {
	return JSON.stringify({
		resourceType: 'Observation',
		status: 'final',
		code: { coding: [{ system: 'http://loinc.org', code: '85354-9' }], text: 'Blood pressure' },
		subject: { reference: 'Patient/a' },
		effectiveDateTime: new Date(NOW).toISOString(),
		valueString: `${systolic}/${diastolic} mmHg`
	});
}

/** A record as the patient device holds it after opening it: header and signed content. */
function written(resource: string, authoredAt: number, correction?: { target: Uint8Array; reason: string }) {
	const { header } = issueRecordKey(master, alice.publicKey, A.institution.id);
	const content = signRecordContent(
		header,
		{ resource, authoredAt, ...(correction ? { correction } : {}) },
		A.secrets.signingKey
	);
	return { transactionId: randomBytes(32), header, content };
}
const master = generateMasterKey();

describe('a corrected record shared with another clinic', () => {
	it("the receiving clinic's view shows one record: the correction current, the replaced version marked", async () => {
		const original = written(bloodPressure(148, 95), NOW);
		const reason = 'cuff too small; re-measured';
		const corrected = written(bloodPressure(138, 88), NOW + 3_600_000, {
			target: original.transactionId,
			reason
		});
		const consent = createConsent(
			{
				patient: alice.publicKey,
				grantee: D.institution.id,
				scope: [original.transactionId, corrected.transactionId],
				purpose: 'second opinion',
				issuedAt: NOW,
				expiresAt: NOW + 86_400_000
			},
			alice.secretKey
		);
		const bundle = await sealShare({ consent, revocations: [], now: NOW, records: [original, corrected] });
		const atD = await openShare(decodeShareBundle(encodeShareBundle(bundle)), {
			grantee: signerOf(D),
			revocations: [],
			now: NOW
		});
		const status = { pinned: true, proofVerified: true, attached: true };
		const views = sharedRecordViews(genesis, atD, () => status);
		expect(views).toHaveLength(1);
		const { record } = views[0]!;
		expect(record.id).toBe(bytesToHex(original.transactionId));
		expect(record.label).toMatchObject({
			id: bytesToHex(corrected.transactionId),
			institution: { name: A.institution.name },
			at: NOW + 3_600_000,
			reason
		});
		expect(JSON.stringify(record.label!.corrected)).toContain('138/88');
		expect(JSON.stringify(record.resource)).toContain('148/95');
	});
});
