/**
 * Batch proposals from a hostile network: a proposal carries no signature of its own, so anyone may
 * publish one under a member's name. It is checked before it is kept or forwarded, kept per (batch,
 * proposer) within a bound, and a flood of well-formed proposals cannot push out the one this member
 * found valid (and so may vote or have voted on).
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../core/bytes.ts';
import { keyblockHash, type Keyblock } from '../core/keyblock.ts';
import { encodePin } from '../core/pinning.ts';
import { proposalHash, type BatchProposal } from '../core/gossip.ts';
import { signTransaction, type MedicalBody } from '../core/transaction.ts';
import type { ConsensusDriver } from './consensus-driver.ts';
import { openMemoryStore } from '../store/memory-store.ts';
import {
	clinics,
	medicalTx,
	mineNext,
	outsider,
	patientKeys,
	registerTx,
	soundVerifier,
	testGenesis
} from '../../../tests/fixtures/chain.ts';
import { certify } from '../../../tests/fixtures/pins.ts';
import { BatchAgreement, PROPOSALS_PER_PROPOSER } from './batch-agreement.ts';
import { ChainState } from './chain-state.ts';
import { genesisGroup } from './genesis-group.ts';
import { Mempool } from './mempool.ts';

const genesis = testGenesis();
const group = genesisGroup(genesis);
const [aster, birch, cedar] = clinics as [(typeof clinics)[0], (typeof clinics)[0], (typeof clinics)[0]];
const alice = patientKeys('batch alice');
const NOW = Date.UTC(2030, 0, 1);
const clock = () => NOW;

function pinned(block: Keyblock): Keyblock {
	const value = keyblockHash(block.header);
	const certificate = certify(group, [aster, birch, cedar], 'keyblock', block.header.height, value);
	return { ...block, pin: encodePin(certificate) };
}

async function setUp(fetchProposal?: (hash: Uint8Array) => Promise<BatchProposal | null>) {
	const chain = await ChainState.open({
		genesis,
		store: openMemoryStore(),
		group,
		verifier: soundVerifier,
		clock
	});
	await chain.apply({
		type: 'keyblock',
		block: pinned(mineNext(chain.ledger, aster, [registerTx(genesis, alice, aster, 1)]))
	});
	const mempool = new Mempool(chain.ledger, soundVerifier, clock);
	const batches = new BatchAgreement({
		chain,
		mempool,
		verifier: soundVerifier,
		// a member: the driver itself is not used by offer/validate
		driverFor: () => ({}) as ConsensusDriver,
		self: aster.institution.id,
		capacity: 512,
		publishProposal: async () => {},
		publishPinned: async () => {},
		fetchProposal,
		clock
	});
	return { chain, batches };
}

const records = Array.from({ length: 6 }, (_, i) => medicalTx(genesis, alice, aster, 1, `record ${i}`));

function proposal(indices: number[], overrides: Partial<BatchProposal> = {}): BatchProposal {
	return {
		sequence: 1,
		round: 1,
		institution: birch.institution.id,
		transactions: indices.map((i) => records[i]!),
		...overrides
	};
}

async function code(promise: Promise<unknown>): Promise<string> {
	try {
		return String(await promise);
	} catch (error) {
		return (error as { code?: string }).code ?? String(error);
	}
}

describe('batch proposals from the network', () => {
	it('are checked before they are kept: wrong proposer, bad proof or signature, a later batch', async () => {
		const { batches } = await setUp();
		expect(await code(batches.offer(proposal([0], { institution: outsider.institution.id })))).toBe(
			'batch-proposer'
		);
		// Alice's own signature over a record whose proof does not open the hash.
		const body = structuredClone(records[1]!.body);
		body.record.chameleon.proof[0]! ^= 1;
		const badProof = signTransaction<MedicalBody>(body, alice.secretKey);
		expect(await code(batches.offer({ ...proposal([0]), transactions: [records[0]!, badProof] }))).toBe(
			'record-proof'
		);
		// Someone else's edit of it: the patient's signature no longer holds.
		const edited = { ...badProof, body: records[2]!.body };
		expect(await code(batches.offer({ ...proposal([]), transactions: [edited] }))).toBe('tx-signature');
		// A batch for a round that has not started: we may only be behind (not blamed).
		expect(await code(batches.offer(proposal([0], { round: 5 })))).toBe('batch-round');
		// The batch after next cannot be checked yet: kept aside, not forwarded.
		expect(await batches.offer(proposal([0], { sequence: 2 }))).toBe('later');
		expect(batches.proposal(proposalHash(proposal([0], { sequence: 2 })))).toBeUndefined();
		expect(await batches.offer(proposal([0], { sequence: 2, institution: outsider.institution.id }))).toBe(
			'later'
		);
		expect(await batches.offer(proposal([0]))).toBe('stored');
		expect(await batches.offer(proposal([0]))).toBe('known');
	});

	it('a flood of junk proposals under the proposer’s name cannot evict the one this member found valid', async () => {
		const { batches } = await setUp();
		const honest = proposal([0, 1]);
		expect(await batches.offer(honest)).toBe('stored');
		expect(await batches.validate(proposalHash(honest), 1)).toBe(true);

		// Well-formed, valid proposals under Birch's name (any subset of the waiting records).
		const junk = [[2], [3], [4], [5], [2, 3], [3, 4], [4, 5], [0], [1], [0, 5]].map((ix) => proposal(ix));
		for (const p of junk) expect(await batches.offer(p)).toBe('stored');

		expect(batches.proposal(proposalHash(honest))).toBeDefined();
		const kept = [honest, ...junk].filter((p) => batches.proposal(proposalHash(p)) !== undefined);
		expect(kept).toHaveLength(PROPOSALS_PER_PROPOSER);
		// …and the newest junk, not the oldest, is what is left beside it.
		expect(kept.slice(1).map((p) => bytesToHex(proposalHash(p)))).toEqual(
			junk.slice(-(PROPOSALS_PER_PROPOSER - 1)).map((p) => bytesToHex(proposalHash(p)))
		);
	});

	it('a proposal this member missed is fetched from peers and checked like a gossiped one', async () => {
		const missed = proposal([0, 1]);
		const body = structuredClone(records[2]!.body);
		body.record.chameleon.proof[0]! ^= 1;
		const badProof = signTransaction<MedicalBody>(body, alice.secretKey);
		let answer: BatchProposal | null = { ...proposal([0]), transactions: [records[0]!, badProof] };
		const asked: string[] = [];
		const { batches } = await setUp(async (hash) => {
			asked.push(bytesToHex(hash));
			return answer;
		});
		// A peer's answer that fails the checks is not voted for.
		expect(await batches.validate(proposalHash(answer!), 1)).toBe(false);
		answer = missed;
		expect(await batches.validate(proposalHash(missed), 1)).toBe(true);
		expect(batches.proposal(proposalHash(missed))).toBeDefined();
		expect(asked).toHaveLength(2);
	});
});
