import { describe, expect, it } from 'vitest';
import { Ledger } from './chain.ts';
import { ConsensusGroup } from './consensus/group.ts';
import { blsProvePossession } from './consensus/bls.ts';
import { checkKeyblock } from './keyblock.ts';
import { generateSigningKey, publicKeyOf as publicOf, type Institution } from './identity.ts';
import { registryFactHash, signApplication, type RegistryFact } from './registry-facts.ts';
import {
	clinics,
	medicalTx,
	outsider,
	patientKeys,
	registerTx,
	testGenesis
} from '../../../tests/fixtures/chain.ts';
import { devInstitution, type DevInstitution } from '../../../tests/fixtures/genesis-dev.ts';
import {
	approvedAdmission,
	approvedRotation,
	approvingLedger,
	groupApproval,
	groupOf,
	mineWith as mine
} from '../../../tests/fixtures/registry.ts';

const genesis = testGenesis();
const NOW = Date.UTC(2030, 0, 1);
const code = (code: string) => expect.objectContaining({ code });
const [aster, birch, cedar, dogwood] = clinics as [
	DevInstitution,
	DevInstitution,
	DevInstitution,
	DevInstitution
];
const group = groupOf([1, 1, 1, 1]);
const ledgerWith = (approving = group) => approvingLedger(genesis, approving);
const approval = (factHash: Uint8Array, signers: readonly DevInstitution[], by = group) =>
	groupApproval(factHash, signers, by);
const admission = (applicant: DevInstitution, signers = [aster, birch, cedar], by = group): RegistryFact =>
	approvedAdmission(ledgerWith(), applicant, signers, by);

describe('institution registry: admission', () => {
	it('admits an applicant from the keyblock after the one that carries its approved application', () => {
		const ledger = ledgerWith();
		expect(() => ledger.checkNextKeyblock(mine(ledger, outsider.secrets.signingKey), NOW)).toThrow(
			code('keyblock-miner')
		);
		ledger.appendKeyblock(mine(ledger, aster.secrets.signingKey, [admission(outsider)]), NOW);
		const admitted = ledger.registry.byId(outsider.institution.id)!;
		expect(admitted).toMatchObject({ name: 'Outsider Clinic', index: 5, admittedAt: 1 });
		expect(ledger.registry.memberAt(outsider.institution.id, 1)).toBeUndefined();
		expect(
			ledger.registry
				.members(2)
				.map((i) => i.name)
				.at(-1)
		).toBe('Outsider Clinic');

		// It mines keyblock 2, and a patient registered then has a leaf for it (index 5).
		const patient = patientKeys('late');
		const kb2 = mine(ledger, outsider.secrets.signingKey, [], [registerTx(genesis, patient, outsider, 2)]);
		const [block] = ledger.appendKeyblock(kb2, NOW);
		expect(block!.leaves.map((l) => l.institution)).toContainEqual(outsider.institution.id);
		expect(ledger.minerOf(kb2.header)).toEqual(outsider.institution.id);
	});

	it('refuses registers and records of an institution before its admission', () => {
		const ledger = ledgerWith();
		const early = patientKeys('early');
		expect(() =>
			ledger.checkNextKeyblock(
				mine(
					ledger,
					aster.secrets.signingKey,
					[admission(outsider)],
					[registerTx(genesis, early, outsider, 1)]
				),
				NOW
			)
		).toThrow(code('tx-institution'));
		// A record for a patient registered before the admission: the patient block has no leaf for it.
		ledger.appendKeyblock(
			mine(ledger, aster.secrets.signingKey, [admission(outsider)], [registerTx(genesis, early, aster, 1)]),
			NOW
		);
		ledger.appendKeyblock(mine(ledger, birch.secrets.signingKey), NOW);
		expect(() => ledger.checkRecordTransaction(medicalTx(genesis, early, outsider, 2))).toThrow(
			code('leaf-missing')
		);
		// Not admitted at all: an unknown author.
		const stranger = devInstitution('Stranger Clinic');
		expect(() => ledger.checkRecordTransaction(medicalTx(genesis, early, stranger, 2))).toThrow(
			code('unknown-institution')
		);
	});

	it('refuses forged, under-quorum and tampered admissions with their codes', () => {
		const ledger = ledgerWith();
		const expectRefused = (fact: RegistryFact, expected: string, on = ledger) =>
			expect(() => on.checkNextKeyblock(mine(on, aster.secrets.signingKey, [fact]), NOW)).toThrow(
				code(expected)
			);

		expectRefused(admission(outsider, [aster, birch]), 'certificate-signers');
		// Three of four members, but Dogwood holds most of the reputation.
		const skewed = groupOf([1, 1, 1, 10]);
		expectRefused(
			admission(outsider, [aster, birch, cedar], skewed),
			'certificate-reputation',
			ledgerWith(skewed)
		);
		// An approval made by another group (another epoch's members) is not this group's.
		const other = new ConsensusGroup(
			[aster, birch, cedar, dogwood].map((c) => ({
				id: c.institution.id,
				blsPublicKey: c.institution.blsKey,
				reputation: 2
			})),
			0
		);
		expectRefused(admission(outsider, [aster, birch, cedar], other), 'certificate-signature');

		// Tampered: the applicant's name changed after the group approved.
		const good = admission(outsider) as Extract<RegistryFact, { type: 'admit' }>;
		const renamed = { ...good.application.institution, name: 'Renamed Clinic' };
		expectRefused(
			{ ...good, application: { ...good.application, institution: renamed } },
			'application-signature'
		);
		// Re-signed by the applicant but not approved by the group.
		const resigned = signApplication(ledger.genesisHash, renamed, outsider.secrets.signingKey);
		expectRefused({ ...good, application: resigned }, 'certificate-signature');

		// A BLS key with another key's proof of possession.
		const rogue: Institution = {
			...outsider.institution,
			blsPossession: blsProvePossession(aster.secrets.blsKey)
		};
		const application = signApplication(ledger.genesisHash, rogue, outsider.secrets.signingKey);
		const bad = { type: 'admit', application, approval: good.approval } as const;
		expectRefused(
			{ ...bad, approval: approval(registryFactHash(bad), [aster, birch, cedar]) },
			'application-bls'
		);

		// Another network's application.
		const elsewhere = signApplication(new Uint8Array(32), outsider.institution, outsider.secrets.signingKey);
		const foreign = { type: 'admit', application: elsewhere, approval: good.approval } as const;
		expectRefused(
			{ ...foreign, approval: approval(registryFactHash(foreign), [aster, birch, cedar]) },
			'application-network'
		);

		// Twice, or a genesis institution again.
		ledger.appendKeyblock(mine(ledger, aster.secrets.signingKey, [admission(outsider)]), NOW);
		expectRefused(admission(outsider), 'admission-known');
		expectRefused(admission(birch), 'admission-known');
	});

	it('rebuilds the same registry when a restart replays the keyblocks', () => {
		const ledger = ledgerWith();
		ledger.appendKeyblock(mine(ledger, aster.secrets.signingKey, [admission(outsider)]), NOW);
		ledger.appendKeyblock(mine(ledger, outsider.secrets.signingKey), NOW);
		const restarted = new Ledger(genesis);
		for (let h = 1; h <= ledger.height; h++) restarted.restoreKeyblock(ledger.keyblock(h)!.block);
		expect(restarted.registry.all).toEqual(ledger.registry.all);
		expect(restarted.tipHash).toEqual(ledger.tipHash);
	});
});

