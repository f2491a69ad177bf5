/**
 * The request service over libp2p's in-memory transport: a silent stream (opened, nothing sent) and a
 * half-open one (a frame started and never finished, the answer never read) are reset by the read
 * timeout and the stream deadline, their slots are freed (the count of open request streams comes back
 * to zero) and an honest request still gets through; a stranger holds only its share of streams.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { afterEach, describe, expect, it } from 'vitest';
import { addressOf, memoryNodes } from '../../../tests/fixtures/memory-net.ts';
import type { SpchainNode } from './net-core.ts';
import type { NetLimits } from './peer-net.ts';

const PROTOCOL = '/spchain/test-echo/1.0.0';
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const { start, stopAll } = memoryNodes();
afterEach(stopAll);

async function server(limits: Partial<NetLimits> = {}) {
	const hub = await start({ limits: { requestReadTimeoutMs: 500, streamDeadlineMs: 2000, ...limits } });
	hub.net.handle(PROTOCOL, async function* (request) {
		const n = Number(text(request));
		// a large answer, so a reader that never reads leaves the server blocked on back-pressure
		for (let k = 0; k < (Number.isFinite(n) ? n : 1); k++) yield new Uint8Array(60 * 1024);
		yield bytes(`echo ${text(request)}`);
	});
	return hub;
}

const openOn = (hub: SpchainNode) =>
	hub.node.getConnections().flatMap((c) => c.streams.filter((s) => s.protocol === PROTOCOL)).length;

describe('request service', () => {
	it('closes silent and half-open streams by its timeouts and leaks none', async () => {
		const hub = await server();
		const client = await start();
		const connection = await client.node.dial(multiaddr(addressOf(hub)));
		const silent = await Promise.all(Array.from({ length: 5 }, () => connection.newStream(PROTOCOL)));
		const halfOpen = await Promise.all(Array.from({ length: 5 }, () => connection.newStream(PROTOCOL)));
		// a length prefix of 100 bytes, then 3 of them, then nothing
		for (const stream of halfOpen) stream.send(Uint8Array.from([100, 1, 2, 3]));
		// a full request for a 20-frame answer that is never read
		const unread = await connection.newStream(PROTOCOL);
		unread.send(Uint8Array.from([2, ...bytes('40')]));
		await expect.poll(() => hub.node.services.guard.streamsOpen, { timeout: 5000 }).toBeGreaterThan(0);
		await expect.poll(() => hub.node.services.guard.streamsOpen, { timeout: 15_000 }).toBe(0);
		await expect.poll(() => openOn(hub), { timeout: 15_000 }).toBe(0);
		expect(silent.length + halfOpen.length).toBe(10);
		// and the peer can still ask honestly
		const frames: string[] = [];
		for await (const frame of client.net.request(hub.net.peerId, PROTOCOL, bytes('0')))
			frames.push(text(frame));
		expect(frames).toEqual(['echo 0']);
	}, 40_000);

	it('refuses a stranger’s streams beyond its share until they close', async () => {
		const hub = await server({ streamsPerPeer: 3, requestReadTimeoutMs: 5000 });
		const client = await start();
		const connection = await client.node.dial(multiaddr(addressOf(hub)));
		const held = await Promise.all(Array.from({ length: 3 }, () => connection.newStream(PROTOCOL)));
		await expect.poll(() => hub.node.services.guard.streamsOpen, { timeout: 5000 }).toBe(3);
		const refused = client.net.request(hub.net.peerId, PROTOCOL, bytes('0'));
		await expect(async () => {
			for await (const _ of refused) void _;
		}).rejects.toThrow(/too many open requests/);
		for (const stream of held) stream.abort(new Error('done'));
		await expect.poll(() => hub.node.services.guard.streamsOpen, { timeout: 5000 }).toBe(0);
		const frames: string[] = [];
		for await (const frame of client.net.request(hub.net.peerId, PROTOCOL, bytes('0')))
			frames.push(text(frame));
		expect(frames).toEqual(['echo 0']);
	}, 40_000);
});
