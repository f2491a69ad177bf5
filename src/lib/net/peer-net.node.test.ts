/**
 * PeerNet integration in Node: a real relay on loopback (serving the peer directory) and three Node
 * PeerNets that find each other through it, then gossip, stream, reject and ban over real libp2p.
 */
import '../node/polyfills.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay, type Relay } from '../../../relay/relay.ts';
import { servePeerDirectory } from './directory.ts';
import { createPeerNet } from './peer-net.node.ts';
import { MessageTooLargeError, RequestError, type PeerNet, type Topic } from './peer-net.ts';

const MAX = 64 * 1024;
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let relay: Relay;
const nets: PeerNet[] = [];
/** What each net's subscribers saw: `${topic}:${text}` from whom. */
const inbox = new Map<PeerNet, { topic: Topic; body: string; from: string }[]>();

const trio = () => nets as [PeerNet, PeerNet, PeerNet];

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
	const out: T[] = [];
	for await (const item of iterable) out.push(item);
	return out;
}

beforeAll(async () => {
	relay = await startRelay({ port: 0 });
	await servePeerDirectory(relay.node);
	for (let i = 0; i < 3; i++) {
		const net = await createPeerNet({ bootstrap: relay.addresses, maxMessageBytes: MAX });
		inbox.set(net, []);
		for (const topic of ['transactions', 'consensus'] as const)
			net.subscribe(topic, async (data, from) => {
				// the test's notion of invalid: a payload starting with "bad"
				if (text(data).startsWith('bad')) return 'reject';
				inbox.get(net)!.push({ topic, body: text(data), from });
				return 'accept';
			});
		net.handle('/spchain/test/count/1.0.0', async function* (request) {
			const n = Number(text(request));
			if (n < 0) throw new Error('negative count');
			for (let k = 0; k < n; k++) yield bytes(`frame ${k}`);
			if (n === 99) yield new Uint8Array(MAX + 1);
		});
		nets.push(net);
	}
});

afterAll(async () => {
	await Promise.all(nets.map((n) => n.stop()));
	await relay?.stop();
});

describe('PeerNet over libp2p in Node', () => {
	it('discovers peers through the relay and connects to them directly', async () => {
		await expect
			.poll(() => nets.map((n) => n.peers().length), { timeout: 40_000, interval: 250 })
			.toEqual([2, 2, 2]);
		for (const net of nets) {
			const others = nets.filter((n) => n !== net).map((n) => n.peerId);
			expect(net.peers().sort()).toEqual(others.sort());
			for (const peer of others) {
				const direct = net.connections().filter((c) => c.peer === peer && c.direct);
				expect(direct.length).toBeGreaterThan(0);
			}
		}
	});

	it('gossip reaches every peer, and a re-send after 2 s is delivered again', async () => {
		const [a, b, c] = trio();
		// meshes form on the heartbeat after subscriptions are exchanged
		await expect
			.poll(
				async () => {
					await a.publish('transactions', bytes(`hello ${Date.now()}`));
					return [b, c].every((n) => inbox.get(n)!.some((m) => m.body.startsWith('hello')));
				},
				{ timeout: 20_000, interval: 500 }
			)
			.toBe(true);
		const resend = bytes(`resend ${Date.now()}`);
		await c.publish('transactions', resend);
		await expect.poll(() => inbox.get(a)!.filter((m) => m.body === text(resend)).length).toBe(1);
		await expect.poll(() => inbox.get(b)!.filter((m) => m.body === text(resend)).length).toBe(1);
		expect(inbox.get(b)!.find((m) => m.body === text(resend))!.from).not.toBe(b.peerId);
		// the same bytes again inside the seen window are one message; after it, a new delivery
		await c.publish('transactions', resend);
		await sleep(300);
		expect(inbox.get(a)!.filter((m) => m.body === text(resend)).length).toBe(1);
		await sleep(2000);
		await c.publish('transactions', resend);
		await expect.poll(() => inbox.get(a)!.filter((m) => m.body === text(resend)).length).toBe(2);
		await expect.poll(() => inbox.get(b)!.filter((m) => m.body === text(resend)).length).toBe(2);
	});

	it('streams a response frame by frame and reports remote errors', async () => {
		const [a, b] = trio();
		const frames = await collect(a.request(b.peerId, '/spchain/test/count/1.0.0', bytes('5')));
		expect(frames.map(text)).toEqual(['frame 0', 'frame 1', 'frame 2', 'frame 3', 'frame 4']);
		await expect(collect(a.request(b.peerId, '/spchain/test/count/1.0.0', bytes('-1')))).rejects.toThrow(
			/negative count/
		);
		const error = await collect(a.request(b.peerId, '/spchain/test/count/1.0.0', bytes('-1'))).catch(
			(e) => e
		);
		expect(error).toBeInstanceOf(RequestError);
	});

	it('refuses oversize messages and frames', async () => {
		const [a, b] = trio();
		await expect(a.publish('transactions', new Uint8Array(MAX + 1))).rejects.toBeInstanceOf(
			MessageTooLargeError
		);
		await expect(
			collect(a.request(b.peerId, '/spchain/test/count/1.0.0', new Uint8Array(MAX + 1)))
		).rejects.toBeInstanceOf(MessageTooLargeError);
		// the responder refuses to send a frame above the limit: the requester gets an error, not the frame
		const error = await collect(a.request(b.peerId, '/spchain/test/count/1.0.0', bytes('99'))).catch(
			(e) => e
		);
		expect(error).toBeInstanceOf(RequestError);
		expect(String(error.message)).toMatch(/exceeds/);
	});

	it('penalises a peer that sends invalid messages, then disconnects and bans it', async () => {
		const [a, b, c] = trio();
		expect(b.peers()).toContain(a.peerId);
		for (let i = 0; i < 12 && b.peers().includes(a.peerId); i++) {
			await a.publish('consensus', bytes(`bad ${i} ${Date.now()}`));
			await sleep(150);
		}
		await expect.poll(() => b.stats().banned, { timeout: 10_000 }).toContain(a.peerId);
		await expect.poll(() => b.peers()).not.toContain(a.peerId);
		await expect.poll(() => c.stats().banned, { timeout: 10_000 }).toContain(a.peerId);
		// b and c never delivered the invalid messages, and a cannot come back while banned
		expect(inbox.get(b)!.some((m) => m.body.startsWith('bad'))).toBe(false);
		await sleep(5000);
		expect(b.peers()).not.toContain(a.peerId);
		expect(b.peers()).toContain(c.peerId);
	});
});

