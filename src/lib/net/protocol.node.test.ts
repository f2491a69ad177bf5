/**
 * No stream leaks over real libp2p on loopback: libp2p allows 64 outbound streams per protocol on a
 * connection, and callers that left streams open failed from the 65th request on ("Too many outbound
 * protocol streams"). Here one node calls another through `call`/`serve` far more often than that,
 * on every path (answers, the handler's errors, timeouts, an oversized answer), and every later call
 * still gets through, and the streams of the protocol open on either side return to zero (PeerNet's
connections() lists them). A raw `PeerNet.request` whose reader stops early is reset by net-core too.
 */
import '../node/polyfills.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPeerNet } from './peer-net.node.ts';
import type { PeerNet } from './peer-net.ts';
import { call, defineProtocol, ProtocolError, serve, type Codec } from './protocol.ts';

const text: Codec<string> = {
	encode: (value) => new TextEncoder().encode(value),
	decode: (bytes) => new TextDecoder().decode(bytes)
};
const ECHO = defineProtocol({
	id: '/spchain/test-echo/1.0.0',
	request: text,
	response: text,
	maxBytes: 1024,
	timeoutMs: 10_000
});
/** The same protocol with a short wait, for the calls whose handler never answers. */
const IMPATIENT = defineProtocol({ ...ECHO, timeoutMs: 300 });
/** No rate limit in the way: the point is the stream count. */
const limits = { requestsPerSecond: 100_000, requestBurst: 100_000 };

let server: PeerNet;
let client: PeerNet;
const hanging: (() => void)[] = [];

beforeAll(async () => {
	server = await createPeerNet({ bootstrap: [], limits });
	client = await createPeerNet({ bootstrap: server.addresses(), limits: { ...limits, maxPeers: 1 } });
	serve(server, ECHO, async (request) => {
		if (request.startsWith('fail')) throw new Error('refused on purpose');
		if (request.startsWith('hang'))
			return new Promise<string>((resolve) => hanging.push(() => resolve('late')));
		if (request.startsWith('huge')) return 'x'.repeat(2000);
		return `echo ${request}`;
	});
}, 60_000);

afterAll(async () => {
	hanging.forEach((release) => release());
	await Promise.all([client?.stop(), server?.stop()]);
});

/** Streams of `protocol` open on either side right now. */
function openStreams(protocol: string): number {
	return [client, server]
		.flatMap((net) => net.connections().flatMap((c) => c.streams))
		.filter((p) => p === protocol).length;
}

async function kindOf(promise: Promise<unknown>): Promise<string> {
	try {
		await promise;
		return 'answered';
	} catch (error) {
		return error instanceof ProtocolError ? error.kind : String(error);
	}
}

describe('call/serve over libp2p', () => {
	it('connects the client to the server', async () => {
		await expect.poll(() => client.peers(), { timeout: 30_000, interval: 200 }).toContain(server.peerId);
	}, 40_000);

	it('200 calls in a row, well past the 64-stream limit, all answered', async () => {
		for (let i = 0; i < 200; i++) expect(await call(client, server.peerId, ECHO, `n${i}`)).toBe(`echo n${i}`);
		await expect.poll(() => openStreams(ECHO.id), { timeout: 30_000, interval: 200 }).toBe(0);
	}, 120_000);

	it('failed, oversized and timed-out calls close their streams too', async () => {
		for (let i = 0; i < 80; i++) {
			expect(await kindOf(call(client, server.peerId, ECHO, `fail ${i}`))).toBe('remote');
			expect(await kindOf(call(client, server.peerId, ECHO, `huge ${i}`))).toBe('remote');
		}
		// Ninety calls the server never answers, thirty at a time (each batch within the limit).
		for (let batch = 0; batch < 3; batch++) {
			const kinds = await Promise.all(
				Array.from({ length: 30 }, (_, i) =>
					kindOf(call(client, server.peerId, IMPATIENT, `hang ${batch}-${i}`))
				)
			);
			expect(new Set(kinds)).toEqual(new Set(['timeout']));
		}
		for (let i = 0; i < 100; i++) expect(await call(client, server.peerId, ECHO, `m${i}`)).toBe(`echo m${i}`);
		// The hanging handlers hold their (reset) streams until they return: release them.
		hanging.splice(0).forEach((release) => release());
		// The count sees a stream while a call is open (so zero below means closed, not unseen).
		const open = call(client, server.peerId, ECHO, 'hang visible');
		await expect
			.poll(() => hanging.length > 0 && openStreams(ECHO.id) > 0, { timeout: 30_000, interval: 50 })
			.toBe(true);
		hanging.splice(0).forEach((release) => release());
		expect(await open).toBe('late');
		await expect.poll(() => openStreams(ECHO.id), { timeout: 30_000, interval: 200 }).toBe(0);
	}, 120_000);

	it('a raw request whose reader stops at the first frame resets its stream (net-core)', async () => {
		for (let i = 0; i < 100; i++) {
			let answer = '';
			for await (const frame of client.request(server.peerId, ECHO.id, text.encode(`r${i}`))) {
				answer = text.decode(frame);
				break;
			}
			expect(answer).toBe(`echo r${i}`);
		}
		expect(await call(client, server.peerId, ECHO, 'after')).toBe('echo after');
		await expect.poll(() => openStreams(ECHO.id), { timeout: 30_000, interval: 200 }).toBe(0);
	}, 120_000);
});
