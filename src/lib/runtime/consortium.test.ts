/**
 * A live consortium in one process, every part real: a relay, three consensus-group members (of the
 * four in genesis) and a patient's observer node, each a FullNode on its own libp2p (WebSockets on
 * loopback, gossipsub), a WASM miner in a worker thread, BLS-certified pins, Groth16 proofs.
 * A patient registers; a record is pinned and attached by its institution; a node that joins late syncs
 * the whole chain; a transaction lost in gossip is announced again; a peer that gossips a forged keyblock
 * is rejected and penalised; the group is handed over at each epoch boundary by certificate, and the
 * new group pins keyblocks and batches.
 */
import '../node/polyfills.ts';
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '../core/bytes.ts';
import { PRESENCE_WINDOW_EPOCHS } from '../core/consensus/membership.ts';
import { messageFromDigest } from '../core/chameleon.ts';
import { targetForExpectedHashes, type DevInstitution } from '../../../tests/fixtures/genesis-dev.ts';
import { encodeKeyblock } from '../core/keyblock.ts';
import { signTransaction, transactionId, type MedicalBody } from '../core/transaction.ts';
import { proveHash } from '../crypto/chameleon-prover.ts';
import type { PeerNet } from '../net/peer-net.ts';
import type { FullNode } from './full-node.ts';
import { useTestNetwork } from '../../../tests/fixtures/test-network.ts';
import { clinics, patientKeys, registerTx, testGenesis } from '../../../tests/fixtures/chain.ts';

// Short epochs, so the consensus group is handed over several times during the test; real work per
// keyblock (~2^20 hashes), so that a group of one institution cannot outrun the records' round window.
const genesis = testGenesis({
	timestamp: Date.now() - 60_000,
	epochLength: 4,
	initialTarget: targetForExpectedHashes(1n << 20n)
});
const [aster, birch, cedar] = clinics as [DevInstitution, DevInstitution, DevInstitution];
const alice = patientKeys('consortium alice');
const network = useTestNetwork(genesis);
const { nodes } = network;

async function startNode(clinic?: DevInstitution, mine = false): Promise<FullNode> {
	return (await network.startNode({ clinic, mine })).node;
}

/** Alice's medical transaction for a record Aster holds (a real chameleon hash and proof). */
async function medicalAtAster(ciphertext: string, round: number) {
	const digest = sha256(new TextEncoder().encode(ciphertext));
	const { hash } = await proveHash(network.prover, messageFromDigest(digest), aster.institution.chameleonKey);
	return signTransaction<MedicalBody>(
		{
			kind: 'medical',
			patient: alice.publicKey,
			institution: aster.institution.id,
			round,
			fees: genesis.fees.medical,
			record: { chameleon: hash, pointer: { digest, holder: aster.institution.id } }
		},
		alice.secretKey
	);
}

