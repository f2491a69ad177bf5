/**
 * Issue 12 acceptance, "an unadmitted institution's transactions and votes are refused": an
 * institution with valid keys of its own (Schnorr, BLS with proof of possession, chameleon) that no
 * registry fact admitted takes part anyway. Its consensus votes, its signature inside a pin
 * certificate or a registry approval, its keyblocks, the registers and records naming it are each
 * refused with their code; once the group admits it, the same keyblock rule lets it mine.
 */
import { describe, expect, it } from 'vitest';
import { blsAggregateSignatures, blsSign } from '../core/consensus/bls.ts';
import { ConsensusMachine } from '../core/consensus/machine.ts';
import { encodeMessage, statementOf, type SignedMessage } from '../core/consensus/messages.ts';
import { MemoryVotingStateStore } from '../core/consensus/voting-state.ts';
import { assembleCertificate, statementBytes, verifyCertificate } from '../core/certificate.ts';
import { sha256 } from '../core/hash.ts';
import { signApproval, verifyApproval } from '../core/registry-approval.ts';
import { registryFactHash, signApplication } from '../core/registry-facts.ts';
import {
	clinics,
	medicalTx,
	outsider,
	patientKeys,
	registerTx,
	testGenesis
} from '../../../tests/fixtures/chain.ts';
import type { DevInstitution } from '../../../tests/fixtures/genesis-dev.ts';
import { codeOf, codeOfAsync as refusal } from '../../../tests/fixtures/records.ts';
import {
	approvedAdmission,
	approvingLedger,
	groupOf,
	mineWith,
	UNAPPROVED
} from '../../../tests/fixtures/registry.ts';

const genesis = testGenesis();
const NOW = Date.UTC(2030, 0, 1);
const [aster, birch, cedar] = clinics as [DevInstitution, DevInstitution, DevInstitution];
const group = groupOf();
const indexOf = (c: DevInstitution) => group.indexOf(c.institution.id);

describe('an institution outside the registry', () => {
	it('has its consensus votes refused: consensus-not-member', async () => {
		const member = new ConsensusMachine({
			kind: 'keyblock',
			signer: { id: aster.institution.id, sign: (m) => blsSign(aster.secrets.blsKey, m) },
			store: new MemoryVotingStateStore(),
			application: { propose: async () => sha256(Uint8Array.of(1)), validate: async () => true }
		});
		await member.start(1, group);
		const prevote = (from: DevInstitution): Uint8Array => {
			const unsigned = {
				type: 'prevote',
				kind: 'keyblock',
				height: 1,
				round: 0,
				value: sha256(Uint8Array.of(2)),
				sender: from.institution.id,
				signature: new Uint8Array(96)
			} as const satisfies SignedMessage;
			const statement = statementBytes(group, statementOf(unsigned));
			return encodeMessage({ ...unsigned, signature: blsSign(from.secrets.blsKey, statement) });
		};
		// Well signed with its own BLS key, but it is no member of the group the registry makes.
		expect(await refusal(member.receive(prevote(outsider)))).toBe('consensus-not-member');
		// The same vote from a member is taken: the refusal is about admission, not the message.
		expect(await refusal(member.receive(prevote(birch)))).toBe('no error');
	});

	it('cannot sign into a pin certificate or a registry approval: certificate-signature', () => {
		const decision = { kind: 'keyblock', height: 1, round: 0, value: sha256(Uint8Array.of(3)) } as const;
		const statement = statementBytes(group, { ...decision, step: 'precommit' });
		const precommits = new Map([aster, birch].map((c) => [indexOf(c), blsSign(c.secrets.blsKey, statement)]));
		// Its precommit takes the place of Cedar's: the bitmap names a member, the signature is not theirs.
		precommits.set(indexOf(cedar), blsSign(outsider.secrets.blsKey, statement));
		const pin = assembleCertificate(group, decision, precommits);
		expect(codeOf(() => verifyCertificate(pin, group, decision))).toBe('certificate-signature');

		// It approves its own application in Cedar's place: the approval is no quorum of the group.
		const ledger = approvingLedger(genesis);
		const application = signApplication(
			ledger.genesisHash,
			outsider.institution,
			outsider.secrets.signingKey
		);
		const hash = registryFactHash({ type: 'admit', application, approval: UNAPPROVED });
		const approval = {
			epoch: 0,
			signers: Uint8Array.of((1 << indexOf(aster)) | (1 << indexOf(birch)) | (1 << indexOf(cedar))),
			signature: blsAggregateSignatures([
				signApproval(group, hash, aster.secrets.blsKey),
				signApproval(group, hash, birch.secrets.blsKey),
				signApproval(group, hash, outsider.secrets.blsKey)
			])
		};
		expect(codeOf(() => verifyApproval(approval, group, hash))).toBe('certificate-signature');
		expect(() =>
			ledger.checkNextKeyblock(
				mineWith(ledger, aster.secrets.signingKey, [{ type: 'admit', application, approval }]),
				NOW
			)
		).toThrow(expect.objectContaining({ code: 'certificate-signature' }));
	});

	it('has its keyblocks, registers and records refused until the group admits it', () => {
		const ledger = approvingLedger(genesis);
		const patient = patientKeys('unadmitted');
		expect(() => ledger.checkNextKeyblock(mineWith(ledger, outsider.secrets.signingKey), NOW)).toThrow(
			expect.objectContaining({ code: 'keyblock-miner' })
		);
		expect(() =>
			ledger.checkNextKeyblock(
				mineWith(ledger, aster.secrets.signingKey, [], [registerTx(genesis, patient, outsider, 1)]),
				NOW
			)
		).toThrow(expect.objectContaining({ code: 'tx-institution' }));
		ledger.appendKeyblock(
			mineWith(ledger, aster.secrets.signingKey, [], [registerTx(genesis, patient, aster, 1)]),
			NOW
		);
		expect(codeOf(() => ledger.checkRecordTransaction(medicalTx(genesis, patient, outsider, 1)))).toBe(
			'unknown-institution'
		);

		// Admitted by keyblock 2, it mines keyblock 3 with the same keys.
		ledger.appendKeyblock(
			mineWith(ledger, birch.secrets.signingKey, [approvedAdmission(ledger, outsider)]),
			NOW
		);
		ledger.appendKeyblock(mineWith(ledger, outsider.secrets.signingKey), NOW);
		expect(ledger.minerOf(ledger.keyblock(3)!.block.header)).toEqual(outsider.institution.id);
	});
});
