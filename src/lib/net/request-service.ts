/**
 * Request/response streams, a libp2p service: one length-prefixed request frame in, tagged response
 * frames (data / error / end) out (`frames.ts`). `protocol.ts` builds typed `call`/`serve` on top.
 *
 * Bounded (issue 18): a peer's requests come out of its token bucket and its share of open streams
 * (both smaller for strangers: peer-guard.ts); a request frame must arrive within `readTimeoutMs`, and
 * the whole exchange must end within the stream deadline, so a half-open or silent stream is reset and
 * its slot freed instead of being held for ever.
 *
 * A connection that is closing is an ordinary event, not a failed request (see `request`): libp2p keeps
 * listing a connection as open after the other side's yamux GoAway ("The connection muxer is "closed"
 * and not "open"") until its socket closes, and its dialler returns that same connection.
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
	type RequestOptions,
	type StreamHandler
} from './peer-net.ts';
import { errorMessage } from './error-message.ts';

export interface RequestComponents {
	registrar: {
		handle(protocol: string, handler: Libp2pHandler, options?: { maxInboundStreams?: number }): Promise<void>;
	};
	connectionManager: {
		getConnections(peer?: PeerId): Connection[];
		openConnection(peer: PeerId, options?: { signal?: AbortSignal; force?: boolean }): Promise<Connection>;
	};
	guard: PeerGuard;
}

export interface RequestInit {
	maxBytes: number;
	limits: NetLimits;
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
				await fail(errorMessage(error));
			} catch {
				stream.abort(error instanceof Error ? error : new Error(String(error)));
			}
		}
	}

	/**
	 * A stream to `peer`: over its open direct connections, newest first (an older one may be a WebRTC
	 * connection whose dialer gave up), then, when none of them (other than `avoid`) opens one because it
	 * is closing, over one new connection. Nothing of the request is sent before the stream is open, so
	 * this is safe for every protocol.
	 */
	private async openStream(
		peer: string,
		protocol: string,
		signal?: AbortSignal,
		avoid?: Connection
	): Promise<{ stream: Stream; connection: Connection }> {
		const peerId = peerIdFromString(peer);
		const connections = this.components.connectionManager
			.getConnections(peerId)
			.filter((c) => c !== avoid && c.status === 'open' && c.limits == null)
			.sort((a, b) => b.timeline.open - a.timeline.open);
		let lastError: unknown;
		for (const connection of connections) {
			try {
				return { stream: await connection.newStream(protocol, { signal }), connection };
			} catch (error) {
				lastError = error;
				signal?.throwIfAborted();
			}
		}
		// A refusal (an unsupported protocol, too many streams) is the peer's answer; a new dial cannot help.
		if (lastError && !connectionClosed(lastError)) throw lastError;
		let connection: Connection;
		try {
			// `force`: without it libp2p hands back the closing connection, which it still lists as open.
			connection = await this.components.connectionManager.openConnection(peerId, {
				signal,
				force: lastError !== undefined || avoid !== undefined
			});
		} catch (error) {
			signal?.throwIfAborted();
			// A failed WebSocket dial rejects with a bare ErrorEvent: say what failed.
			throw new RequestError(
				`no stream could be opened: the dial failed (${errorMessage(error)})`,
				peer,
				protocol,
				{
					cause: error
				}
			);
		}
		return { stream: await connection.newStream(protocol, { signal }), connection };
	}

	/**
	 * Sends `body` and yields the response frames. When the connection closes before the first response
	 * frame (the stream breaks, or ends without an answer), an `idempotent` request is sent once more
	 * over a new connection; any other request fails, since the other side may have acted on it.
	 */
	async *request(
		peer: string,
		protocol: string,
		body: Uint8Array,
		options: RequestOptions = {}
	): AsyncIterable<Uint8Array> {
		if (this.stopped) throw new NetStoppedError();
		if (body.length > this.init.maxBytes) throw new MessageTooLargeError(body.length, this.init.maxBytes);
		const { signal } = options;
		let opened = await this.openStream(peer, protocol, signal);
		for (let retried = false; ; retried = true) {
			const state = { answered: false, broken: false };
			try {
				yield* this.exchange(opened.stream, peer, protocol, body, signal, state);
				return;
			} catch (error) {
				if (retried || state.answered || !state.broken || !options.idempotent || signal?.aborted) throw error;
			}
			opened = await this.openStream(peer, protocol, signal, opened.connection);
		}
	}

	/** One request on `stream`; `state` tells `request` whether an answer came and whether the stream broke. */
	private async *exchange(
		stream: Stream,
		peer: string,
		protocol: string,
		body: Uint8Array,
		signal: AbortSignal | undefined,
		state: { answered: boolean; broken: boolean }
	): AsyncGenerator<Uint8Array> {
		const onAbort = () => stream.abort(new RequestError('aborted', peer, protocol));
		signal?.addEventListener('abort', onAbort);
		let ended = false;
		let settled = false;
		try {
			// A send or read that throws is the stream breaking (a frame over the limit is an answer).
			state.broken = true;
			await sendFrame(stream, body, signal);
			for await (const frame of readFrames(stream, this.init.maxBytes + 1)) {
				state.broken = false;
				signal?.throwIfAborted();
				if (frame[0] === FRAME_DATA) {
					state.answered = true;
					yield frame.subarray(1);
				} else if (frame[0] === FRAME_END) {
					ended = true;
					break;
				} else if (frame[0] === FRAME_ERROR)
					throw new RequestError(new TextDecoder().decode(frame.subarray(1)), peer, protocol);
				else throw new RequestError(`unknown frame tag ${frame[0]}`, peer, protocol);
				state.broken = true;
			}
			signal?.throwIfAborted();
			if (!ended) throw new RequestError('the stream ended before the response did', peer, protocol);
			await stream.close().catch(() => undefined);
			settled = true;
		} catch (error) {
			settled = true;
			if ((error as Error | undefined)?.name === 'InvalidDataLengthError') state.broken = false;
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

/** libp2p's errors for a connection or its muxer closing, or a stream cut short with it. */
const CLOSED_ERRORS = new Set([
	'ConnectionClosedError',
	'ConnectionClosingError',
	'MuxerClosedError',
	'StreamResetError',
	'StreamClosedError',
	'StreamStateError',
	'UnexpectedEOFError'
]);

function connectionClosed(error: unknown): boolean {
	return CLOSED_ERRORS.has((error as Error | undefined)?.name ?? '');
}

/** The js-libp2p service factory: `services: { requests: spchainRequests(init) }` (after the guard). */
export function spchainRequests(init: RequestInit): (components: RequestComponents) => RequestService {
	return (components) => new RequestService(components, init);
}
