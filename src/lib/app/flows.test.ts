/**
 * The five flows of the paper (Setup, Register, Upload cases 1-3, Label, Share) end to end, every part
 * real: full nodes on libp2p over loopback with a relay, a consensus group of three of the four genesis
 * members pinning with BLS certificates, a WASM miner, Groth16 chameleon proofs, double AES-GCM
 * encryption, patient-signed transactions and consents. The patient's device and the clinics are the
 * same session objects the pages use, wired to Node adapters.
 */
import '../node/polyfills.ts';
import { describe, expect, it } from 'vitest';
import { bytesToHex, fromHex } from '../core/bytes.ts';
import { checkAccessRequest, createAccessRequest, encodeAccessRequest } from '../core/access-request.ts';
import { devGenesis, devInstitution } from '../../../tests/fixtures/genesis-dev.ts';
import { targetForExpectedHashes } from '../../../tests/fixtures/genesis-dev.ts';
import { containsBytes } from '../records/envelope.ts';
import { recordFromForm } from '../records/fhir.ts';
import { TABLES } from '../store/store.ts';
import { autoApprove, openPatientDevice } from '../../../tests/fixtures/patient-device.ts';
import type { PatientSession } from './types.ts';
import { useTestNetwork, type ClinicParty, type Party } from '../../../tests/fixtures/test-network.ts';
import { PROTOCOLS } from './wire.ts';

// A wide round window: at this test difficulty keyblocks come every second or so (a group of one
// institution pins alone once only Aster has mined), far faster than the demo's.
const genesis = devGenesis({
	initialTarget: targetForExpectedHashes(16n),
	timestamp: Date.now() - 60_000,
	roundWindow: 400
});
const network = useTestNetwork(genesis);

