/**
 * The light client against real certificates (BLS, the dev institutions' keys) and real patient
 * signatures: it follows a hand-over, takes batch headers only from the group that pins them, and
 * verifies a record of its patient from a Merkle path, refusing paths, pins, signatures, headers and
 * hand-overs that do not hold.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { ConsensusGroup } from '../core/consensus/group.ts';
import { epochOf } from '../core/consensus/membership.ts';
import {
	batchHeaderOf,
	decodeBatchHeader,
	decodeInclusionProof,
	encodeBatchHeader,
	encodeInclusionProof,
	proveInclusion
} from '../core/light-proof.ts';
import { batchHash, pinnedBatchId, type PinnedBatch } from '../core/pinning.ts';
import { signTransaction, transactionId, type MedicalBody, type Transaction } from '../core/transaction.ts';
import { clinics, patientKeys, testGenesis } from '../../../tests/fixtures/chain.ts';
import { certify } from '../../../tests/fixtures/pins.ts';
import { genesisGroup } from './genesis-group.ts';
import { LightClient } from './light-client.ts';

const genesis = testGenesis();
const group = genesisGroup(genesis);
const [aster, birch, cedar, dogwood] = clinics as [
	(typeof clinics)[0],
	(typeof clinics)[0],
	(typeof clinics)[0],
	(typeof clinics)[0]
];
const alice = patientKeys('alice');
const params = { groupSize: genesis.consensusGroupSize, epochLength: genesis.epochLength };
// Batch 1 is for a round of epoch 1, so batch 2 is pinned by epoch 1's group (after the hand-over).
const ROUND = genesis.epochLength + 2;

function record(n: number, round = ROUND): Transaction<MedicalBody> {
	const digest = sha256(new Uint8Array([n]));
	return signTransaction<MedicalBody>(
		{
			kind: 'medical',
			patient: alice.publicKey,
			institution: aster.institution.id,
			round,
			fees: genesis.fees.medical,
			// The light client checks the patient's signature and the pin; the group checked the proof.
			record: {
				chameleon: { h: new Uint8Array(32), proof: new Uint8Array(256) },
				pointer: { digest, holder: aster.institution.id }
			}
		},
		alice.secretKey
	);
}

const txs = [1, 2, 3, 4, 5].map((n) => record(n));
const ids = txs.map((tx) => transactionId(tx.body));
const others = Array.from({ length: 9 }, (_, i) => sha256(new Uint8Array([100 + i])));
const batch1: PinnedBatch = (() => {
	const batch = {
		round: ROUND,
		institution: aster.institution.id,
		transactions: [...others.slice(0, 4), ...ids.slice(0, 3), ...others.slice(4)]
	};
	return {
		sequence: 1,
		batch,
		certificate: certify(group, [aster, birch, cedar], 'transactions', 1, batchHash(batch))
	};
})();
const incoming = new ConsensusGroup(
	[birch, cedar, dogwood].map((c) => ({
		id: c.institution.id,
		blsPublicKey: c.institution.blsKey,
		reputation: 1
	})),
	1
);
const handover = {
	members: incoming.members.slice(),
	epoch: 1,
	certificate: certify(group, [aster, birch, cedar], 'membership', 1, incoming.hash)
};
const batch2: PinnedBatch = (() => {
	const batch = { round: ROUND + 1, institution: aster.institution.id, transactions: ids.slice(3) };
	return {
		sequence: 2,
		batch,
		certificate: certify(incoming, [birch, cedar, dogwood], 'transactions', 2, batchHash(batch))
	};
})();
const entry = (i: number, pinned: PinnedBatch) => ({ tx: txs[i]!, pin: pinnedBatchId(pinned) });

describe('light client', () => {
	it('follows a hand-over and batch headers, and verifies its patient’s records from Merkle paths', () => {
		expect(epochOf(ROUND, params)).toBe(1);
		const light = new LightClient(genesis, group);
		light.applyBatch(batchHeaderOf(batch1));
		expect(() => light.applyBatch(batchHeaderOf(batch2))).toThrow(
			expect.objectContaining({ code: 'handover-missing' })
		);
		light.applyHandover(handover);
		light.applyBatch(batchHeaderOf(batch2));
		expect(light).toMatchObject({ epochs: 2, batchCount: 2 });
		for (const i of [0, 1, 2]) light.verifyRecord(entry(i, batch1), proveInclusion(batch1, ids[i]!));
		for (const i of [3, 4]) light.verifyRecord(entry(i, batch2), proveInclusion(batch2, ids[i]!));
		// It keeps headers, not ids: a few hundred bytes a batch however many transactions it pinned.
		expect(light.storedBytes).toBeLessThan(3 * 600);
		// What travels decodes to what was sent.
		const proof = proveInclusion(batch1, ids[1]!);
		expect(decodeInclusionProof(encodeInclusionProof(proof))).toEqual(proof);
		expect(decodeBatchHeader(encodeBatchHeader(batchHeaderOf(batch2)))).toEqual(batchHeaderOf(batch2));
	});

	it('refuses a record whose path, pin or signature does not hold', () => {
		const light = new LightClient(genesis, group);
		light.applyBatch(batchHeaderOf(batch1));
		const path = proveInclusion(batch1, ids[0]!);
		// Record 4 is pinned in batch 2, not 1: record 1's path from its id leads to another root.
		expect(() => light.verifyRecord({ ...entry(3, batch2), pin: pinnedBatchId(batch1) }, path)).toThrow(
			expect.objectContaining({ code: 'inclusion-root' })
		);
		const bent = { ...path, path: path.path.map((s, i) => (i === 0 ? { ...s, left: !s.left } : s)) };
		expect(() => light.verifyRecord(entry(0, batch1), bent)).toThrow(
			expect.objectContaining({ code: 'inclusion-root' })
		);
		expect(() => light.verifyRecord(entry(0, batch2), path)).toThrow(
			expect.objectContaining({ code: 'tx-pin' })
		);
		expect(() => light.verifyRecord(entry(3, batch2), proveInclusion(batch2, ids[3]!))).toThrow(
			expect.objectContaining({ code: 'tx-unpinned' })
		);
		const forged = { ...txs[0]!, signature: txs[1]!.signature };
		expect(() => light.verifyRecord({ tx: forged, pin: pinnedBatchId(batch1) }, path)).toThrow();
		expect(() => light.verifyRecord(entry(0, batch1), { ...path, sequence: 2 })).toThrow(
			expect.objectContaining({ code: 'tx-unpinned' })
		);
	});

	it('refuses batch headers and hand-overs the right group did not certify', () => {
		const light = new LightClient(genesis, group);
		const header = batchHeaderOf(batch1);
		expect(() => light.applyBatch({ ...header, sequence: 2 })).toThrow(
			expect.objectContaining({ code: 'batch-sequence' })
		);
		// A summary that claims more transactions than the group certified.
		expect(() => light.applyBatch({ ...header, count: header.count + 1 })).toThrow(
			expect.objectContaining({ code: 'certificate-value' })
		);
		// Two signers of four are no quorum.
		const weak = {
			...batch1,
			certificate: certify(group, [aster, birch], 'transactions', 1, batchHash(batch1.batch))
		};
		expect(() => light.applyBatch(batchHeaderOf(weak))).toThrow(
			expect.objectContaining({ name: 'ValidationError' })
		);
		light.applyBatch(header);
		expect(() => light.applyHandover({ ...handover, epoch: 2 })).toThrow(
			expect.objectContaining({ code: 'handover-epoch' })
		);
		const selfAppointed = {
			...handover,
			certificate: certify(incoming, [birch, cedar, dogwood], 'membership', 1, incoming.hash)
		};
		expect(() => light.applyHandover(selfAppointed)).toThrow(
			expect.objectContaining({ name: 'ValidationError' })
		);
		// Batch 2 signed by the outgoing group instead of epoch 1's: refused once the hand-over is known.
		light.applyHandover(handover);
		const stale = {
			...batch2,
			certificate: certify(group, [aster, birch, cedar], 'transactions', 2, batchHash(batch2.batch))
		};
		expect(() => light.applyBatch(batchHeaderOf(stale))).toThrow(
			expect.objectContaining({ name: 'ValidationError' })
		);
		expect(light.batchCount).toBe(1);
	});
});
