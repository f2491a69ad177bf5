/**
 * The peer guard over libp2p's in-memory transport (real libp2p, noise, yamux; no sockets): the
 * consortium's own peers keep their connections under a crowd of unknown identities, and strangers
 * get the smaller budget.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { addressOf, memoryNodes } from '../../../tests/fixtures/memory-net.ts';
import type { SpchainNode } from './net-core.ts';

const { start, stopAll } = memoryNodes();
afterEach(stopAll);

const connected = (from: SpchainNode, to: SpchainNode) =>
	from.net.connections().some((c) => c.peer === to.net.peerId);

describe('peer guard', () => {
	it('keeps a protected member connected under a flood of unknown identities', async () => {
		const protectedIds = new Set<string>();
		const hub = await start({
			isProtected: (peer) => protectedIds.has(peer),
			limits: { maxConnections: 12, maxStrangerConnections: 3 }
		});
		const member = await start();
		protectedIds.add(member.net.peerId);
		await member.node.dial(multiaddr(addressOf(hub)));
		await expect.poll(() => connected(hub, member), { timeout: 10_000 }).toBe(true);

		const strangers: SpchainNode[] = [];
		for (let i = 0; i < 10; i++) strangers.push(await start({ bootstrap: [addressOf(hub)] }));
		// every stranger tried (keep-alive retries with back-off); at most 3 are let in at any time
		await expect
			.poll(() => strangers.filter((s) => connected(hub, s)).length, { timeout: 15_000 })
			.toBeGreaterThan(0);
		await expect
			.poll(() => strangers.filter((s) => connected(hub, s)).length, { timeout: 15_000 })
			.toBeLessThanOrEqual(3);
		expect(connected(hub, member)).toBe(true);
		const tags = (await hub.node.peerStore.get(member.node.peerId)).tags;
		expect(tags.get('spchain-protected')?.value).toBe(100);

		// the member drops and comes back while the strangers hold their share: a slot is still free
		await hub.node.hangUp(member.node.peerId);
		await expect.poll(() => connected(hub, member), { timeout: 10_000 }).toBe(false);
		await member.node.dial(multiaddr(addressOf(hub)));
		await expect.poll(() => connected(hub, member), { timeout: 10_000 }).toBe(true);
	}, 60_000);

	it('gives a stranger the base budget and a protected peer protectedFactor times as much', async () => {
		const hub = await start({
			isProtected: (peer) => peer === 'friend',
			limits: { gossipPerSecond: 0.001, gossipBurst: 3, protectedFactor: 4 }
		});
		const guard = hub.node.services.guard;
		const taken = (peer: string) => {
			let n = 0;
			while (guard.takeGossip(peer, 10) && n < 100) n++;
			return n;
		};
		expect(taken('stranger-1')).toBe(3);
		expect(taken('friend')).toBe(12);
		// each message over budget costs the sender a little: a burst is no ban
		expect(guard.scores.points('stranger-1')).toBeGreaterThan(0);
		expect(guard.isBanned('stranger-1')).toBe(false);
	});
});
