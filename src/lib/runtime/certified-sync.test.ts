/**
 * Certificate-first sync (certified-sync.ts) over real libp2p on loopback: a fresh FullNode syncs the
 * small real chain (tests/fixtures/small-chain.ts: PoW keyblocks with BLS pins, a pinned batch, an
 * attachment with Groth16 proofs) and is usable (its ledger answers, "certified") while its proofs are
 * still held back, then verified in full once they are checked. A peer serving a record whose proof is
 * forged, under a batch certificate the test members really signed, gets the fresh node to apply it
 * certified; the background verification catches it, records the certifying members and the chain
 * takes nothing more. A store closed mid-way reopens certified and is verified again, not trusted.
 */
import '../node/polyfills.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bytes } from '../core/bytes.ts';
import type { ChameleonVerifier } from '../core/chameleon.ts';
import { batchHash, pinnedBatchId, type PinnedBatch } from '../core/pinning.ts';
import { signTransaction, transactionId, type MedicalBody } from '../core/transaction.ts';
import { loadVerificationKey } from '../crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../crypto/batch-verifier.ts';
import { createNodeProver } from '../crypto/prover.node.ts';
import { createPeerNet } from '../net/peer-net.node.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { openMemoryStore } from '../store/memory-store.ts';
import { certify } from '../../../tests/fixtures/pins.ts';
import {
	alice,
	aster,
	asterLeafProof,
	birch,
	buildSmallChain,
	cedar,
	clock,
	genesis,
	group
} from '../../../tests/fixtures/small-chain.ts';
import { decodeFact, encodeFact, type ChainFact } from './chain-fact.ts';
import { serveSync, type SyncSource } from './chain-sync.ts';
import { ChainState } from './chain-state.ts';
import { readTrust } from './certified-sync.ts';
import { FullNode } from './full-node.ts';
import type { NodeEvent } from './node-api.ts';

let inner: Groth16BatchVerifier;
/** The small chain's journal, verified by the node that built it. */
let good: { type: ChainFact['type']; bytes: Bytes }[];
/** The same, then a batch and an attachment whose record carries another record's proof. */
let forged: { type: ChainFact['type']; bytes: Bytes }[];
let recordId: Bytes;
const nets: PeerNet[] = [];
const nodes: FullNode[] = [];

const source = (facts: typeof good): SyncSource => ({
	async *journal(from = 0) {
		yield* facts.slice(from);
	}
});

/** A serving peer (the real sync handler over PeerNet) and a fresh full node dialling it. */
async function freshNodeSyncing(facts: typeof good, verifier: ChameleonVerifier) {
	const server = await createPeerNet({ bootstrap: [] });
	nets.push(server);
	serveSync(server, source(facts));
	const direct = server.addresses().find((a) => a.includes('/ws') && !a.includes('p2p-circuit'))!;
	const net = await createPeerNet({ bootstrap: [direct] });
	nets.push(net);
	const store = openMemoryStore();
	const events: NodeEvent[] = [];
	const node = await FullNode.start({ genesis, store, net, verifier, clock });
	nodes.push(node);
	node.on((event) => events.push(event));
	return { node, store, events };
}

/** A verifier that answers only once `open` is called (the background verification waits on it). */
function gated(): { verifier: ChameleonVerifier; open: () => void; asked: () => number } {
	let open!: () => void;
	const gate = new Promise<void>((resolve) => (open = resolve));
	let asked = 0;
	return {
		verifier: {
			async verifyAll(statements) {
				asked += statements.length;
				await gate;
				return inner.verifyAll(statements);
			}
		},
		open,
		asked: () => asked
	};
}

beforeAll(async () => {
	const prover = await createNodeProver();
	inner = await Groth16BatchVerifier.create(await loadVerificationKey());
	const built = await buildSmallChain(openMemoryStore(), prover, inner);
	recordId = built.txId;
	good = [];
	for await (const fact of built.chain.journal()) good.push(fact);
	const first = built.chain.ledger.patientBlock(alice.publicKey)!.leaves[0]!.entries[0]!.tx;
	// Another record of alice's at Aster that carries the first record's chameleon hash and proof: its
	// own message differs, so the proof is not valid for it. The patient signs it; the group pins it.
	const digest = sha256(new TextEncoder().encode('E_A(E_P(forged))'));
	const tx = signTransaction<MedicalBody>(
		{
			...(first.body as MedicalBody),
			record: { chameleon: first.body.record.chameleon, pointer: { digest, holder: aster.institution.id } }
		},
		alice.secretKey
	);
	const batch = { round: 2, institution: aster.institution.id, transactions: [transactionId(tx.body)] };
	const pinned: PinnedBatch = {
		sequence: 2,
		batch,
		certificate: certify(group, [aster, birch, cedar], 'transactions', 2, batchHash(batch))
	};
	const leaf = await asterLeafProof(prover, [recordId, transactionId(tx.body)]);
	await prover.close();
	const extra: ChainFact[] = [
		{ type: 'batch', pinned },
		{
			type: 'attachment',
			attachment: {
				patient: alice.publicKey,
				institution: aster.institution.id,
				entries: [{ tx, pin: pinnedBatchId(pinned) }],
				leafProof: leaf
			}
		}
	];
	forged = [...good, ...extra.map((fact) => ({ type: fact.type, bytes: encodeFact(fact) }))];
}, 240_000);

