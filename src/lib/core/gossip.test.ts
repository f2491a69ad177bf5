import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeCanonical } from './encoding.ts';
import {
	decodeAttachment,
	decodeBatchMessage,
	decodeBatchProposal,
	decodeConsensusEnvelope,
	encodeAttachment,
	encodeBatchMessage,
	encodeBatchProposal,
	encodeConsensusEnvelope,
	proposalHash,
	type BatchProposal
} from './gossip.ts';
import { signTransaction, type MedicalBody, type Transaction } from './transaction.ts';
import { clinics, patientKeys, testGenesis } from '../../../tests/fixtures/chain.ts';

const genesis = testGenesis();
const alice = patientKeys('alice');
const aster = clinics[0]!;

function medical(n: number): Transaction<MedicalBody> {
	const digest = sha256(new Uint8Array([n]));
	return signTransaction<MedicalBody>(
		{
			kind: 'medical',
			patient: alice.publicKey,
			institution: aster.institution.id,
			round: 3,
			fees: genesis.fees.medical,
			record: {
				chameleon: { h: sha256(new Uint8Array([n, 1])), proof: new Uint8Array(256).fill(n) },
				pointer: { digest, holder: aster.institution.id }
			}
		},
		alice.secretKey
	);
}

const proposal: BatchProposal = {
	sequence: 7,
	round: 3,
	institution: aster.institution.id,
	transactions: [medical(1), medical(2)]
};

describe('gossip payloads', () => {
	it('round-trips a batch proposal and keeps its hash', () => {
		const decoded = decodeBatchProposal(encodeBatchProposal(proposal));
		expect(proposalHash(decoded)).toEqual(proposalHash(proposal));
		const message = decodeBatchMessage(encodeBatchMessage({ type: 'proposal', proposal }));
		expect(message.type).toBe('proposal');
	});

	it('refuses a proposal with a duplicate transaction or a register transaction', () => {
		const twice = { ...proposal, transactions: [medical(1), medical(1)] };
		expect(() => decodeBatchProposal(encodeBatchProposal(twice))).toThrow(
			expect.objectContaining({ code: 'batch-duplicate' })
		);
		const bytes = encodeCanonical({
			sequence: 1,
			round: 1,
			institution: aster.institution.id,
			transactions: [{ body: { kind: 'register' }, signature: new Uint8Array(64) }]
		});
		expect(() => decodeBatchProposal(bytes)).toThrow(expect.objectContaining({ name: 'ValidationError' }));
	});

	it('round-trips an attachment and refuses an empty one', () => {
		const attachment = {
			patient: alice.publicKey,
			institution: aster.institution.id,
			entries: [{ tx: medical(3), pin: new Uint8Array(32).fill(9) }],
			leafProof: new Uint8Array(256).fill(4)
		};
		expect(decodeAttachment(encodeAttachment(attachment))).toEqual(attachment);
		expect(() => decodeAttachment(encodeAttachment({ ...attachment, entries: [] }))).toThrow(
			expect.objectContaining({ code: 'attachment-empty' })
		);
	});

	it('round-trips a consensus envelope and refuses an unknown kind or a huge message', () => {
		const envelope = { kind: 'keyblock' as const, message: new Uint8Array([1, 2, 3]) };
		expect(decodeConsensusEnvelope(encodeConsensusEnvelope(envelope))).toEqual(envelope);
		expect(() =>
			decodeConsensusEnvelope(encodeCanonical({ kind: 'money', message: new Uint8Array(1) }))
		).toThrow(expect.objectContaining({ name: 'ValidationError' }));
		expect(() =>
			decodeConsensusEnvelope(encodeCanonical({ kind: 'keyblock', message: new Uint8Array(5000) }))
		).toThrow(expect.objectContaining({ name: 'ValidationError' }));
	});

	it('never throws anything but a ValidationError on random bytes', () => {
		for (let i = 0; i < 200; i++) {
			const bytes = sha256(new Uint8Array([i])).slice(0, (i % 32) + 1);
			for (const decode of [
				decodeBatchProposal,
				decodeAttachment,
				decodeConsensusEnvelope,
				decodeBatchMessage
			])
				try {
					decode(bytes);
				} catch (error) {
					expect(error).toMatchObject({ name: 'ValidationError' });
				}
		}
	});
});
