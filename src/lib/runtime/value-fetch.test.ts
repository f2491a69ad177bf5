/**
 * Fetching a consensus value by hash over real libp2p on loopback (value-fetch.ts): a member that
 * missed a keyblock candidate or a batch proposal gets it from a peer that holds it; a peer that
 * answers with other bytes is penalised and its answer not taken; nobody holding it gives null.
 */
import '../node/polyfills.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type Relay } from '../../../relay/relay.ts';
import { equalBytes } from '../core/bytes.ts';
import { proposalHash, type BatchProposal } from '../core/gossip.ts';
import { keyblockHash, type Keyblock } from '../core/keyblock.ts';
import { servePeerDirectory } from '../net/directory.ts';
import { createPeerNet } from '../net/peer-net.node.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { openMemoryStore } from '../store/memory-store.ts';
import {
	clinics,
	medicalTx,
	mineNext,
	patientKeys,
	soundVerifier,
	testGenesis
} from '../../../tests/fixtures/chain.ts';
import { ChainState } from './chain-state.ts';
import { genesisGroup } from './genesis-group.ts';
import { fetchValue, serveValues } from './value-fetch.ts';

const genesis = testGenesis();
let relay: Relay;
let holder: PeerNet;
let liar: PeerNet;
let asker: PeerNet;
let candidate: Keyblock;
let rival: Keyblock;
const proposal: BatchProposal = {
	sequence: 1,
	round: 0,
	institution: clinics[0]!.institution.id,
	transactions: [medicalTx(genesis, patientKeys('fetch alice'), clinics[0]!, 1, 'a record')]
};

beforeAll(async () => {
	const chain = await ChainState.open({
		genesis,
		store: openMemoryStore(),
		group: genesisGroup(genesis),
		verifier: soundVerifier
	});
	candidate = mineNext(chain.ledger, clinics[0]!);
	rival = mineNext(chain.ledger, clinics[1]!);
	relay = await startRelay({ port: 0 });
	await servePeerDirectory(relay.node);
	holder = await createPeerNet({ bootstrap: relay.addresses });
	liar = await createPeerNet({ bootstrap: relay.addresses });
	// Dialled directly too: finding them through the relay's directory is another test's subject.
	asker = await createPeerNet({
		bootstrap: [...relay.addresses, holder.addresses()[0]!, liar.addresses()[0]!]
	});
	serveValues(holder, {
		keyblockCandidate: (hash) => (equalBytes(hash, keyblockHash(candidate.header)) ? candidate : undefined),
		proposal: (hash) => (equalBytes(hash, proposalHash(proposal)) ? proposal : undefined)
	});
	// Answers every keyblock request with a real, valid keyblock: not the one asked for.
	serveValues(liar, { keyblockCandidate: () => rival, proposal: () => undefined });
}, 120_000);

afterAll(async () => {
	await Promise.all([holder, liar, asker].map((net) => net?.stop()));
	await relay?.stop();
});

describe('a consensus value fetched by hash', () => {
	it('comes from the peer holding it; the peer answering with another value is penalised', async () => {
		await expect
			.poll(() => [holder.peerId, liar.peerId].every((p) => asker.peers().includes(p)), {
				timeout: 40_000,
				interval: 250
			})
			.toBe(true);
		const penalised: string[] = [];
		const net = { ...asker, peers: () => asker.peers(), request: asker.request.bind(asker) };
		net.penalise = (peer: string) => void penalised.push(peer);
		const fetched = await fetchValue(net, 'keyblock', keyblockHash(candidate.header), 16);
		expect(fetched && keyblockHash(fetched.header)).toEqual(keyblockHash(candidate.header));
		// The liar was asked too (every peer is, at once); whether its answer came before the holder's
		// or after, it is never the result. Ask it alone to see it charged.
		const alone = { ...net, peers: () => [liar.peerId] };
		expect(await fetchValue(alone, 'keyblock', keyblockHash(candidate.header), 16)).toBeNull();
		expect(penalised).toContain(liar.peerId);
		expect(penalised).not.toContain(holder.peerId);
	}, 60_000);

	it('a batch proposal the same way, and null when no peer holds the value', async () => {
		const net = {
			...asker,
			peers: () => asker.peers(),
			request: asker.request.bind(asker),
			penalise: () => {}
		};
		const fetched = await fetchValue(net, 'proposal', proposalHash(proposal));
		expect(fetched && proposalHash(fetched)).toEqual(proposalHash(proposal));
		expect(await fetchValue(net, 'proposal', new Uint8Array(32).fill(9))).toBeNull();
	}, 60_000);
});
