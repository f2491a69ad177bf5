/**
 * Discovery and keep-alive over libp2p's in-memory transport: two nodes that only know a third find
 * each other through its member list and connect directly; a bootstrap peer that is down at start and
 * one that restarts are reached again (KEEP_ALIVE tag, libp2p's reconnect queue, then our back-off).
 */
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { KEEP_ALIVE } from '@libp2p/interface';
import { afterEach, describe, expect, it } from 'vitest';
import {
	addressOf,
	memoryAddress,
	memoryNodes,
	startMemoryNode
} from '../../../tests/fixtures/memory-net.ts';
import { dialCandidates } from './discovery-service.ts';

const { start, stopAll } = memoryNodes();
afterEach(stopAll);

describe('discovery service', () => {
	it('finds peers through a member list and connects to them directly', async () => {
		const hub = await start();
		const a = await start({ bootstrap: [addressOf(hub)] });
		const b = await start({ bootstrap: [addressOf(hub)] });
		await expect
			.poll(() => [hub, a, b].map((n) => n.net.peers().length), { timeout: 20_000, interval: 200 })
			.toEqual([2, 2, 2]);
		expect(a.net.peers()).toContain(b.net.peerId);
		expect(a.net.connections().some((c) => c.peer === b.net.peerId && c.direct)).toBe(true);
	}, 30_000);

	it('tries at most four addresses per entry, direct ones first, then WebRTC through the relay', () => {
		const entry = {
			id: 'X',
			addrs: [
				'/ip4/1.2.3.4/tcp/1/ws',
				'/ip4/9.9.9.9/tcp/1/ws/p2p-circuit/webrtc',
				...Array(9).fill('/memory/m')
			]
		};
		const candidates = dialCandidates(entry, '/ip4/5.6.7.8/tcp/2/ws/p2p/R');
		expect(candidates).toHaveLength(4);
		expect(candidates[0]).toBe('/ip4/1.2.3.4/tcp/1/ws/p2p/X');
		expect(candidates.every((c) => c.endsWith('/p2p/X'))).toBe(true);
	});
});

describe('keep-alive service', () => {
	it('reaches a bootstrap peer that starts late, and again after it restarts', async () => {
		const key = await generateKeyPair('Ed25519');
		const listen = [memoryAddress()];
		const first = await startMemoryNode({ listen, privateKey: privateKeyToProtobuf(key) });
		const address = addressOf(first);
		await first.net.stop(); // down before the client starts
		const client = await start({ bootstrap: [address] });
		const toBootstrap = () => client.net.connections().some((c) => address.endsWith(c.peer));
		const tags = async () => (await client.node.peerStore.get(first.node.peerId)).tags;
		await expect.poll(async () => (await tags()).has(KEEP_ALIVE), { timeout: 5000 }).toBe(true);

		const second = await start({ listen, privateKey: privateKeyToProtobuf(key) });
		await expect.poll(toBootstrap, { timeout: 20_000, interval: 200 }).toBe(true);
		await second.net.stop();
		await expect.poll(toBootstrap, { timeout: 10_000 }).toBe(false);
		await start({ listen, privateKey: privateKeyToProtobuf(key) });
		await expect.poll(toBootstrap, { timeout: 20_000, interval: 200 }).toBe(true);
	}, 60_000);
});
