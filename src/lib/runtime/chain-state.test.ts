/**
 * The node's chain with real pieces: pinned keyblocks (real PoW, real BLS certificates), a pinned batch,
 * an attachment with real Groth16 proofs, persisted in the fsynced Node store and replayed on reopen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { messageFromDigest } from '../core/chameleon.ts';
import { keyblockHash, type Keyblock } from '../core/keyblock.ts';
import { encodePin, batchHash, type PinnedBatch } from '../core/pinning.ts';
import { initialLeafValue, leafMessage } from '../core/patient-block.ts';
import { signTransaction, transactionId, type MedicalBody } from '../core/transaction.ts';
import { loadVerificationKey } from '../crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../crypto/batch-verifier.ts';
import { proveCollision, proveHash, type ChameleonProver } from '../crypto/chameleon-prover.ts';
import { createNodeProver } from '../crypto/prover.node.ts';
import { openStore } from '../store/store.node.ts';
import { ChainState, pinId } from './chain-state.ts';
import { genesisGroup } from './genesis-group.ts';
import { clinics, mineNext, patientKeys, registerTx, testGenesis } from '../../../tests/fixtures/chain.ts';
import { certify } from '../../../tests/fixtures/pins.ts';

const genesis = testGenesis();
const group = genesisGroup(genesis);
const [aster, birch, cedar] = clinics as [(typeof clinics)[0], (typeof clinics)[0], (typeof clinics)[0]];
const alice = patientKeys('alice');
const NOW = Date.UTC(2030, 0, 1);
const clock = () => NOW;

let dir: string;
let prover: ChameleonProver;
let verifier: Groth16BatchVerifier;

beforeAll(async () => {
	dir = mkdtempSync(join(tmpdir(), 'spchain-chain-'));
	prover = await createNodeProver();
	verifier = await Groth16BatchVerifier.create(await loadVerificationKey());
}, 120_000);

afterAll(async () => {
	rmSync(dir, { recursive: true, force: true });
	await prover.close();
});

function pinned(block: Keyblock, signers = [aster, birch, cedar]): Keyblock {
	const value = keyblockHash(block.header);
	return { ...block, pin: encodePin(certify(group, signers, 'keyblock', block.header.height, value)) };
}

describe('chain state', () => {
	it('applies pinned keyblocks, a pinned batch and an attachment, and replays them after a restart', async () => {
		const store = await openStore(dir);
		const chain = await ChainState.open({ genesis, store, group, verifier, clock });

		const k1 = mineNext(chain.ledger, aster, [registerTx(genesis, alice, aster, 1)]);
		await expect(chain.apply({ type: 'keyblock', block: k1 })).rejects.toMatchObject({
			code: 'keyblock-unpinned'
		});
		// Two signers of four hold neither 2/3 of the members nor of the reputation.
		await expect(chain.apply({ type: 'keyblock', block: pinned(k1, [aster, birch]) })).rejects.toMatchObject({
			name: 'ValidationError'
		});
		expect(await chain.apply({ type: 'keyblock', block: pinned(k1) })).toBe('applied');
		expect(await chain.apply({ type: 'keyblock', block: pinned(k1) })).toBe('known');
		await chain.apply({ type: 'keyblock', block: pinned(mineNext(chain.ledger, birch, [], NOW - 1000)) });
		expect(chain.height).toBe(2);

		// A medical record at Aster with a real proof, pinned in batch 1, attached with the leaf proof.
		const digest = sha256(new TextEncoder().encode('E_A(E_P(visit))'));
		const { hash } = await proveHash(prover, messageFromDigest(digest), aster.institution.chameleonKey);
		const tx = signTransaction<MedicalBody>(
			{
				kind: 'medical',
				patient: alice.publicKey,
				institution: aster.institution.id,
				round: 2,
				fees: genesis.fees.medical,
				record: { chameleon: hash, pointer: { digest, holder: aster.institution.id } }
			},
			alice.secretKey
		);
		const batch = { round: 2, institution: aster.institution.id, transactions: [transactionId(tx.body)] };
		const batchPin: PinnedBatch = {
			sequence: 1,
			batch,
			certificate: certify(group, [aster, birch, cedar], 'transactions', 1, batchHash(batch))
		};
		await expect(chain.apply({ type: 'batch', pinned: { ...batchPin, sequence: 2 } })).rejects.toMatchObject({
			code: 'batch-sequence'
		});
		expect(await chain.apply({ type: 'batch', pinned: batchPin })).toBe('applied');

		const { hash: leaf } = await proveCollision(
			prover,
			{
				x: aster.secrets.trapdoor,
				X: aster.institution.chameleonKey,
				h: initialLeafValue(alice.publicKey, aster.institution.id),
				m: leafMessage(alice.publicKey, aster.institution.id, []),
				r: 0n
			},
			leafMessage(alice.publicKey, aster.institution.id, [transactionId(tx.body)])
		);
		const attachment = {
			patient: alice.publicKey,
			institution: aster.institution.id,
			entries: [{ tx, pin: pinId(batchPin) }],
			leafProof: leaf.proof
		};
		const blockHash = chain.ledger.patientBlockHash(alice.publicKey);
		expect(await chain.apply({ type: 'attachment', attachment })).toBe('applied');
		expect(chain.ledger.patientBlockHash(alice.publicKey)).toEqual(blockHash);
		await store.close();

		// Restart: the journal replays (re-verifying every fact) to the same state.
		const reopened = await ChainState.open({ genesis, store: await openStore(dir), group, verifier, clock });
		expect(reopened.height).toBe(2);
		expect(reopened.batchCount).toBe(1);
		expect(reopened.ledger.patientBlock(alice.publicKey)!.leaves[0]!.entries).toHaveLength(1);
		const journal = [];
		for await (const fact of reopened.journal()) journal.push(fact.type);
		expect(journal).toEqual(['keyblock', 'keyblock', 'batch', 'attachment']);
	});
});