describe('bootstrap', () => {
	it('reconnects to the relay with backoff when it comes back on the same address', async () => {
		const { generateKeyPair } = await import('@libp2p/crypto/keys');
		const privateKey = await generateKeyPair('Ed25519');
		let second: Relay | undefined;
		const first = await startRelay({ port: 0, privateKey });
		const port = Number(first.addresses[0]!.split('/tcp/')[1]!.split('/')[0]);
		const relayId = first.node.peerId.toString();
		const net = await createPeerNet({ bootstrap: first.addresses });
		try {
			const toRelay = () => net.connections().filter((c) => c.peer === relayId).length;
			await expect.poll(toRelay, { timeout: 10_000 }).toBeGreaterThan(0);
			await first.stop();
			await expect.poll(toRelay, { timeout: 10_000 }).toBe(0);
			await sleep(1500);
			second = await startRelay({ port, privateKey });
			await expect.poll(toRelay, { timeout: 20_000 }).toBeGreaterThan(0);
			// and the reservation is made again: the node is reachable through the relay
			await expect
				.poll(() => net.addresses().some((a) => a.includes(`${relayId}/p2p-circuit`)), { timeout: 15_000 })
				.toBe(true);
		} finally {
			await net.stop();
			await second?.stop();
		}
	});
});

describe('discovery without the relay directory', () => {
	it('finds peers through a node it bootstraps from (every PeerNet answers the member list)', async () => {
		const plainRelay = await startRelay({ port: 0 }); // no servePeerDirectory
		const started: PeerNet[] = [];
		try {
			const hub = await createPeerNet({ bootstrap: plainRelay.addresses });
			started.push(hub);
			await expect
				.poll(() => hub.addresses().some((a) => a.includes('/ws/')), { timeout: 10_000 })
				.toBe(true);
			const hubAddresses = hub.addresses().filter((a) => !a.includes('/p2p-circuit'));
			for (let i = 0; i < 2; i++)
				started.push(await createPeerNet({ bootstrap: [...plainRelay.addresses, ...hubAddresses] }));
			await expect
				.poll(() => started.map((n) => n.peers().length), { timeout: 30_000, interval: 250 })
				.toEqual([2, 2, 2]);
		} finally {
			await Promise.all(started.map((n) => n.stop()));
			await plainRelay.stop();
		}
	});
});

describe('rate limits', () => {
	it('drops gossip above a peer’s rate and counts it', async () => {
		const ownRelay = await startRelay({ port: 0 });
		await servePeerDirectory(ownRelay.node);
		const sender = await createPeerNet({ bootstrap: ownRelay.addresses });
		const receiver = await createPeerNet({
			bootstrap: ownRelay.addresses,
			limits: { gossipPerSecond: 2, gossipBurst: 5 }
		});
		try {
			const got: string[] = [];
			receiver.subscribe('transactions', async (data) => {
				got.push(text(data));
				return 'accept';
			});
			sender.subscribe('transactions', async () => 'accept');
			await expect.poll(() => receiver.peers(), { timeout: 20_000 }).toContain(sender.peerId);
			// wait for the mesh, then send a burst of 40 distinct messages
			await expect
				.poll(
					async () => {
						await sender.publish('transactions', bytes(`probe ${Date.now()}`));
						return got.length > 0;
					},
					{ timeout: 15_000, interval: 500 }
				)
				.toBe(true);
			await sleep(3000); // refill the bucket
			const before = got.length;
			for (let i = 0; i < 40; i++) await sender.publish('transactions', bytes(`burst ${i}`));
			await expect.poll(() => receiver.stats().rateLimited, { timeout: 5000 }).toBeGreaterThan(0);
			await sleep(500);
			const delivered = got.length - before;
			expect(delivered).toBeGreaterThanOrEqual(5);
			expect(delivered).toBeLessThan(12);
			expect(receiver.peers()).toContain(sender.peerId); // a burst costs little: no ban
		} finally {
			await Promise.all([sender.stop(), receiver.stop()]);
			await ownRelay.stop();
		}
	});
});
