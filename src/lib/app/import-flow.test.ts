/**
 * A clinic imports a real visit for a patient, end to end with every part real (libp2p on loopback, a
 * consensus group pinning, Groth16 proofs, the patient's session): a 500-observation visit costs the
 * patient ONE review and signature and the clinic ONE proof and transaction; a 12 MB attachment is
 * refused before the patient is asked; the phone renders the visit's parts, and its export validates in
 * the R4 validator and is accepted by another clinic's import. (A 5 MB PDF kept beside its record and
 * streamed to the phone: attachment-transfer.test.ts.)
 */
import '../node/polyfills.ts';
import { describe, expect, it } from 'vitest';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import { bytesToHex, fromHex } from '../core/bytes.ts';
import { devGenesis, devInstitution } from '../../../tests/fixtures/genesis-dev.ts';
import { targetForExpectedHashes } from '../../../tests/fixtures/genesis-dev.ts';
import type { ChameleonProver } from '../crypto/chameleon-prover.ts';
import { FhirError, parseRecord, renderRecord, validateResource } from '../records/fhir.ts';
import { visitBundle } from '../../../tests/fixtures/fhir/visit.ts';
import { autoApprove, openPatientDevice } from '../../../tests/fixtures/patient-device.ts';
import type { PatientSession, RecordView, SigningRequestView } from './types.ts';
import { useTestNetwork, type ClinicParty, type Party } from '../../../tests/fixtures/test-network.ts';

// A wide round window: at this test difficulty keyblocks come every second or so (a group of one
// institution pins alone once only Aster has mined), far faster than the demo's.
const genesis = devGenesis({
	initialTarget: targetForExpectedHashes(16n),
	timestamp: Date.now() - 60_000,
	roundWindow: 400
});
const network = useTestNetwork(genesis);
/** Every Groth16 proof any clinic asks for, counted. */
let proofs = 0;
const countingProver: ChameleonProver = {
	prove: (request, onProgress) => (proofs++, network.prover.prove(request, onProgress)),
	close: async () => {}
};

/** A clinic from the composition root whose proofs are counted. */
const clinic = (name: string, mine = false) =>
	network.clinic(devInstitution(name), { mine, prover: countingProver });

/** Requests the patient's phone showed (each one a review and a signature). */
const reviewed: SigningRequestView[] = [];

