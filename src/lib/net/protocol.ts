/**
 * Typed request/response over PeerNet streams: one descriptor per off-chain protocol (its id, request
 * and response codecs, size limit, timeout and how failures read to the caller), with `call` on the
 * asking side and `serve` on the answering side. Every caller used to repeat "send, take the first
 * frame, decode, time out, map the error" and returned from inside the frame loop, which left the
 * stream open: past libp2p's per-protocol limit (64) every later request failed ("Too many outbound
 * protocol streams"). `call` closes the stream on every path: after the one response (reading on to
 * the end marker, so the stream ends cleanly), and on an error, a timeout, an oversized frame or the
 * caller's abort (it aborts the request's signal, which resets the stream, before letting go of it).
 */
import type { Bytes } from '../core/bytes.ts';
import { RequestError, type PeerNet } from './peer-net.ts';

/** Bytes to a value and back; `decode` throws (a ValidationError) on anything malformed. */
export interface Codec<T> {
	encode(value: T): Bytes;
	decode(bytes: Bytes): T;
}

/** A codec from its two functions. */
export const codec = <T>(encode: (value: T) => Bytes, decode: (bytes: Bytes) => T): Codec<T> => ({
	encode,
	decode
});

/** How a call failed, for `mapError`: the protocol layer's own failures, not the codecs'. */
export type CallFailure =
	/** No response within the descriptor's timeout (dialling included). */
	| 'timeout'
	/** The other side ended the response without a frame. */
	| 'no-answer'
	/** The other side's handler failed, refused us (rate limit) or the stream broke. */
	| 'remote'
	/** A request or response frame over the descriptor's size limit, or a second response frame. */
	| 'oversized'
	| 'extra-frame';

/** A failed call or served request, with its kind; descriptors may map it to an app error. */
export class ProtocolError extends Error {
	override readonly name = 'ProtocolError';
	constructor(
		readonly kind: CallFailure,
		readonly protocol: string,
		message: string
	) {
		super(`${protocol}: ${message}`);
	}
}

export interface ProtocolDescriptor<Req, Res> {
	/** The libp2p protocol id, e.g. '/spchain/access-log/1.0.0'. */
	readonly id: string;
	readonly request: Codec<Req>;
	readonly response: Codec<Res>;
	/** Largest encoded request and response (bytes), checked before sending and on receipt. */
	readonly maxBytes: number;
	/** How long `call` waits for the response, dialling included. */
	readonly timeoutMs: number;
	/** What the caller sees for a protocol failure (default: the ProtocolError itself). */
	readonly mapError?: (error: ProtocolError) => Error;
	/**
	 * The other side may receive a request twice without harm (a read, or a write keyed so a second
	 * copy changes nothing): it is sent once more over a new connection when the first one closes
	 * after sending and before the answer. Leave it out when answering acts on something a person sees
	 * or an audit log counts.
	 */
	readonly idempotent?: boolean;
}

/** Checks a descriptor once, where it is declared, so a bad limit fails at start-up and not mid-call. */
export function defineProtocol<Req, Res>(
	descriptor: ProtocolDescriptor<Req, Res>
): ProtocolDescriptor<Req, Res> {
	if (!/^\/[a-z0-9-]+(\/[a-z0-9.-]+)+$/.test(descriptor.id))
		throw new TypeError(`protocol id ${JSON.stringify(descriptor.id)} is not a /name/…/version path`);
	if (!Number.isSafeInteger(descriptor.maxBytes) || descriptor.maxBytes <= 0)
		throw new TypeError(`${descriptor.id}: maxBytes must be a positive integer`);
	if (!(descriptor.timeoutMs > 0)) throw new TypeError(`${descriptor.id}: timeoutMs must be positive`);
	return Object.freeze({ ...descriptor });
}

/** The part of PeerNet a call needs (tests pass a fake). */
export type Requester = Pick<PeerNet, 'request'>;
/** The part of PeerNet serving needs. */
export type Server = Pick<PeerNet, 'handle'>;

export interface CallOptions {
	/** The caller gives up: the stream is reset and the signal's reason is thrown. */
	signal?: AbortSignal;
}

/**
 * Sends `request` to `peer` and resolves with its one decoded response. Protocol failures are thrown
 * as `mapError(ProtocolError)`; a response the codec refuses throws the codec's error unchanged (the
 * caller may blame the peer for it). The stream is closed or reset whatever happens.
 */
