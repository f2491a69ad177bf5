/**
 * The gossip service over libp2p's in-memory transport: gossipsub's own score counts rejected
 * messages and bans their sender, a burst of forgeries costs a bounded number of checks, a message
 * above the limit is refused before any validator (and counted against its sender), and a frame above
 * twice the message limit (which gossipsub's decoder drops) is charged to its sender.
 */
import * as lp from 'it-length-prefixed';
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { addressOf, memoryNodes } from '../../../tests/fixtures/memory-net.ts';
import { topicName } from './gossip-service.ts';

const MAX = 16 * 1024;
const bytes = (text: string) => new TextEncoder().encode(text);
const { start, stopAll } = memoryNodes({ maxMessageBytes: MAX });
afterEach(stopAll);

type Started = Awaited<ReturnType<typeof start>>;

/** Publishes `prefix <now>` from `sender` until `heard()`: the hub then receives the sender's gossip. */
async function untilHeard(sender: Started, prefix: string, heard: () => boolean): Promise<void> {
	await expect
		.poll(
			async () => {
				await sender.net.publish('consensus', bytes(`${prefix} ${Date.now()}`));
				return heard();
			},
			{ timeout: 15_000, interval: 300 }
		)
		.toBe(true);
}

describe('gossip service', () => {
	it('bans a sender of rejected messages through gossipsub’s score, and accepts the good ones', async () => {
		const hub = await start();
		const sender = await start({ bootstrap: [addressOf(hub)] });
		const got: string[] = [];
		hub.net.subscribe('consensus', async (data) => {
			const text = new TextDecoder().decode(data);
			if (text.startsWith('bad')) return 'reject';
			got.push(text);
			return 'accept';
		});
		sender.net.subscribe('consensus', async () => 'accept');
		await untilHeard(sender, 'good', () => got.length > 0);
		expect(hub.net.stats().banned).toEqual([]);
		// gossipsub counts each reject (squared): rejectsToBan (5) of them reach the ban threshold
		for (let i = 0; i < 8 && !hub.net.stats().banned.includes(sender.net.peerId); i++) {
			await sender.net.publish('consensus', bytes(`bad ${i}`));
			await new Promise((resolve) => setTimeout(resolve, 100));
		}
		await expect.poll(() => hub.net.stats().banned, { timeout: 10_000 }).toContain(sender.net.peerId);
		expect(hub.net.stats().rejected).toBeGreaterThanOrEqual(4);
		expect(hub.net.stats().rejected).toBeLessThanOrEqual(6);
		await expect.poll(() => hub.net.connections().some((c) => c.peer === sender.net.peerId)).toBe(false);
	}, 40_000);

	it('checks a bounded number of a burst of forgeries before the sender is banned', async () => {
		const hub = await start();
		const sender = await start({ bootstrap: [addressOf(hub)] });
		let checked = 0;
		hub.net.subscribe('consensus', async (data) => {
			if (new TextDecoder().decode(data).startsWith('probe')) return 'ignore';
			checked++;
			// an expensive check (a pairing takes milliseconds): the burst queues up behind it
			await new Promise((resolve) => setTimeout(resolve, 20));
			return 'reject';
		});
		sender.net.subscribe('consensus', async () => 'accept');
		// wait until the hub receives the sender's gossip at all
		await untilHeard(sender, 'probe', () => hub.net.stats().received > 0);
		// 300 forgeries at once, well inside the stranger's rate budget (a burst of 500)
		await Promise.all(
			Array.from({ length: 300 }, (_, i) => sender.net.publish('consensus', bytes(`forged ${i}`)))
		);
		await expect.poll(() => hub.net.stats().banned, { timeout: 15_000 }).toContain(sender.net.peerId);
		await new Promise((resolve) => setTimeout(resolve, 500));
		// five rejects ban; at most the peer's in-flight share (16) was being checked meanwhile
		expect(checked).toBeGreaterThanOrEqual(5);
		expect(checked).toBeLessThanOrEqual(5 + 16);
		expect(hub.net.stats().rateLimited).toBeGreaterThan(0);
	}, 40_000);

	it('refuses a message above the limit before any validator, and bans its sender through the score', async () => {
		const hub = await start();
		const sender = await start({ bootstrap: [addressOf(hub)] });
		let probes = 0;
		let others = 0;
		hub.net.subscribe('consensus', async (data) => {
			if (new TextDecoder().decode(data).startsWith('probe')) probes++;
			else others++;
			return 'ignore';
		});
		sender.net.subscribe('consensus', async () => 'accept');
		await untilHeard(sender, 'probe', () => probes > 0);
		// What the hub hashes for message ids (gossipsub keeps its id function as a private field).
		const hashed: number[] = [];
		const hubPubsub = hub.node.services.pubsub as unknown as {
			msgIdFn: (m: { data: Uint8Array }) => unknown;
		};
		const msgIdFn = hubPubsub.msgIdFn;
		hubPubsub.msgIdFn = (message) => (hashed.push(message.data.length), msgIdFn(message));
		// Gossipsub itself publishes past our limit (PeerNet.publish would refuse): a frame below twice
		// the limit, which the decoder lets through to the gate.
		const pubsub = sender.node.services.pubsub;
		for (let i = 0; i < 12 && !hub.net.stats().banned.includes(sender.net.peerId); i++) {
			await pubsub.publish(topicName('consensus'), new Uint8Array(MAX + 1 + i)).catch(() => undefined);
			await new Promise((resolve) => setTimeout(resolve, 150));
		}
		await expect.poll(() => hub.net.stats().banned, { timeout: 10_000 }).toContain(sender.net.peerId);
		expect(others).toBe(0);
		expect(hashed.filter((length) => length > MAX)).toEqual([]);
		expect(hub.net.stats().rejected).toBeGreaterThanOrEqual(4);
		expect(hub.net.stats().oversizeFrames).toBe(0);
	}, 40_000);

	it('charges the sender of a frame above twice the message limit, and bans it on the second', async () => {
		const hub = await start();
		hub.net.subscribe('transactions', async () => 'accept');
		const attacker = await start();
		const connection = await attacker.node.dial(multiaddr(addressOf(hub)));
		for (let frame = 1; frame <= 2; frame++) {
			const stream = await connection.newStream('/meshsub/1.2.0');
			stream.send(lp.encode.single(new Uint8Array(3 * MAX + 64 * 1024)));
			await expect.poll(() => hub.net.stats().oversizeFrames, { timeout: 10_000 }).toBe(frame);
			if (frame === 1) {
				expect(hub.node.services.guard.scores.points(attacker.net.peerId)).toBeGreaterThanOrEqual(59);
				expect(hub.net.stats().banned).toEqual([]);
			}
		}
		expect(hub.net.stats().banned).toEqual([attacker.net.peerId]);
	}, 40_000);
});