describe('a clinic imports a visit as one record', () => {
	let patient: PatientSession;
	let patientParty: Party;
	let aster: ClinicParty;
	let elm: ClinicParty;
	let stopApproving: () => void;

	it('sets up the consortium and a registered patient', async () => {
		aster = await clinic('Aster Clinic', true);
		await clinic('Birch Hospital');
		// A member without a session, answering who it is like every node with a directory.
		const { node: cedar } = await network.party({ clinic: devInstitution('Cedar Health') });
		elm = await clinic('Elm Family Practice');
		patientParty = await network.party();
		patient = await openPatientDevice(patientParty);
		stopApproving = autoApprove(patient, (request) => reviewed.push(request));
		// Generous waits: on a loaded machine the mesh and the first keyblock take a while.
		await expect.poll(() => aster.party.net.peers().length, { timeout: 150_000 }).toBeGreaterThanOrEqual(4);
		aster.party.node.startMining();
		await expect.poll(() => cedar.chain.height, { timeout: 150_000 }).toBeGreaterThanOrEqual(1);
		await patient.register({ name: 'Jane Doe', birthDate: '1980-04-12', institution: 'Aster Clinic' });
		expect(patient.registered()).toBe(true);
	}, 400_000);

	it('a 12 MB attachment is refused with its reason, before the patient is asked', async () => {
		const before = { reviewed: reviewed.length, proofs };
		const json = JSON.stringify(visitBundle({ pdfBytes: 12_000_000 }));
		await expect(aster.session.previewImport(patient.address, json)).rejects.toThrow(
			/its attachment "discharge-letter\.pdf" is 12\.0 MB, more than the 10\.0 MB an attachment may be/
		);
		await expect(aster.session.importBundle(patient.address, json)).rejects.toBeInstanceOf(FhirError);
		expect({ reviewed: reviewed.length, proofs }).toEqual(before);
	});

	it('500 observations: one review, one signature, one proof, one pinned transaction', async () => {
		const json = JSON.stringify(visitBundle({ observations: 500, pdfBytes: 50_000 }));
		const preview = await aster.session.previewImport(patient.address, json);
		expect(preview.stored).toHaveLength(516);
		expect(preview.notStored.map((n) => n.resourceType)).toEqual(['Patient']);
		const before = { reviewed: reviewed.length, proofs };
		const { pending } = await aster.session.importBundle(patient.address, json);
		await expect
			.poll(() => patientParty.node.chain.ledger.recordLocation(fromHex(pending.id, 32)) !== undefined, {
				timeout: 120_000
			})
			.toBe(true);
		expect(reviewed.length - before.reviewed).toBe(1);
		expect(reviewed.at(-1)!.summary).toBe(preview.summary);
		expect(proofs - before.proofs).toBe(1);
		const block = patientParty.node.chain.ledger.patientBlock(fromHex(patient.publicKey, 32))!;
		const asterId = bytesToHex(devInstitution('Aster Clinic').institution.id);
		const mine = block.leaves.find((l) => bytesToHex(l.institution) === asterId);
		expect(mine?.entries.filter((e) => e.tx.body.kind === 'medical')).toHaveLength(1);
	}, 300_000);

	it("the phone shows the visit's parts; its export validates and another clinic can import it", async () => {
		// The phone fetches the record from Aster when it reads its history (retried while Aster is busy).
		let record: RecordView | undefined;
		await expect
			.poll(
				async () => {
					[record] = await patient.history();
					return record?.resource?.resourceType ?? record?.unavailable;
				},
				{ timeout: 60_000, interval: 2000 }
			)
			.toBe('Bundle');
		const items = renderRecord(parseRecord(record!.resource));
		expect(items).toHaveLength(516);
		expect(items.find((i) => i.title === 'Blood pressure')?.value).toBe('142/91 mmHg');
		expect(items.find((i) => i.kind === 'Document')?.attachments[0]?.contentType).toBe('application/pdf');
		const exported = await patient.exportBundle();
		const bundle = JSON.parse(exported) as Bundle;
		expect(await validateResource(bundle)).toEqual([]);
		expect(bundle.entry![0]!.resource!.resourceType).toBe('Patient');
		const atElm = await elm.session.previewImport(patient.address, exported);
		expect(atElm.stored).toHaveLength(516);
	}, 120_000);

	it('a visit is corrected with a corrected file: one review, one proof, one label', async () => {
		const [visit] = await aster.session.records(patient.address);
		const corrected = visitBundle({ observations: 500, pdfBytes: 50_000 });
		const bp = corrected.entry![3]!.resource as Observation;
		bp.component![0]!.valueQuantity!.value = 124;
		const before = { reviewed: reviewed.length, proofs };
		const label = await aster.session.correctFromFile(
			visit!.id,
			JSON.stringify(corrected),
			'Systolic pressure mistyped'
		);
		await expect
			.poll(() => patientParty.node.chain.ledger.recordLocation(fromHex(label.id, 32)) !== undefined, {
				timeout: 120_000
			})
			.toBe(true);
		expect({ reviewed: reviewed.length - before.reviewed, proofs: proofs - before.proofs }).toEqual({
			reviewed: 1,
			proofs: 1
		});
		expect(reviewed.at(-1)).toMatchObject({ kind: 'label', reason: 'Systolic pressure mistyped' });
		// The phone shows the corrected visit beside the original, and the export carries both with a Provenance.
		await expect
			.poll(async () => (await patient.history())[0]?.label?.corrected?.resourceType, { timeout: 60_000 })
			.toBe('Bundle');
		const shown = renderRecord(parseRecord((await patient.history())[0]!.label!.corrected!));
		expect(shown.find((i) => i.title === 'Blood pressure')?.value).toBe('124/91 mmHg');
		const bundle = JSON.parse(await patient.exportBundle()) as Bundle;
		expect(await validateResource(bundle)).toEqual([]);
		expect(bundle.entry!.find((e) => e.resource!.resourceType === 'Provenance')?.resource).toMatchObject({
			reason: [{ text: 'Systolic pressure mistyped' }]
		});
		stopApproving();
	}, 300_000);
});
