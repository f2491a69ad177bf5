/**
 * Light sync over real libp2p on loopback (a relay with its peer directory, two Node PeerNets): a full
 * node holding a small real chain (tests/fixtures/small-chain.ts) serves a light client, which ends up
 * with the group's batch header and alice's block, her record verified against the pinned batch with
 * no journal on the client; a peer that serves a tampered proof is refused.
 */
import '../node/polyfills.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type Relay } from '../../../relay/relay.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { loadVerificationKey } from '../crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../crypto/batch-verifier.ts';
import { createNodeProver } from '../crypto/prover.node.ts';
import { servePeerDirectory } from '../net/directory.ts';
import { createPeerNet } from '../net/peer-net.node.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { openMemoryStore } from '../store/memory-store.ts';
import { alice, buildSmallChain, genesis, group } from '../../../tests/fixtures/small-chain.ts';
import { patientKeys } from '../../../tests/fixtures/chain.ts';
import type { ChainState } from './chain-state.ts';
import { decodeInclusionProof, encodeInclusionProof } from '../core/light-proof.ts';
import { LightClient } from './light-client.ts';
import { LIGHT_PROTOCOL, lightFrames, lightSyncFrom, serveLight } from './light-sync.ts';

const TAMPERED = '/spchain/light-tampered/1.0.0';
let relay: Relay;
let server: PeerNet;
let phone: PeerNet;
let chain: ChainState;
let verifier: Groth16BatchVerifier;

beforeAll(async () => {
	const prover = await createNodeProver();
	verifier = await Groth16BatchVerifier.create(await loadVerificationKey());
	({ chain } = await buildSmallChain(openMemoryStore(), prover, verifier));
	await prover.close();
	relay = await startRelay({ port: 0 });
	await servePeerDirectory(relay.node);
	server = await createPeerNet({ bootstrap: relay.addresses });
	phone = await createPeerNet({ bootstrap: relay.addresses });
	serveLight(server, chain);
	// The same frames with the record's inclusion proof bent.
	server.handle(TAMPERED, async function* (request) {
		const o = decodeCanonical(request) as {
			keyblocks: number;
			handovers: number;
			batches: number;
			registry: number;
			patient: Uint8Array;
		};
		for await (const raw of lightFrames(chain, o)) {
			const f = decodeCanonical(raw) as { type: string; bytes: Uint8Array };
			if (f.type === 'proof') {
				// A well-formed proof that leads elsewhere: one more level of tree above the real root.
				const proof = decodeInclusionProof(f.bytes);
				proof.path.push({ sibling: new Uint8Array(32).fill(7), left: false });
				yield encodeCanonical({ type: f.type, bytes: encodeInclusionProof(proof) });
			} else yield raw;
		}
	});
}, 180_000);

afterAll(async () => {
	await Promise.all([server?.stop(), phone?.stop()]);
	await relay?.stop();
});

describe('light sync over libp2p', () => {
	it('the phone finds the full node through the relay', async () => {
		await expect
			.poll(() => phone.peers().includes(server.peerId), { timeout: 40_000, interval: 250 })
			.toBe(true);
	});

	it('gets the batch headers and alice’s block, and verifies her record against the pinned batch', async () => {
		const light = new LightClient(genesis, group);
		const result = await lightSyncFrom(phone, light, server.peerId, alice.publicKey, verifier);
		expect(result).toMatchObject({ handovers: 0, batches: 1, records: 1 });
		expect(result.block!.leaves[0]!.entries[0]!.tx.body.patient).toEqual(alice.publicKey);
		expect(light.batchCount).toBe(1);
		// What the phone keeps is the batch header, not the journal the full node holds.
		let journal = 0;
		for await (const fact of chain.journal()) journal += fact.bytes.length;
		expect(light.storedBytes).toBeLessThan(journal / 4);
		// A second sync sends nothing the client already holds.
		const again = await lightSyncFrom(phone, light, server.peerId, alice.publicKey, verifier);
		expect(again).toMatchObject({ handovers: 0, batches: 0, records: 1 });
		// A patient the node does not know: no block.
		const bob = await lightSyncFrom(phone, light, server.peerId, patientKeys('bob').publicKey, verifier);
		expect(bob.block).toBeUndefined();
	});

	it('refuses a record whose inclusion proof was tampered with', async () => {
		const light = new LightClient(genesis, group);
		const tampered = {
			...phone,
			request: (peer: string, _protocol: string, request: Uint8Array, options?: { signal?: AbortSignal }) =>
				phone.request(peer, TAMPERED, request, options),
			penalise: () => {}
		} as PeerNet;
		await expect(
			lightSyncFrom(tampered, light, server.peerId, alice.publicKey, verifier)
		).rejects.toMatchObject({ code: 'inclusion-root' });
		// The header verified before the bad proof stays; the record was not accepted.
		expect(light.batchCount).toBe(1);
		expect(LIGHT_PROTOCOL).toMatch(/^\/spchain\/light\//);
	});
});
