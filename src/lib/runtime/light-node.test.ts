/**
 * A phone's light node against full nodes' chains (real PoW keyblocks, BLS pins, patient signatures;
 * proofs from the sound test verifier): what it keeps grows with its own patient's records, not with
 * other patients' registrations and records; it keeps no chain table rows; a reopened node has its
 * verified block without a network; and a serving peer that bends a record's path is refused.
 */
import { describe, expect, it } from 'vitest';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { decodeInclusionProof, encodeInclusionProof } from '../core/light-proof.ts';
import { batchHash, pinnedBatchId, type PinnedBatch } from '../core/pinning.ts';
import { transactionId, type MedicalBody, type Transaction } from '../core/transaction.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { openMemoryStore } from '../store/memory-store.ts';
import type { Store } from '../store/store.ts';
import {
	leafProof,
	medicalTx,
	mineNext,
	patientKeys,
	registerTx,
	soundVerifier
} from '../../../tests/fixtures/chain.ts';
import { certify } from '../../../tests/fixtures/pins.ts';
import {
	aster,
	birch,
	cedar,
	clock,
	genesis,
	group,
	NOW,
	pinned
} from '../../../tests/fixtures/small-chain.ts';
import { ChainState } from './chain-state.ts';
import { LightNode } from './light-node.ts';
import { lightFrames, type LightRequest } from './light-sync.ts';

const alice = patientKeys('light alice');

/**
 * A full node's chain: alice and `others` patients registered in keyblock 1, then one pinned batch
 * with alice's `own` records and one record of each other patient, attached behind Aster's leaves.
 */
async function chainWith(own: number, others: number): Promise<ChainState> {
	const chain = await ChainState.open({
		genesis,
		store: openMemoryStore(),
		group,
		verifier: soundVerifier,
		clock
	});
	const patients = Array.from({ length: others }, (_, i) => patientKeys(`light other ${i}`));
	const registers = [alice, ...patients].map((p, i) =>
		registerTx(genesis, p, [aster, birch, cedar][i % 3]!, 1)
	);
	await chain.apply({ type: 'keyblock', block: pinned(mineNext(chain.ledger, aster, registers)) });
	await chain.apply({ type: 'keyblock', block: pinned(mineNext(chain.ledger, birch, [], NOW - 1000)) });
	const records = new Map<Transaction<MedicalBody>[], typeof alice>();
	records.set(
		Array.from({ length: own }, (_, i) => medicalTx(genesis, alice, aster, 2, `alice record ${i}`)),
		alice
	);
	for (const [i, p] of patients.entries()) records.set([medicalTx(genesis, p, aster, 2, `other ${i}`)], p);
	const batch = {
		round: 2,
		institution: aster.institution.id,
		transactions: [...records.keys()].flat().map((tx) => transactionId(tx.body))
	};
	const batchPin: PinnedBatch = {
		sequence: 1,
		batch,
		certificate: certify(group, [aster, birch, cedar], 'transactions', 1, batchHash(batch))
	};
	await chain.apply({ type: 'batch', pinned: batchPin });
	for (const [txs, patient] of records) {
		if (txs.length === 0) continue;
		const entries = txs.map((tx) => ({ tx, pin: pinnedBatchId(batchPin) }));
		await chain.apply({
			type: 'attachment',
			attachment: {
				patient: patient.publicKey,
				institution: aster.institution.id,
				entries,
				leafProof: leafProof(patient.publicKey, aster, entries)
			}
		});
	}
	return chain;
}

/** A network of one full node serving `chain` to light clients (its frames passed through `bend`). */
function servingNet(chain: ChainState, bend: (frame: Uint8Array) => Uint8Array = (f) => f): PeerNet {
	return {
		peerId: 'phone',
		peers: () => ['full node'],
		async *request(_peer: string, _protocol: string, request: Uint8Array) {
			for await (const frame of lightFrames(chain, decodeCanonical(request) as unknown as LightRequest))
				yield bend(frame);
		},
		publish: async () => {},
		penalise: () => {},
		addEventListener: () => {},
		removeEventListener: () => {}
	} as unknown as PeerNet;
}

const offline = { ...servingNet(undefined as never), peers: () => [] } as unknown as PeerNet;