describe('Setup, Register, Upload, Label and Share', () => {
	let patient: PatientSession;
	let patientParty: Party;
	let aster: ClinicParty;
	let birch: ClinicParty;
	let elm: ClinicParty;
	let stopApproving: () => void;

	it('sets up a patient and registers once at one clinic', async () => {
		aster = await network.clinic(devInstitution('Aster Clinic'), { mine: true });
		birch = await network.clinic(devInstitution('Birch Hospital'));
		// A member without a session, answering who it is like every node with a directory.
		const cedar = await network.party({ clinic: devInstitution('Cedar Health') });
		elm = await network.clinic(devInstitution('Elm Family Practice'));
		patientParty = await network.party();
		// Setup: keys made on the device, kept in a vault.
		patient = await openPatientDevice(patientParty);
		stopApproving = autoApprove(patient);
		await expect.poll(() => aster.party.net.peers().length, { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
		aster.party.node.startMining();
		await expect.poll(() => cedar.node.chain.height, { timeout: 60_000 }).toBeGreaterThanOrEqual(1);

		await patient.register({ name: 'Alice Example', birthDate: '1980-04-02', institution: 'Aster Clinic' });
		expect(patient.registered()).toBe(true);
		const registration = patient.registration()!;
		expect(registration.institution?.name).toBe('Aster Clinic');
		expect(registration.height).toBeGreaterThanOrEqual(1);
		// The patient's node may apply the keyblock before Aster's does; Aster's chain gets there too.
		await expect
			.poll(() => aster.party.node.chain.height, { timeout: 60_000 })
			.toBeGreaterThanOrEqual(registration.height);
		await expect(
			patient.register({ name: 'Alice Example', birthDate: '1980-04-02', institution: 'Birch Hospital' })
		).rejects.toMatchObject({ code: 'registered' });
	}, 200_000);

	let first: string;

	it('uploads at A (cases 1 and 2) and at B (case 3): pinned, attached, readable by the patient only', async () => {
		const visit = recordFromForm('Encounter', {
			patient: patient.address,
			status: 'finished',
			class: 'AMB',
			reason: 'Fever and cough',
			date: '2026-11-20'
		});
		const v1 = await aster.session.writeRecord(patient.address, visit);
		first = v1.id;
		const v2 = await aster.session.writeRecord(
			patient.address,
			recordFromForm('Condition', {
				patient: patient.address,
				code: 'Influenza',
				clinicalStatus: 'active',
				verificationStatus: 'confirmed'
			})
		);
		const v3 = await birch.session.writeRecord(
			patient.address,
			recordFromForm('Observation', {
				patient: patient.address,
				code: 'Body temperature',
				status: 'final',
				value: 38.5,
				unit: 'Cel'
			})
		);
		for (const id of [v1.id, v2.id, v3.id])
			await expect
				.poll(() => patientParty.node.chain.ledger.recordLocation(fromHex(id, 32)) !== undefined, {
					timeout: 90_000
				})
				.toBe(true);
		const history = await patient.history();
		expect(history).toHaveLength(3);
		expect(history.every((r) => r.resource && r.status.pinned && r.status.attached)).toBe(true);
		expect(new Set(history.map((r) => r.institution.name))).toEqual(
			new Set(['Aster Clinic', 'Birch Hospital'])
		);
		// Ciphertext at rest never contains the plaintext.
		for (const row of await aster.holder.all())
			expect(containsBytes(row.sealed, new TextEncoder().encode('Fever and cough'))).toBe(false);
	}, 300_000);

	it('refuses the ciphertext to anyone without the patient or a consent', async () => {
		const row = (await aster.holder.all())[0]!;
		const intruder = devInstitution('Elm Family Practice');
		const request = createAccessRequest(
			{ holder: aster.holder.keys.id, digest: row.digest, authority: { kind: 'patient' }, time: Date.now() },
			intruder.secrets.signingKey,
			intruder.institution.id
		);
		const attempt = async () => {
			for await (const frame of elm.party.net.request(
				aster.party.net.peerId,
				PROTOCOLS.ciphertext,
				encodeAccessRequest(request)
			))
				return frame;
		};
		// The holder's rule that refuses it: 'access-requester' (neither the patient nor a consent grantee).
		let refusal: unknown;
		try {
			checkAccessRequest(request, {
				holder: aster.holder.keys.id,
				record: { digest: row.digest, patient: row.patient, transactionId: row.transactionId! },
				revocations: [],
				now: Date.now()
			});
		} catch (error) {
			refusal = error;
		}
		expect(refusal).toMatchObject({ name: 'ValidationError', code: 'access-requester' });
		// Over the network the refusal arrives as an error frame carrying that rule's message.
		await expect(attempt()).rejects.toMatchObject({
			name: 'RequestError',
			protocol: PROTOCOLS.ciphertext,
			message: (refusal as Error).message
		});
		// And B cannot read A's record before a share: nothing shared with it yet.
		expect(await elm.session.shared()).toHaveLength(0);
	}, 60_000);

	it('labels a record at A with the patient consent; the block hash is unchanged; B cannot label it', async () => {
		const patientKey = fromHex(patient.publicKey, 32);
		const blockHash = patientParty.node.chain.ledger.patientBlockHash(patientKey);
		await expect(
			birch.session.label(
				first,
				recordFromForm('Encounter', {
					patient: patient.address,
					status: 'finished',
					class: 'AMB',
					reason: 'x'
				}),
				'wrong'
			)
		).rejects.toMatchObject({ code: 'label-author' });
		const corrected = recordFromForm('Encounter', {
			patient: patient.address,
			status: 'finished',
			class: 'AMB',
			reason: 'COVID-19, not influenza',
			date: '2026-11-20'
		});
		const label = await aster.session.label(first, corrected, 'PCR test came back positive for SARS-CoV-2');
		await expect
			.poll(() => patientParty.node.chain.ledger.recordLocation(fromHex(label.id, 32)) !== undefined, {
				timeout: 90_000
			})
			.toBe(true);
		expect(bytesToHex(patientParty.node.chain.ledger.patientBlockHash(patientKey)!)).toBe(
			bytesToHex(blockHash!)
		);
		const record = (await patient.history()).find((r) => r.id === first)!;
		expect(record.label?.reason).toContain('SARS-CoV-2');
		expect(JSON.stringify(record.label?.corrected)).toContain('COVID-19');
		expect(JSON.stringify(record.resource)).toContain('Fever and cough');
		// The phone keeps the reason it approved sealed, like the records it cached.
		const needle = new TextEncoder().encode('SARS-CoV-2');
		const holds = (bytes: Uint8Array) => bytes.some((_, i) => needle.every((b, j) => bytes[i + j] === b));
		for (const table of TABLES)
			for (const [key, value] of await patientParty.store.list(table))
				expect(holds(value), `${table} ${key}`).toBe(false);
	}, 200_000);

	it('shares the history with D under a consent, logs the access, and a revocation stops further shares', async () => {
		const consent = await patient.share({
			institution: 'Elm Family Practice',
			scope: 'all',
			purpose: 'second opinion',
			days: 30
		});
		const shared = await elm.session.shared();
		expect(shared.length).toBeGreaterThanOrEqual(3);
		expect(JSON.stringify(shared.map((s) => s.record.resource))).toContain('Body temperature');
		// The corrected record arrives as one record: the correction current, the replaced version marked.
		const labelled = shared.filter((s) => s.record.id === first);
		expect(labelled).toHaveLength(1);
		expect(JSON.stringify(labelled[0]!.record.label?.corrected)).toContain('COVID-19');
		expect(labelled[0]!.record.label?.reason).toContain('SARS-CoV-2');
		expect(shared.some((s) => s.record.id === labelled[0]!.record.label!.id)).toBe(false);
		const log = await patient.accessLog();
		expect(log.some((entry) => entry.authority === consent.id)).toBe(true);
		await patient.revoke(consent.id);
		const revoked = (await patient.consents()).find((c) => c.id === consent.id)!;
		expect(revoked.revoked).toBe(true);
		expect(revoked.revocationNotDelivered).toEqual([]);

		// A grantee that is offline when the patient revokes: the revocation stays due, and the phone says so.
		const second = await patient.share({
			institution: 'Birch Hospital',
			scope: 'all',
			purpose: 'referral',
			days: 7
		});
		await birch.party.node.stop();
		await birch.party.net.stop();
		await patient.revoke(second.id);
		const due = (await patient.consents()).find((c) => c.id === second.id)!;
		expect(due.revoked).toBe(true);
		expect(due.revocationNotDelivered.map((i) => i.name)).toEqual(['Birch Hospital']);
		expect(revoked.pending).toBe(false);

		// Birch (a holder too) is offline: its part of the access log is the copy this device kept, marked so.
		const kept = await patient.accessLog();
		const atBirch = kept.filter((e) => e.holder.name === 'Birch Hospital');
		expect(atBirch.length).toBeGreaterThan(0);
		expect(atBirch.every((e) => e.fromCopy)).toBe(true);
		expect(kept.some((e) => e.requester === 'Elm Family Practice' && !e.fromCopy)).toBe(true);

		// A share Birch cannot receive is not listed as given: it shows as pending.
		await expect(
			patient.share({ institution: 'Birch Hospital', scope: [first], purpose: 'follow-up', days: 7 })
		).rejects.toMatchObject({ code: 'institution-offline' });
		const unconfirmed = (await patient.consents()).find((c) => c.purpose === 'follow-up')!;
		expect(unconfirmed.pending).toBe(true);

		// Birch comes back on a new node whose chain syncs from the start: the phone, unasked, sends the
		// share again (refused while Birch's chain lacks the record) until Birch takes it.
		const back = await network.clinic(devInstitution('Birch Hospital'));
		await expect
			.poll(async () => (await patient.consents()).find((c) => c.id === unconfirmed.id)!.pending, {
				timeout: 120_000
			})
			.toBe(false);
		expect((await back.session.shared()).map((s) => s.record.id)).toEqual([first]);
		stopApproving();
	}, 300_000);
});
