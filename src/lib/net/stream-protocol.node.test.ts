/**
 * Streamed responses over real libp2p on loopback: many chunks arrive in order and whole; the limits
 * per chunk and overall, the per-chunk timeout, the handler's error and a caller that stops early each
 * end the call with their reason and free the stream, so far more calls than libp2p's 64 streams per
 * protocol still get through afterwards.
 */
import '../node/polyfills.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPeerNet } from './peer-net.node.ts';
import type { PeerNet } from './peer-net.ts';
import { ProtocolError, type Codec } from './protocol.ts';
import { callStream, defineStreamProtocol, serveStream } from './stream-protocol.ts';

const CHUNK = 64 * 1024;
const text: Codec<string> = {
	encode: (value) => new TextEncoder().encode(value),
	decode: (bytes) => new TextDecoder().decode(bytes)
};
const raw: Codec<Uint8Array> = { encode: (b) => b, decode: (b) => b };
const CHUNKS = defineStreamProtocol({
	id: '/spchain/test-chunks/1.0.0',
	request: text,
	chunk: raw,
	maxRequestBytes: 256,
	maxChunkBytes: CHUNK,
	maxTotalBytes: 200 * CHUNK,
	chunkTimeoutMs: 10_000
});
const IMPATIENT = defineStreamProtocol({ ...CHUNKS, chunkTimeoutMs: 300 });
const STRICT = defineStreamProtocol({ ...CHUNKS, maxChunkBytes: CHUNK / 2, maxTotalBytes: 10 * CHUNK });
const limits = { requestsPerSecond: 100_000, requestBurst: 100_000 };

let server: PeerNet;
let client: PeerNet;
const hanging: (() => void)[] = [];

/** Chunk i of a response: CHUNK bytes, each the chunk's index mod 256. */
const chunkOf = (i: number) => new Uint8Array(CHUNK).fill(i % 256);

beforeAll(async () => {
	server = await createPeerNet({ bootstrap: [], limits });
	client = await createPeerNet({ bootstrap: server.addresses(), limits: { ...limits, maxPeers: 1 } });
	serveStream(server, CHUNKS, async function* (request) {
		const [kind, n] = request.split(' ');
		const count = Number(n);
		for (let i = 0; i < count; i++) {
			if (kind === 'fail' && i === 3) throw new Error('refused on purpose');
			if (kind === 'hang' && i === 2) await new Promise<void>((resolve) => hanging.push(resolve));
			yield chunkOf(i);
		}
	});
}, 60_000);

afterAll(async () => {
	hanging.forEach((release) => release());
	await Promise.all([client?.stop(), server?.stop()]);
});

async function collect(
	protocol: typeof CHUNKS,
	request: string
): Promise<{ chunks: number; bytes: number; error?: string }> {
	let chunks = 0;
	let bytes = 0;
	try {
		for await (const chunk of callStream(client, server.peerId, protocol, request)) {
			if (chunk[0] !== chunks % 256 || chunk.length !== CHUNK)
				throw new Error(`chunk ${chunks} is not in order`);
			chunks++;
			bytes += chunk.length;
		}
		return { chunks, bytes };
	} catch (error) {
		return { chunks, bytes, error: error instanceof ProtocolError ? error.kind : String(error) };
	}
}

describe('callStream/serveStream over libp2p', () => {
	it('connects the client to the server', async () => {
		await expect.poll(() => client.peers(), { timeout: 30_000, interval: 200 }).toContain(server.peerId);
	}, 40_000);

	it('160 chunks (10 MiB) arrive in order and whole', async () => {
		expect(await collect(CHUNKS, 'count 160')).toEqual({ chunks: 160, bytes: 160 * CHUNK });
	}, 120_000);

	it('over-limit chunks and responses, a stalled sender, a failing handler: each ends with its reason', async () => {
		expect(await collect(STRICT, 'count 3')).toMatchObject({ chunks: 0, error: 'oversized' });
		expect(
			await collect(defineStreamProtocol({ ...CHUNKS, maxTotalBytes: 10 * CHUNK }), 'count 11')
		).toMatchObject({
			chunks: 10,
			error: 'oversized'
		});
		expect(await collect(IMPATIENT, 'hang 5')).toMatchObject({ chunks: 2, error: 'timeout' });
		expect(await collect(CHUNKS, 'fail 5')).toMatchObject({ chunks: 3, error: 'remote' });
		expect(await collect(CHUNKS, `count 1 ${'x'.repeat(300)}`)).toMatchObject({
			chunks: 0,
			error: 'oversized'
		});
	}, 60_000);

	it('every path frees its stream: 100 early stops and 100 failures, then calls still get through', async () => {
		for (let i = 0; i < 100; i++) {
			for await (const chunk of callStream(client, server.peerId, CHUNKS, 'count 20')) {
				expect(chunk[0]).toBe(0);
				break;
			}
			expect((await collect(CHUNKS, 'fail 5')).error).toBe('remote');
		}
		const controller = new AbortController();
		const aborted = callStream(client, server.peerId, CHUNKS, 'count 20', { signal: controller.signal });
		await aborted.next();
		controller.abort(new Error('the person closed the page'));
		await expect(aborted.next()).rejects.toThrow('the person closed the page');
		expect(await collect(CHUNKS, 'count 4')).toEqual({ chunks: 4, bytes: 4 * CHUNK });
	}, 180_000);
});