export async function call<Req, Res>(
	net: Requester,
	peer: string,
	protocol: ProtocolDescriptor<Req, Res>,
	request: Req,
	options: CallOptions = {}
): Promise<Res> {
	const fail = (kind: CallFailure, message: string) =>
		(protocol.mapError ?? ((e) => e))(new ProtocolError(kind, protocol.id, message));
	const body = protocol.request.encode(request);
	if (body.length > protocol.maxBytes)
		throw fail('oversized', `a request of ${body.length} bytes exceeds the ${protocol.maxBytes}-byte limit`);
	options.signal?.throwIfAborted();

	const controller = new AbortController();
	const timeout = new ProtocolError('timeout', protocol.id, `no answer in ${protocol.timeoutMs} ms`);
	const timer = setTimeout(() => controller.abort(timeout), protocol.timeoutMs);
	const onCallerAbort = () => controller.abort(options.signal!.reason);
	options.signal?.addEventListener('abort', onCallerAbort, { once: true });
	// Whatever the PeerNet does with the signal, an abort ends the wait here.
	const aborted = new Promise<never>((_, reject) => {
		controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
	});
	aborted.catch(() => undefined);
	const requestOptions = { signal: controller.signal, idempotent: protocol.idempotent };
	const frames = net.request(peer, protocol.id, body, requestOptions)[Symbol.asyncIterator]();
	let finished = false;
	try {
		const first = await Promise.race([frames.next(), aborted]);
		if (first.done) throw fail('no-answer', 'the other side closed the stream without answering');
		if (first.value.length > protocol.maxBytes)
			throw fail(
				'oversized',
				`a response of ${first.value.length} bytes exceeds the ${protocol.maxBytes}-byte limit`
			);
		// Read on to the end marker: the PeerNet then closes the stream gracefully.
		const rest = await Promise.race([frames.next(), aborted]);
		if (!rest.done) throw fail('extra-frame', 'the other side sent more than one response frame');
		finished = true;
		return protocol.response.decode(first.value);
	} catch (error) {
		throw callError(error, timeout, options.signal, fail);
	} finally {
		clearTimeout(timer);
		options.signal?.removeEventListener('abort', onCallerAbort);
		if (!finished) releaseCall(controller, frames, protocol.id);
	}
}

/**
 * What a call that ended early throws: `timeout` (the call's own timeout error, when it fired) as a
 * 'timeout' failure, the caller's abort reason unchanged, a PeerNet RequestError as a 'remote' failure,
 * anything else (a codec's error, a limit crossed) as it is.
 */
export function callError(
	error: unknown,
	timeout: ProtocolError,
	callerSignal: AbortSignal | undefined,
	fail: (kind: CallFailure, message: string) => Error
): unknown {
	if (error === timeout) return fail('timeout', timeout.message.slice(timeout.protocol.length + 2));
	if (callerSignal?.aborted && error === callerSignal.reason) return error;
	if (error instanceof RequestError) return fail('remote', error.message);
	return error;
}

/**
 * Frees an unfinished call's stream: reset it first (the PeerNet listens to the signal until its
 * generator ends), then let go of the generator; neither waits on the remote side.
 */
export function releaseCall(
	controller: AbortController,
	frames: AsyncIterator<unknown>,
	protocol: string
): void {
	controller.abort(new ProtocolError('remote', protocol, 'the call ended early'));
	void frames.return?.(undefined)?.catch(() => undefined);
}

/** A request over its descriptor's limit, refused before anything is sent or decoded. */
export function oversizedRequest(protocol: string, bytes: number, limit: number): ProtocolError {
	return new ProtocolError(
		'oversized',
		protocol,
		`a request of ${bytes} bytes exceeds the ${limit}-byte limit`
	);
}

/**
 * Answers `protocol` on `net` with `handler`: the request is size-checked and decoded before the
 * handler runs, the response encoded and size-checked before it is sent. A handler's error reaches the
 * caller as a 'remote' failure carrying its message.
 */
export function serve<Req, Res>(
	net: Server,
	protocol: ProtocolDescriptor<Req, Res>,
	handler: (request: Req, from: string) => Promise<Res>
): void {
	net.handle(protocol.id, async function* (bytes, from) {
		if (bytes.length > protocol.maxBytes)
			throw oversizedRequest(protocol.id, bytes.length, protocol.maxBytes);
		const response = protocol.response.encode(await handler(protocol.request.decode(bytes), from));
		if (response.length > protocol.maxBytes)
			throw new ProtocolError(
				'oversized',
				protocol.id,
				`a response of ${response.length} bytes exceeds the ${protocol.maxBytes}-byte limit`
			);
		yield response;
	});
}