describe('institution registry: key rotation', () => {
	const rotation = (from: DevInstitution, previous: Uint8Array, next: Uint8Array, sequence = 1) =>
		approvedRotation(ledgerWith(), from, previous, next, sequence);

	it('accepts only the new key from the next keyblock, and keeps what the old key signed verifiable', () => {
		const ledger = ledgerWith();
		const kb1 = mine(ledger, aster.secrets.signingKey);
		ledger.appendKeyblock(kb1, NOW);
		const fresh = generateSigningKey().secretKey;
		ledger.appendKeyblock(
			mine(ledger, birch.secrets.signingKey, [rotation(aster, aster.secrets.signingKey, fresh)]),
			NOW
		);

		expect(() => ledger.checkNextKeyblock(mine(ledger, aster.secrets.signingKey), NOW)).toThrow(
			code('keyblock-miner')
		);
		const kb3 = mine(ledger, fresh);
		ledger.appendKeyblock(kb3, NOW);
		expect(ledger.minerOf(kb3.header)).toEqual(aster.institution.id);
		// Keyblock 1 still verifies under the key of its height.
		expect(() =>
			checkKeyblock(ledger.keyblock(1)!.block, genesis.fees, genesis.maxRegistersPerKeyblock)
		).not.toThrow();
		expect(ledger.registry.signingKeyAt(aster.institution.id, 1)).toEqual(aster.institution.id);
		expect(ledger.registry.signingKeyAt(aster.institution.id, 3)).toEqual(publicOf(fresh));
		// The id never changes: leaves and records keep naming the first key.
		expect(ledger.registry.members(4)[0]!.id).toEqual(aster.institution.id);
	});

	it('refuses a replayed, unsigned or foreign rotation', () => {
		const ledger = ledgerWith();
		const fresh = generateSigningKey().secretKey;
		const forged = rotation(aster, aster.secrets.signingKey, fresh);
		// Signed by someone who does not hold the key in force.
		const thief = rotation(aster, cedar.secrets.signingKey, fresh);
		expect(() => ledger.checkNextKeyblock(mine(ledger, birch.secrets.signingKey, [thief]), NOW)).toThrow(
			code('rotation-key')
		);
		const wrongSequence = rotation(aster, aster.secrets.signingKey, fresh, 2);
		expect(() =>
			ledger.checkNextKeyblock(mine(ledger, birch.secrets.signingKey, [wrongSequence]), NOW)
		).toThrow(code('rotation-sequence'));
		const unsigned = {
			...forged,
			rotation: { ...forged.rotation, nextSignature: forged.rotation.previousSignature }
		};
		expect(() => ledger.checkNextKeyblock(mine(ledger, birch.secrets.signingKey, [unsigned]), NOW)).toThrow(
			code('rotation-signature')
		);
		ledger.appendKeyblock(mine(ledger, birch.secrets.signingKey, [forged]), NOW);
		// The same rotation again: its sequence is spent.
		expect(() => ledger.checkNextKeyblock(mine(ledger, birch.secrets.signingKey, [forged]), NOW)).toThrow(
			code('rotation-sequence')
		);
	});
});
