/**
 * Request/response streams, a libp2p service: one length-prefixed request frame in, tagged response
 * frames (data / error / end) out (`frames.ts`). `protocol.ts` builds typed `call`/`serve` on top.
 *
 * Bounded (issue 18): a peer's requests come out of its token bucket and its share of open streams
 * (both smaller for strangers: peer-guard.ts); a request frame must arrive within `readTimeoutMs`, and
 * the whole exchange must end within the stream deadline, so a half-open or silent stream is reset and
 * its slot freed instead of being held for ever.
 */
import type {
	Connection,
	PeerId,
	Startable,
	Stream,
	StreamHandler as Libp2pHandler
} from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { FRAME_DATA, FRAME_END, FRAME_ERROR, readFrames, sendFrame, tagged, withTimeout } from './frames.ts';
import type { PeerGuard } from './peer-guard.ts';
import {
	MessageTooLargeError,
	NetStoppedError,
	RequestError,
	type NetLimits,
	type StreamHandler
} from './peer-net.ts';

export interface RequestComponents {
	registrar: {
		handle(protocol: string, handler: Libp2pHandler, options?: { maxInboundStreams?: number }): Promise<void>;
	};
	connectionManager: {
		getConnections(peer?: PeerId): Connection[];
		openConnection(peer: PeerId, options?: { signal?: AbortSignal }): Promise<Connection>;
	};
	guard: PeerGuard;
}

export interface RequestInit {
	maxBytes: number;
	limits: NetLimits;
}

function describe(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

export class RequestService implements Startable {
	private readonly handlers = new Map<string, StreamHandler>();
	private stopped = false;
	/** Requests refused for the sender's rate or stream share. */
	rateLimited = 0;

	constructor(
		private readonly components: RequestComponents,
		private readonly init: RequestInit
	) {}

	readonly [Symbol.toStringTag] = 'spchain/requests';

	start(): void {
		this.stopped = false;
	}

	stop(): void {
		this.stopped = true;
	}

	/** Answers `protocol` with `handler`; a handler's error reaches the caller as an error frame. */
	/** Throws at once for a second handler of one protocol; the promise settles with libp2p's registration. */
	handle(protocol: string, handler: StreamHandler): Promise<void> {
		if (this.handlers.has(protocol)) throw new Error(`${protocol} already has a handler`);
		this.handlers.set(protocol, handler);
		// libp2p's own per-connection cap sits above ours: ours is per peer and by class
		const cap = this.init.limits.streamsPerPeer * this.init.limits.protectedFactor;
		return this.components.registrar.handle(
			protocol,
			(stream, connection) => this.serve(protocol, stream, connection),
			{
				maxInboundStreams: cap
			}
		);
	}

	private async serve(protocol: string, stream: Stream, connection: Connection): Promise<void> {
		const { guard } = this.components;
		const from = connection.remotePeer.toString();
		const handler = this.handlers.get(protocol)!;
		const release = guard.openStream(from);
		// The stream keeps its slot until it is closed on both sides or reset, even after the answer was
		// sent (a peer that never closes its side would otherwise hold a half-closed stream for ever):
		// the deadline resets whatever is still open then.
		const deadline = setTimeout(
			() =>
				stream.abort(
					new Error(`${protocol}: exchange not finished in ${this.init.limits.streamDeadlineMs} ms`)
				),
			this.init.limits.streamDeadlineMs
		);
		stream.addEventListener(
			'close',
			() => {
				clearTimeout(deadline);
				release?.();
			},
			{ once: true }
		);
		const fail = async (message: string) => {
			await sendFrame(stream, tagged(FRAME_ERROR, new TextEncoder().encode(message)));
			await stream.close();
		};
		try {
			if (!release || !guard.takeRequest(from)) {
				this.rateLimited++;
				await fail(release ? 'rate limited' : 'too many open requests');
				return;
			}
			const frames = readFrames(stream, this.init.maxBytes);
			const first = await withTimeout(
				frames.next(),
				this.init.limits.requestReadTimeoutMs,
				`${protocol} request`
			);
			if (first.done) throw new Error('no request frame');
			for await (const frame of handler(first.value, from)) {
				if (frame.length > this.init.maxBytes)
					throw new MessageTooLargeError(frame.length, this.init.maxBytes);
				await sendFrame(stream, tagged(FRAME_DATA, frame));
			}
			await sendFrame(stream, tagged(FRAME_END));
			await stream.close();
		} catch (error) {
			try {
				await fail(describe(error));
			} catch {
				stream.abort(error instanceof Error ? error : new Error(String(error)));
			}
		}
	}

	/** Newest direct connection first (an older one may be a WebRTC connection whose dialer gave up). */
	private async openStream(peer: string, protocol: string, signal?: AbortSignal): Promise<Stream> {
		const peerId = peerIdFromString(peer);
		const connections = this.components.connectionManager
			.getConnections(peerId)
			.filter((c) => c.status === 'open' && c.limits == null)
			.sort((a, b) => b.timeline.open - a.timeline.open);
		let lastError: unknown;
		for (const connection of connections) {
			try {
				return await connection.newStream(protocol, { signal });
			} catch (error) {
				lastError = error;
				signal?.throwIfAborted();
			}
		}
		if (lastError) throw lastError;
		const connection = await this.components.connectionManager.openConnection(peerId, { signal });
		return connection.newStream(protocol, { signal });
	}

	async *request(
		peer: string,
		protocol: string,
		body: Uint8Array,
		options: { signal?: AbortSignal } = {}
	): AsyncIterable<Uint8Array> {
		if (this.stopped) throw new NetStoppedError();
		if (body.length > this.init.maxBytes) throw new MessageTooLargeError(body.length, this.init.maxBytes);
		const { signal } = options;
		const stream = await this.openStream(peer, protocol, signal);
		const onAbort = () => stream.abort(new RequestError('aborted', peer, protocol));
		signal?.addEventListener('abort', onAbort);
		let ended = false;
		let settled = false;
		try {
			await sendFrame(stream, body, signal);
			for await (const frame of readFrames(stream, this.init.maxBytes + 1)) {
				signal?.throwIfAborted();
				if (frame[0] === FRAME_DATA) yield frame.subarray(1);
				else if (frame[0] === FRAME_END) {
					ended = true;
					break;
				} else if (frame[0] === FRAME_ERROR)
					throw new RequestError(new TextDecoder().decode(frame.subarray(1)), peer, protocol);
				else throw new RequestError(`unknown frame tag ${frame[0]}`, peer, protocol);
			}
			signal?.throwIfAborted();
			if (!ended) throw new RequestError('the stream ended before the response did', peer, protocol);
			await stream.close().catch(() => undefined);
			settled = true;
		} catch (error) {
			settled = true;
			stream.abort(error instanceof Error ? error : new Error(String(error)));
			throw error;
		} finally {
			signal?.removeEventListener('abort', onAbort);
			// A reader that stops early (break/return in its loop) lands here only: reset the stream,
			// or it stays open and counts against libp2p's per-protocol stream limit.
			if (!settled) stream.abort(new RequestError('the caller stopped reading', peer, protocol));
		}
	}
}

/** The js-libp2p service factory: `services: { requests: spchainRequests(init) }` (after the guard). */
export function spchainRequests(init: RequestInit): (components: RequestComponents) => RequestService {
	return (components) => new RequestService(components, init);
}
