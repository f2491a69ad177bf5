/**
 * The control object the network check page puts on `window.netDiagnostics` (used by the browser tests
 * and the network benchmark): a PeerNet subscribed to every topic (a message whose text starts with
 * "bad" is rejected, anything else accepted and recorded with its arrival time), a counting stream and
 * a bulk stream for throughput.
 */
import { TOPICS, type PeerNet, type PeerNetOptions, type Topic } from '$lib/net/peer-net.ts';

export const COUNT_PROTOCOL = '/spchain/diag/count/1.0.0';
export const BLOB_PROTOCOL = '/spchain/diag/blob/1.0.0';
const BLOB_MAX_FRAME = 256 * 1024;

export interface ReceivedMessage {
	topic: Topic;
	body: string;
	from: string;
	/** Arrival time, ms since the epoch (sub-ms precision). */
	at: number;
}

const now = () => performance.timeOrigin + performance.now();
const encode = (text: string) => new TextEncoder().encode(text);
const decode = (data: Uint8Array) => new TextDecoder().decode(data);

export async function createNetDiagnostics(
	create: (options: PeerNetOptions) => Promise<PeerNet>,
	bootstrap: string[]
) {
	const net = await create({ bootstrap });
	const received: ReceivedMessage[] = [];
	const events: string[] = [];
	for (const topic of TOPICS)
		net.subscribe(topic, async (data, from) => {
			const body = decode(data);
			if (body.startsWith('bad')) return 'reject';
			received.push({ topic, body, from, at: now() });
			if (received.length > 10_000) received.shift();
			return 'accept';
		});
	net.handle(COUNT_PROTOCOL, async function* (request) {
		const n = Number(decode(request));
		for (let k = 0; k < n; k++) yield encode(`frame ${k}`);
	});
	net.handle(BLOB_PROTOCOL, async function* (request) {
		const [frames = 0, size = 0] = decode(request).split(' ').map(Number);
		const frame = new Uint8Array(Math.min(size, BLOB_MAX_FRAME)).fill(7);
		for (let k = 0; k < frames; k++) yield frame;
	});
	net.addEventListener('peer:connect', (event) => events.push(`connect ${event.detail}`));
	net.addEventListener('peer:disconnect', (event) => events.push(`disconnect ${event.detail}`));

	return {
		net,
		peerId: net.peerId,
		peers: () => net.peers(),
		connections: () => net.connections(),
		addresses: () => net.addresses(),
		stats: () => net.stats(),
		events: () => [...events],
		messages: () => [...received],
		now,
		publish: (topic: Topic, text: string) => net.publish(topic, encode(text)),
		async request(peer: string, n: number): Promise<string[]> {
			const out: string[] = [];
			for await (const frame of net.request(peer, COUNT_PROTOCOL, encode(String(n)))) out.push(decode(frame));
			return out;
		},
		/** Pulls `megabytes` MiB from `peer` in 64 KiB frames; returns bytes and milliseconds. */
		async throughput(peer: string, megabytes: number): Promise<{ bytes: number; ms: number }> {
			const size = 64 * 1024;
			const frames = Math.ceil((megabytes * 1024 * 1024) / size);
			const started = performance.now();
			let bytes = 0;
			for await (const frame of net.request(peer, BLOB_PROTOCOL, encode(`${frames} ${size}`)))
				bytes += frame.length;
			return { bytes, ms: performance.now() - started };
		},
		stop: () => net.stop()
	};
}

export type NetDiagnostics = Awaited<ReturnType<typeof createNetDiagnostics>>;
