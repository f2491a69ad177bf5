/**
 * A connection that closes under a request, over real libp2p (WebSockets on loopback, yamux): the
 * request layer dials again instead of failing, and sends a request twice only when its protocol says
 * that is harmless. Connections are made by hand (no bootstrap, no discovery dials), so each test
 * controls which connection a request finds.
 */
import type { Connection } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { describe, expect, it } from 'vitest';
import { handWiredNodes } from '../../../tests/fixtures/hand-wired-nodes.ts';
import { call, codec, defineProtocol, ProtocolError, serve } from './protocol.ts';

const text = codec<string>(
	(value) => new TextEncoder().encode(value),
	(bytes) => new TextDecoder().decode(bytes)
);
/** Answering acts on something (think SIGN: the patient would be asked twice). */
const ONCE = defineProtocol({
	id: '/spchain/test-once/1.0.0',
	request: text,
	response: text,
	maxBytes: 1024,
	timeoutMs: 10_000
});
/** A read: a second copy is harmless. */
const READ = defineProtocol({ ...ONCE, id: '/spchain/test-read/1.0.0', idempotent: true });

const node = handWiredNodes();

/** A server answering ONCE and READ, counting what its handlers saw; `drop` closes the caller's connection. */
async function pair() {
	const server = await node();
	const client = await node();
	const seen: string[] = [];
	let drops = 0;
	for (const protocol of [ONCE, READ])
		serve(server.net, protocol, async (request, from) => {
			seen.push(request);
			if (request === 'drop' && drops++ === 0) {
				// the connection goes away after the request arrived, before the answer
				for (const c of server.node.getConnections(peerIdFromString(from))) void c.close().catch(() => {});
				return new Promise<string>(() => {});
			}
			return `echo ${request}`;
		});
	const first = await client.node.dial(multiaddr(server.net.addresses()[0]!));
	await expect.poll(() => server.node.getConnections(client.node.peerId).length).toBe(1);
	return { server, client, seen, first };
}

/** libp2p's own field: the test stands in for the other side's yamux GoAway. */
const muxerOf = (c: Connection) =>
	(c as unknown as { muxer: { status: string; close(): Promise<void> } }).muxer;

describe('a request over a connection that is closing', () => {
	it('opens no stream on a connection whose muxer the other side closed: it dials again, for every protocol', async () => {
		const { server, client, seen, first } = await pair();
		const serverSide = server.node.getConnections(client.node.peerId)[0]!;
		// The other side sends its GoAway and keeps the socket open: libp2p still lists the connection as
		// open, with its muxer closed ("The connection muxer is "closed" and not "open"").
		await muxerOf(serverSide).close();
		await expect.poll(() => muxerOf(first).status).toBe('closed');
		expect(first.status).toBe('open');

		expect(await call(client.net, server.net.peerId, ONCE, 'hello')).toBe('echo hello');
		expect(seen).toEqual(['hello']);
		const open = client.node.getConnections(server.node.peerId).filter((c) => c.status === 'open');
		expect(open.some((c) => c !== first)).toBe(true);
	}, 30_000);

	it('sends an idempotent request once more over a new connection when the first closes before the answer', async () => {
		const { server, client, seen, first } = await pair();
		expect(await call(client.net, server.net.peerId, READ, 'drop')).toBe('echo drop');
		expect(seen).toEqual(['drop', 'drop']);
		const open = client.node.getConnections(server.node.peerId).filter((c) => c.status === 'open');
		expect(open.some((c) => c !== first)).toBe(true);
	}, 30_000);

	it('does not send any other request twice: it fails, and the next one goes through', async () => {
		const { server, client, seen } = await pair();
		const failed = await call(client.net, server.net.peerId, ONCE, 'drop').catch((e: unknown) => e);
		expect(failed).toBeInstanceOf(ProtocolError);
		expect((failed as ProtocolError).kind).toBe('remote');
		expect(seen).toEqual(['drop']);
		expect(await call(client.net, server.net.peerId, ONCE, 'after')).toBe('echo after');
		expect(seen).toEqual(['drop', 'after']);
	}, 30_000);

	it('still fails, within the call’s timeout, when the peer is really gone', async () => {
		const { server, client, seen } = await pair();
		const peer = server.net.peerId;
		await server.net.stop();
		const failed = await call(client.net, peer, { ...READ, timeoutMs: 5000 }, 'anyone?').catch(
			(e: unknown) => e
		);
		expect(failed).toBeInstanceOf(ProtocolError);
		expect((failed as ProtocolError).kind).toBe('remote');
		expect((failed as Error).message).toMatch(/the dial failed/);
		expect(seen).toEqual([]);
		expect(client.node.getConnections(server.node.peerId).filter((c) => c.status === 'open')).toEqual([]);
	}, 30_000);
});