describe('a consortium of full nodes over libp2p', () => {
	let members: FullNode[];
	let patient: FullNode;

	it('pins mined keyblocks with the consensus group and every node follows', async () => {
		members = [await startNode(aster, true), await startNode(birch, true), await startNode(cedar, true)];
		patient = await startNode();
		await expect.poll(() => members.every((m) => m.net.peers().length >= 3), { timeout: 30_000 }).toBe(true);
		// One miner for now: at this test difficulty more would outrun the records' round window.
		members[0]!.startMining();
		await expect
			.poll(() => Math.min(...nodes.map((n) => n.chain.height)), { timeout: 90_000, interval: 500 })
			.toBeGreaterThanOrEqual(2);
		// The same chain everywhere.
		const tip = members[0]!.chain.ledger.keyblock(2)!.hash;
		for (const node of nodes) expect(node.chain.ledger.keyblock(2)!.hash).toEqual(tip);
	}, 180_000);

	it('registers a patient and pins, attaches and verifies a medical record', async () => {
		await patient.submit(registerTx(genesis, alice, aster, patient.chain.height));
		await expect
			.poll(() => nodes.every((n) => n.chain.ledger.patientBlock(alice.publicKey) !== undefined), {
				timeout: 90_000,
				interval: 500
			})
			.toBe(true);

		const tx = await medicalAtAster('E_A(E_P(first visit))', patient.chain.height);
		const blockHash = patient.chain.ledger.patientBlockHash(alice.publicKey);
		await patient.submit(tx);
		const id = transactionId(tx.body);
		await expect
			.poll(() => nodes.every((n) => n.chain.ledger.recordLocation(id) !== undefined), {
				timeout: 90_000,
				interval: 500
			})
			.toBe(true);
		for (const node of nodes) {
			expect(node.chain.isPinned(id)).toBe(true);
			expect(node.chain.ledger.patientBlockHash(alice.publicKey)).toEqual(blockHash);
		}
	}, 200_000);

	it('announces a submitted transaction again until the group has it, when gossip lost it', async () => {
		// The patient's real net, except that the first transaction it publishes is lost on the way.
		let lost = 0;
		const { node } = await network.startNode({
			wrapNet: (net) =>
				new Proxy(net, {
					get(target, property) {
						if (property === 'publish')
							return async (topic: string, data: Uint8Array) => {
								if (topic === 'transactions' && lost === 0) return void lost++;
								return target.publish(topic as Parameters<PeerNet['publish']>[0], data);
							};
						const value = Reflect.get(target, property, target) as unknown;
						return typeof value === 'function' ? value.bind(target) : value;
					}
				})
		});
		await expect
			.poll(() => node.chain.height, { timeout: 60_000 })
			.toBeGreaterThanOrEqual(members[0]!.chain.height);
		const bob = patientKeys('consortium bob');
		const id = await node.submit(registerTx(genesis, bob, birch, node.chain.height));
		expect(lost).toBe(1);
		await expect
			.poll(
				() =>
					members[0]!.mempool.has(id) || members[0]!.chain.ledger.patientBlock(bob.publicKey) !== undefined,
				{ timeout: 30_000, interval: 500 }
			)
			.toBe(true);
	}, 120_000);

	it('lets a node that joins late sync and verify the whole chain', async () => {
		const late = await startNode();
		await expect.poll(() => late.net.peers().length, { timeout: 30_000 }).toBeGreaterThan(0);
		await late.syncNow();
		await expect
			.poll(() => late.chain.height >= members[0]!.chain.height - 1 && late.chain.batchCount >= 1, {
				timeout: 60_000
			})
			.toBe(true);
		expect(late.chain.ledger.patientBlock(alice.publicKey)!.leaves[0]!.entries).toHaveLength(1);
	}, 120_000);

	it('hands the consensus group over at epoch boundaries, and the new groups pin keyblocks and batches', async () => {
		// Every online member mines now, so the next groups seat all three (candidates are the institutions
		// seen on chain within the presence window, ranked by lifetime reputation).
		for (const member of members) member.startMining();
		const epochsBefore = members[0]!.chain.epochs;
		await expect
			.poll(() => Math.min(...nodes.map((n) => n.chain.epochs)), { timeout: 150_000, interval: 500 })
			.toBeGreaterThanOrEqual(epochsBefore + 2);
		const reference = members[0]!.chain;
		const epochs = reference.epochs;
		for (const node of nodes)
			for (let epoch = 0; epoch < epochs; epoch++)
				expect(node.chain.groupOfEpoch(epoch)!.hash).toEqual(reference.groupOfEpoch(epoch)!.hash);
		// Later groups are institutions seen mining within the presence window, weighted by lifetime R.
		for (let epoch = 1; epoch < epochs; epoch++) {
			const group = reference.groupOfEpoch(epoch)!;
			expect(group.epoch).toBe(epoch);
			expect(group.hash).not.toEqual(reference.groupOfEpoch(0)!.hash);
			expect(group.size).toBeLessThanOrEqual(genesis.consensusGroupSize);
			const miners = new Set<string>();
			const end = epoch * genesis.epochLength;
			const from = Math.max(1, end - PRESENCE_WINDOW_EPOCHS * genesis.epochLength + 1);
			for (let h = from; h <= end; h++)
				miners.add(bytesToHex(reference.ledger.keyblock(h)!.block.header.miner));
			// Members are also seen through the batches they proposed (rounds up to the epoch before).
			for (let n = 1; n <= reference.batchCount; n++) {
				const { batch } = reference.batch(n)!;
				if (batch.round >= from && batch.round <= end - genesis.epochLength)
					miners.add(bytesToHex(batch.institution));
			}
			for (const member of group.members) expect(miners.has(bytesToHex(member.id))).toBe(true);
		}
		// With three miners the group grew beyond Aster alone; each epoch's keyblocks were pinned under
		// that epoch's group (chain-state checks every pin against groupFor(height) on apply).
		const later = Array.from({ length: epochs - epochsBefore }, (_, i) =>
			reference.groupOfEpoch(epochsBefore + i)!
		);
		expect(Math.max(...later.map((g) => g.size))).toBeGreaterThanOrEqual(2);
		expect(reference.groupFor((epochs - 1) * genesis.epochLength + 1)).toBe(
			reference.groupOfEpoch(epochs - 1)
		);

		// A record submitted now is pinned by the group in office and attached.
		const tx = await medicalAtAster('E_A(E_P(visit in a later epoch))', patient.chain.height);
		await patient.submit(tx);
		await expect
			.poll(() => nodes.every((n) => n.chain.ledger.recordLocation(transactionId(tx.body)) !== undefined), {
				timeout: 90_000,
				interval: 500
			})
			.toBe(true);
		for (const member of members) member.stopMining();
	}, 300_000);

	it('rejects a forged keyblock from a peer and penalises that peer', async () => {
		const forger = await network.peerNet();
		forger.subscribe('keyblocks', async () => 'ignore');
		// Linked to every member, so each of them judges the forgery (not only a peer that ignores it).
		await expect
			.poll(() => members.every((m) => forger.peers().includes(m.net.peerId)), { timeout: 60_000 })
			.toBe(true);
		// Every miner stops and the nodes settle on one tip: a forged block for the next height is then
		// judged by its certificate on every node, not dropped as stale by one that moved on.
		for (const member of members) member.stopMining();
		let settled = -1;
		await expect
			.poll(
				async () => {
					const heights = new Set(nodes.map((node) => node.chain.height));
					const tip = heights.size === 1 ? [...heights][0]! : -1;
					const stable = tip >= 0 && tip === settled;
					settled = tip;
					return stable;
				},
				{ timeout: 30_000, interval: 3000 }
			)
			.toBe(true);
		const height = members[0]!.chain.height;
		const real = members[0]!.chain.ledger.keyblock(height)!.block;
		// A pinned keyblock whose certificate is garbage: structurally fine, cryptographically not.
		const forged = {
			...real,
			header: { ...real.header, height: height + 1 },
			pin: new Uint8Array(200).fill(7)
		};
		const before = members.map((m) => m.net.stats().rejected);
		for (let i = 0; i < 8; i++)
			await forger.publish(
				'keyblocks',
				encodeKeyblock({ ...forged, header: { ...forged.header, nonce: BigInt(i) } })
			);
		await expect
			.poll(() => members.some((m, i) => m.net.stats().rejected > before[i]!), { timeout: 30_000 })
			.toBe(true);
		for (const node of nodes) expect(node.chain.height).toBeLessThanOrEqual(height + 1);
	}, 120_000);
});