afterAll(async () => {
	for (const node of nodes) await node.stop();
	await Promise.all(nets.map((net) => net.stop()));
});

describe('certificate-first sync', () => {
	it('is usable on the certified chain before its proofs are verified, then verified in full', async () => {
		const gate = gated();
		const { node } = await freshNodeSyncing(good, gate.verifier);
		await expect.poll(() => node.chain.length, { timeout: 60_000, interval: 100 }).toBe(good.length);
		// Usable: the whole chain answers reads, while the proofs wait behind the gate.
		expect(node.chain.ledger.recordLocation(recordId)).toBeDefined();
		expect(node.chain.height).toBe(2);
		const before = node.status().verification;
		expect(before.state).toBe('certified');
		expect(before.verified).toBeLessThan(good.length);
		expect(node.chain.fullyVerified).toBe(false);
		// What it has not verified, it does not serve.
		const served: unknown[] = [];
		for await (const fact of node.chain.journal()) served.push(fact);
		expect(served.length).toBe(before.verified);
		await expect.poll(() => gate.asked(), { timeout: 30_000 }).toBeGreaterThan(0);

		gate.open();
		await node.chain.verification.settled();
		const after = node.status().verification;
		expect(after).toMatchObject({ state: 'verified', verified: good.length, total: good.length });
		// Alice's record proof and the leaf proof, and every signature on the chain.
		expect(after.proofs).toBe(2);
		expect(after.signatures).toBeGreaterThanOrEqual(4);
		served.length = 0;
		for await (const fact of node.chain.journal()) served.push(fact);
		expect(served.length).toBe(good.length);
	}, 120_000);

	it('catches a forged proof under a valid certificate in the background and records who certified it', async () => {
		const { node, store, events } = await freshNodeSyncing(forged, inner);
		await expect
			.poll(() => node.status().verification.state, { timeout: 90_000, interval: 200 })
			.toBe('invalid');
		const invalid = node.status().verification.invalid!;
		expect(invalid).toMatchObject({ position: forged.length - 1, type: 'attachment', code: 'record-proof' });
		expect(invalid.certifiedBy).toHaveLength(1);
		expect(invalid.certifiedBy[0]).toMatchObject({ kind: 'transactions', height: 2 });
		const ids = [aster, birch, cedar].map((c) => Buffer.from(c.institution.id).toString('hex')).sort();
		expect(invalid.certifiedBy[0]!.members.map((m) => Buffer.from(m).toString('hex')).sort()).toEqual(ids);
		// Raised loudly, and kept in the store.
		expect(events.some((e) => e.type === 'invalid')).toBe(true);
		expect(events.some((e) => e.type === 'error' && e.message.startsWith('INVALID CHAIN'))).toBe(true);
		expect((await readTrust(store)).invalid).toMatchObject({
			position: invalid.position,
			code: 'record-proof'
		});
		// The facts before it are verified; the chain takes nothing more.
		expect(node.status().verification.verified).toBe(forged.length - 1);
		await expect(
			node.chain.apply({ type: 'batch', pinned: { ...(node.chain.batch(2) as PinnedBatch), sequence: 3 } })
		).rejects.toMatchObject({ code: 'chain-invalid' });
	}, 150_000);

	it('reopens a store closed mid-verification as certified and verifies it again', async () => {
		const store = openMemoryStore();
		const gate = gated();
		const chain = await ChainState.open({ genesis, store, group, verifier: gate.verifier, clock });
		for (const { type, bytes } of good) await chain.apply(decodeFact(type, bytes, genesis), 'certified');
		expect((await readTrust(store)).certifiedFrom).toBeDefined();
		// Reopened before the proofs were checked: the certified part is not trusted as verified.
		const again = await ChainState.open({ genesis, store, group, verifier: inner, clock });
		expect(again.verification.progress().state).toBe('certified');
		await again.verification.settled();
		expect(again.verification.progress()).toMatchObject({ state: 'verified', verified: good.length });
		expect((await readTrust(store)).certifiedFrom).toBeUndefined();
		gate.open();
		await chain.verification.settled();
	}, 120_000);
});
