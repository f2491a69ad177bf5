/** Real libp2p on loopback: three nodes meet through a relay; the one on another genesis is refused. */
import '../node/polyfills.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { startRelay } from '../../../relay/relay.ts';
import { devGenesis } from '../../../tests/fixtures/genesis-dev.ts';
import { genesisFingerprint } from '../core/genesis.ts';
import { servePeerDirectory } from '../net/directory.ts';
import { createPeerNet } from '../net/peer-net.node.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { guardGenesis, type ForeignPeer } from './genesis-guard.ts';

const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
	for (const stop of stops.reverse()) await stop();
});

describe('genesis guard', () => {
	it('keeps peers of the same genesis and refuses one on another, saying so', async () => {
		const relay = await startRelay({ port: 0 });
		stops.push(() => relay.stop());
		await servePeerDirectory(relay.node);
		const ours = devGenesis();
		const theirs = devGenesis({ network: 'spchain-other' });
		const nets: PeerNet[] = [];
		const refusals = new Map<PeerNet, ForeignPeer[]>();
		for (const genesis of [ours, ours, theirs]) {
			const net = await createPeerNet({ bootstrap: relay.addresses });
			stops.push(() => net.stop());
			const seen: ForeignPeer[] = [];
			refusals.set(net, seen);
			guardGenesis(net, genesis, (r) => seen.push(r));
			nets.push(net);
		}
		const [a, b, foreign] = nets as [PeerNet, PeerNet, PeerNet];
		// Discovery goes through the relay's directory with back-off (1 s · 2^failures, at most a minute per
		// peer): on a loaded machine the first meeting can take minutes. Whichever of ours checks the
		// foreign node first refuses it; the foreign node may have refused and cut off the other one
		// before that one could check it (a clean-clone run saw it happen to a), so either says so.
		const refusalOfForeign = () =>
			[a, b].flatMap((net) => refusals.get(net)!).find((r) => r.peer === foreign.peerId);
		await expect.poll(refusalOfForeign, { timeout: 180_000, interval: 500 }).toBeDefined();
		const refusal = refusalOfForeign()!;
		expect(refusal.message).toContain('another network');
		expect(refusal.message).toContain(genesisFingerprint(ours));
		await expect
			.poll(() => a.peers().includes(foreign.peerId) || b.peers().includes(foreign.peerId), {
				timeout: 30_000,
				interval: 500
			})
			.toBe(false);
		await expect.poll(() => a.peers().includes(b.peerId), { timeout: 90_000, interval: 500 }).toBe(true);
		expect(refusals.get(a)!.some((r) => r.peer === b.peerId)).toBe(false);
		// The foreign node says so too, of whichever of ours it checked before being cut off.
		await expect
			.poll(() => refusals.get(foreign)!.some((r) => r.peer === a.peerId || r.peer === b.peerId), {
				timeout: 30_000,
				interval: 500
			})
			.toBe(true);
	}, 360_000);
});
