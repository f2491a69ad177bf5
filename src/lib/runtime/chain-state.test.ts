/**
 * The node's chain with real pieces: pinned keyblocks (real PoW, real BLS certificates), a pinned batch,
 * an attachment with real Groth16 proofs, persisted in the Node store (LevelDB) and replayed on reopen.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { messageFromDigest } from '../core/chameleon.ts';
import { decodeKeyblock, keyblockHash, type Keyblock } from '../core/keyblock.ts';
import { encodePin, batchHash, pinnedBatchId, type PinnedBatch } from '../core/pinning.ts';
import { initialLeafValue, leafMessage } from '../core/patient-block.ts';
import { signTransaction, transactionId, type MedicalBody } from '../core/transaction.ts';
import { loadVerificationKey } from '../crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../crypto/batch-verifier.ts';
import { proveCollision, proveHash, type ChameleonProver } from '../crypto/chameleon-prover.ts';
import { createNodeProver } from '../crypto/prover.node.ts';
import { openStore } from '../store/store.node.ts';
import { ChainState } from './chain-state.ts';
import { genesisGroup } from './genesis-group.ts';
import { clinics, mineNext, patientKeys, registerTx, testGenesis } from '../../../tests/fixtures/chain.ts';
import { certify } from '../../../tests/fixtures/pins.ts';
import { bytesToHex } from '../core/bytes.ts';
import { statementBytes } from '../core/certificate.ts';
import { blsSign } from '../core/consensus/bls.ts';
import { statementOf, type Vote } from '../core/consensus/messages.ts';
import type { EquivocationEvidence } from '../core/evidence.ts';
import { chainReputations } from './chain-metrics.ts';
import { HandoverAgreement } from './membership-handover.ts';
import { KeyblockAgreement } from './keyblock-agreement.ts';
import { Ledger } from '../core/chain.ts';
import { openMemoryStore } from '../store/memory-store.ts';

const genesis = testGenesis();
const group = genesisGroup(genesis);
const [aster, birch, cedar, dogwood] = clinics as [
	(typeof clinics)[0],
	(typeof clinics)[0],
	(typeof clinics)[0],
	(typeof clinics)[0]
];
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
		// A second batch may not pin the transaction again, even certified; none of its ids is pinned then.
		const again = {
			round: 2,
			institution: birch.institution.id,
			transactions: [sha256(Uint8Array.of(7)), transactionId(tx.body)]
		};
		const repinned = {
			sequence: 2,
			batch: again,
			certificate: certify(group, [aster, birch, cedar], 'transactions', 2, batchHash(again))
		};
		await expect(chain.apply({ type: 'batch', pinned: repinned })).rejects.toMatchObject({
			code: 'transaction-pinned-twice'
		});
		expect(chain.isPinned(sha256(Uint8Array.of(7)))).toBe(false);
		expect(chain.batchCount).toBe(1);

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
			entries: [{ tx, pin: pinnedBatchId(batchPin) }],
			leafProof: leaf.proof
		};
		const blockHash = chain.ledger.patientBlockHash(alice.publicKey);
		expect(await chain.apply({ type: 'attachment', attachment })).toBe('applied');
		expect(chain.ledger.patientBlockHash(alice.publicKey)).toEqual(blockHash);

		// Another node holds another quorum's certificate of the same batch (its own votes came from other
		// members): the attachment names the batch, not a certificate, so it applies there too.
		const other = await ChainState.open({ genesis, store: await openMemoryStore(), group, verifier, clock });
		for await (const fact of chain.journal())
			if (fact.type === 'keyblock')
				await other.apply({
					type: 'keyblock',
					block: decodeKeyblock(fact.bytes, genesis.maxRegistersPerKeyblock)
				});
		const otherCertificate = certify(group, [birch, cedar, dogwood], 'transactions', 1, batchHash(batch));
		expect(otherCertificate.signature).not.toEqual(batchPin.certificate.signature);
		expect(await other.apply({ type: 'batch', pinned: { ...batchPin, certificate: otherCertificate } })).toBe(
			'applied'
		);
		expect(await other.apply({ type: 'attachment', attachment })).toBe('applied');
		await store.close();

		// Restart: the journal replays (restored as verified before, verified-journal.ts) to the same state.
		const reopenedStore = await openStore(dir);
		const reopened = await ChainState.open({ genesis, store: reopenedStore, group, verifier, clock });
		expect(reopened.height).toBe(2);
		expect(reopened.batchCount).toBe(1);
		expect(reopened.ledger.patientBlock(alice.publicKey)!.leaves[0]!.entries).toHaveLength(1);
		const journal = [];
		for await (const fact of reopened.journal()) journal.push(fact.type);
		expect(journal).toEqual(['keyblock', 'keyblock', 'batch', 'attachment']);
		await reopenedStore.close();
	});

	it('records evidence of equivocation and sets the offender’s reputation to 0 from the offence on', async () => {
		const evidenceDir = mkdtempSync(join(tmpdir(), 'spchain-evidence-'));
		try {
			const store = await openStore(evidenceDir);
			const chain = await ChainState.open({ genesis, store, group, verifier, clock });
			// Epoch 0 (keyblocks 1..10) mined in turn by Aster, Birch and Cedar.
			for (let height = 1; height <= genesis.epochLength; height++)
				await chain.apply({
					type: 'keyblock',
					block: pinned(mineNext(chain.ledger, [aster, birch, cedar][height % 3]!, []))
				});
			const handovers = new HandoverAgreement({ chain, driverFor: () => null, publish: async () => {} });
			expect(handovers.incomingGroup(1).indexOf(cedar.institution.id)).toBeGreaterThanOrEqual(0);
			const cedarId = bytesToHex(cedar.institution.id);
			const rOf = (id: string, length?: number) =>
				chainReputations(chain, length).find((r) => r.institution === id)!.r;
			expect(rOf(cedarId)).toBeGreaterThan(0);

			// Cedar prevotes two different keyblocks at height 2, round 0.
			const vote = (value: Uint8Array, signer = cedar): Vote => {
				const unsigned: Vote = {
					type: 'prevote',
					kind: 'keyblock',
					height: 2,
					round: 0,
					value,
					sender: cedar.institution.id,
					signature: new Uint8Array(96)
				};
				const signature = blsSign(signer.secrets.blsKey, statementBytes(group, statementOf(unsigned)));
				return { ...unsigned, signature };
			};
			const evidence: EquivocationEvidence = {
				first: vote(sha256(new Uint8Array([1]))),
				second: vote(sha256(new Uint8Array([2])))
			};
			// A pair whose second signature is Birch's, not Cedar's, proves nothing.
			await expect(
				chain.apply({
					type: 'evidence',
					evidence: { ...evidence, second: vote(sha256(new Uint8Array([2])), birch) }
				})
			).rejects.toMatchObject({ code: 'evidence-signature' });
			await expect(
				chain.apply({ type: 'evidence', evidence: { first: evidence.first, second: evidence.first } })
			).rejects.toMatchObject({ code: 'evidence-same-statement' });
			// Votes about a height of an epoch whose group is not known yet cannot be checked.
			const far: Vote = { ...vote(sha256(new Uint8Array([1]))), height: genesis.epochLength + 1 };
			await expect(
				chain.apply({ type: 'evidence', evidence: { first: far, second: { ...far, value: null } } })
			).rejects.toMatchObject({ code: 'evidence-group' });

			expect(await chain.apply({ type: 'evidence', evidence })).toBe('applied');
			expect(await chain.apply({ type: 'evidence', evidence })).toBe('known');
			expect(chain.misbehaviour).toEqual([{ offender: cedarId, height: 2 }]);
			expect(rOf(cedarId)).toBe(0);
			// Before the offence Cedar was honest; others keep their reputation.
			expect(rOf(cedarId, 1)).toBeGreaterThan(0);
			expect(rOf(bytesToHex(aster.institution.id))).toBeGreaterThan(0);
			// And a proven equivocator gets no seat in the next consensus group, whatever its work.
			const next = handovers.incomingGroup(1);
			expect(next.indexOf(cedar.institution.id)).toBe(-1);
			expect(next.indexOf(aster.institution.id)).toBeGreaterThanOrEqual(0);
			await store.close();

			// The evidence is a fact of the journal: a restart re-verifies it and keeps H = 0.
			const reopenedStore = await openStore(evidenceDir);
			const reopened = await ChainState.open({ genesis, store: reopenedStore, group, verifier, clock });
			expect(reopened.misbehaviour).toEqual([{ offender: cedarId, height: 2 }]);
			expect(chainReputations(reopened).find((r) => r.institution === cedarId)!.r).toBe(0);
			await reopenedStore.close();
		} finally {
			rmSync(evidenceDir, { recursive: true, force: true });
		}
	});

	it('refuses for good every keyblock that conflicts with a pinned one', async () => {
		const chain = await ChainState.open({ genesis, store: openMemoryStore(), group, verifier, clock });
		const k1 = pinned(mineNext(chain.ledger, aster, []));
		await chain.apply({ type: 'keyblock', block: k1 });
		const agreement = new KeyblockAgreement({
			chain,
			driverFor: () => null,
			publishPinned: async () => {},
			clock
		});

		// A withheld branch: Birch's own keyblock 1 and its child, mined on a ledger of its own.
		const fork = new Ledger(genesis);
		const rival = mineNext(fork, birch, []);
		fork.appendKeyblock(rival, NOW);
		const child = mineNext(fork, birch, []);

		await expect(agreement.offer(rival)).rejects.toMatchObject({ code: 'keyblock-conflicts-pin' });
		await expect(agreement.offer(child)).rejects.toMatchObject({ code: 'keyblock-conflicts-pin' });
		// Even with a certificate (a group that signed twice), it cannot replace the pinned keyblock.
		await expect(chain.apply({ type: 'keyblock', block: pinned(rival) })).rejects.toMatchObject({
			code: 'keyblock-conflicts-pin'
		});
		// The pinned keyblock itself is simply known, and a valid child of it is a candidate.
		expect(await agreement.offer(k1)).toBe(false);
		expect(await agreement.offer(mineNext(chain.ledger, birch, []))).toBe(true);
		expect(chain.height).toBe(1);
	});

	it('discards a journal stored in an older format and keeps the current one', async () => {
		const store = openMemoryStore();
		const chain = await ChainState.open({ genesis, store, group, verifier, clock });
		await chain.apply({ type: 'keyblock', block: pinned(mineNext(chain.ledger, aster, [])) });
		expect((await ChainState.open({ genesis, store, group, verifier, clock })).height).toBe(1);

		// A journal of format 1 had no marker.
		await store.write([{ table: 'meta', key: 'journal-format', value: null }]);
		const reopened = await ChainState.open({ genesis, store, group, verifier, clock });
		expect(reopened.discardedFacts).toBe(1);
		expect(reopened.height).toBe(0);
		expect(await store.list('keyblocks')).toEqual([]);
		const again = await ChainState.open({ genesis, store, group, verifier, clock });
		expect(again.discardedFacts).toBe(0);
	});
});