async function sync(chain: ChainState, store: Store = openMemoryStore()) {
	const light = await LightNode.open({
		genesis,
		store,
		net: servingNet(chain),
		verifier: soundVerifier,
		patient: alice.publicKey,
		syncIntervalMs: 60_000
	});
	expect(await light.syncNow()).toBe(true);
	await light.stop();
	return { light, store };
}

async function rows(store: Store, table: Parameters<Store['list']>[0]): Promise<number> {
	return (await store.list(table)).length;
}

describe('a light node on the phone', () => {
	it('keeps what grows with its own history, not with other patients’', async () => {
		const crowdChain = await chainWith(1, 40);
		const alone = await sync(await chainWith(1, 0));
		const crowd = await sync(crowdChain);
		const mine = await sync(await chainWith(6, 40));
		for (const { light } of [alone, crowd, mine])
			expect(light.status()).toMatchObject({ keyblocks: 2, batches: 1, handovers: 0 });
		expect(alone.light.status().records).toBe(1);
		expect(mine.light.status().records).toBe(6);

		// Forty other patients registered and wrote a record each: the phone keeps the same headers, its
		// record's Merkle path six levels longer (a sibling hash and a flag a level, ~50 encoded bytes).
		const bytes = (n: { light: LightNode }) => n.light.status().storedBytes;
		expect(bytes(crowd) - bytes(alone)).toBeGreaterThanOrEqual(0);
		expect(bytes(crowd) - bytes(alone)).toBeLessThan(6 * 50);
		// Five more records of its own: each one's transaction and path.
		expect(bytes(mine) - bytes(crowd)).toBeGreaterThan(5 * 200);
		// The full chain of the crowd is far bigger than what the phone keeps of it.
		let journal = 0;
		for await (const fact of crowdChain.journal()) journal += fact.bytes.length;
		expect(bytes(crowd)).toBeLessThan(journal / 10);

		// What it reports is what its store holds, and none of it is a full node's chain table.
		const meta = (await crowd.store.list('meta')).filter(([key]) => key.startsWith('light/'));
		expect(meta.reduce((sum, [, value]) => sum + value.length, 0)).toBe(bytes(crowd));
		for (const table of ['keyblocks', 'transactions', 'certificates', 'patientBlocks', 'handovers'] as const)
			expect(await rows(crowd.store, table)).toBe(0);
	}, 300_000); // three chains of real PoW keyblocks and BLS pins, slow on a loaded machine

	it('reopens what it kept, verified again, with no network', async () => {
		const { light, store } = await sync(await chainWith(3, 5));
		const reopened = await LightNode.open({
			genesis,
			store,
			net: offline,
			verifier: soundVerifier,
			patient: alice.publicKey,
			syncIntervalMs: 60_000
		});
		await reopened.stop();
		expect(reopened.status()).toEqual({ ...light.status(), peers: 0 });
		const ids = reopened.block!.leaves.flatMap((l) => l.entries.map((e) => transactionId(e.tx.body)));
		expect(ids).toHaveLength(3);
		for (const id of ids) expect(reopened.isPinned(id)).toBe(true);
		expect(reopened.client.timeOf(2)).toBe(NOW - 1000);
	});

	it('refuses a record whose path a serving peer bent, and keeps no block from it', async () => {
		const chain = await chainWith(2, 5);
		const bent = servingNet(chain, (raw) => {
			const frame = decodeCanonical(raw) as { type: string; bytes: Uint8Array };
			if (frame.type !== 'proof') return raw;
			const proof = decodeInclusionProof(frame.bytes);
			proof.path[0] = { ...proof.path[0]!, left: !proof.path[0]!.left };
			return encodeCanonical({ type: 'proof', bytes: encodeInclusionProof(proof) });
		});
		const errors: string[] = [];
		const store = openMemoryStore();
		const light = await LightNode.open({
			genesis,
			store,
			net: bent,
			verifier: soundVerifier,
			patient: alice.publicKey,
			syncIntervalMs: 60_000
		});
		light.on((event) => event.type === 'error' && errors.push(event.message));
		expect(await light.syncNow()).toBe(false);
		await light.stop();
		expect(light.block).toBeUndefined();
		expect(errors.join('\n')).toMatch(/not in the pinned batch/);
		// The keyblocks and batch header it verified before the bad path are kept.
		expect(light.status()).toMatchObject({ keyblocks: 2, batches: 1, records: 0 });
		expect(await store.get('meta', 'light/block')).toBeUndefined();
	});
});
