/**
 * Streamed responses in the typed request/response layer: one request, then many response chunks, for
 * content larger than one frame (an attachment of several megabytes). The descriptor states a limit per
 * chunk and for the whole response, and a timeout per chunk (a slow but moving transfer is fine, a
 * stalled one is not). Backpressure: the answering side's generator is pulled only as its stream
 * drains (net-core's sendFrame waits for libp2p's drain), so a holder reads its store no faster than the
 * network carries the chunks. The asking side hands chunks to its caller one at a time; what arrives
 * before the caller asks is buffered by libp2p's stream iterator, which does not pause the sender, so
 * the receiver's memory is bounded by `maxTotalBytes` (reader-paced flow would need net-core's request
 * to pause and resume its stream). The stream is closed after the end marker, and reset on every other
 * path: an error, a timeout, a limit crossed, the caller's abort, or a caller that stops reading early.
 */
import {
	callError,
	defineProtocol,
	oversizedRequest,
	ProtocolError,
	releaseCall,
	type CallFailure,
	type Codec,
	type ProtocolDescriptor,
	type Requester,
	type Server
} from './protocol.ts';

/** Like a ProtocolDescriptor (its id, request codec and mapError), with chunks and their limits. */
export interface StreamProtocolDescriptor<Req, Chunk> extends Pick<
	ProtocolDescriptor<Req, Chunk>,
	'id' | 'request' | 'mapError' | 'idempotent'
> {
	readonly chunk: Codec<Chunk>;
	/** Largest encoded request (bytes). */
	readonly maxRequestBytes: number;
	/** Largest encoded chunk (bytes); must fit one PeerNet frame. */
	readonly maxChunkBytes: number;
	/** Largest whole response (the sum of the chunks' bytes). */
	readonly maxTotalBytes: number;
	/** How long `callStream` waits for each chunk (the first one includes dialling). */
	readonly chunkTimeoutMs: number;
}

/** Checks a descriptor once, where it is declared, as defineProtocol does. */
export function defineStreamProtocol<Req, Chunk>(
	descriptor: StreamProtocolDescriptor<Req, Chunk>
): StreamProtocolDescriptor<Req, Chunk> {
	defineProtocol({
		id: descriptor.id,
		request: descriptor.request,
		response: descriptor.chunk,
		maxBytes: Math.max(descriptor.maxRequestBytes, descriptor.maxChunkBytes),
		timeoutMs: descriptor.chunkTimeoutMs
	});
	for (const limit of ['maxRequestBytes', 'maxChunkBytes', 'maxTotalBytes'] as const)
		if (!Number.isSafeInteger(descriptor[limit]) || descriptor[limit] <= 0)
			throw new TypeError(`${descriptor.id}: ${limit} must be a positive integer`);
	return Object.freeze({ ...descriptor });
}

export interface StreamCallOptions {
	/** The caller gives up: the stream is reset and the signal's reason is thrown. */
	signal?: AbortSignal;
}

/**
 * Sends `request` to `peer` and yields its decoded chunks as they arrive. Protocol failures are thrown
 * as `mapError(ProtocolError)`; a chunk the codec refuses throws the codec's error. Breaking out of the
 * loop resets the stream.
 */
export async function* callStream<Req, Chunk>(
	net: Requester,
	peer: string,
	protocol: StreamProtocolDescriptor<Req, Chunk>,
	request: Req,
	options: StreamCallOptions = {}
): AsyncGenerator<Chunk, void, undefined> {
	const fail = (kind: CallFailure, message: string) =>
		(protocol.mapError ?? ((e) => e))(new ProtocolError(kind, protocol.id, message));
	const body = protocol.request.encode(request);
	if (body.length > protocol.maxRequestBytes)
		throw fail(
			'oversized',
			`a request of ${body.length} bytes exceeds the ${protocol.maxRequestBytes}-byte limit`
		);
	options.signal?.throwIfAborted();

	const controller = new AbortController();
	const onCallerAbort = () => controller.abort(options.signal!.reason);
	options.signal?.addEventListener('abort', onCallerAbort, { once: true });
	const requestOptions = { signal: controller.signal, idempotent: protocol.idempotent };
	const frames = net.request(peer, protocol.id, body, requestOptions)[Symbol.asyncIterator]();
	let finished = false;
	let total = 0;
	let timer: ReturnType<typeof setTimeout> | undefined;
	let timeout = new ProtocolError('timeout', protocol.id, `no chunk in ${protocol.chunkTimeoutMs} ms`);
	/** The next frame, or an abort: the caller's, or this chunk's timeout. */
	const next = () =>
		new Promise<IteratorResult<Uint8Array>>((resolve, reject) => {
			timeout = new ProtocolError('timeout', protocol.id, `no chunk in ${protocol.chunkTimeoutMs} ms`);
			timer = setTimeout(() => controller.abort(timeout), protocol.chunkTimeoutMs);
			const onAbort = () => reject(controller.signal.reason);
			if (controller.signal.aborted) return onAbort();
			controller.signal.addEventListener('abort', onAbort, { once: true });
			frames
				.next()
				.then(resolve, reject)
				.finally(() => {
					clearTimeout(timer);
					controller.signal.removeEventListener('abort', onAbort);
				});
		});
	try {
		for (;;) {
			const frame = await next();
			if (frame.done) break;
			if (frame.value.length > protocol.maxChunkBytes)
				throw fail(
					'oversized',
					`a chunk of ${frame.value.length} bytes exceeds the ${protocol.maxChunkBytes}-byte limit`
				);
			total += frame.value.length;
			if (total > protocol.maxTotalBytes)
				throw fail('oversized', `the response exceeds the ${protocol.maxTotalBytes}-byte limit`);
			yield protocol.chunk.decode(frame.value);
		}
		finished = true;
	} catch (error) {
		throw callError(error, timeout, options.signal, fail);
	} finally {
		clearTimeout(timer);
		options.signal?.removeEventListener('abort', onCallerAbort);
		if (!finished) releaseCall(controller, frames, protocol.id);
	}
}

/**
 * Answers `protocol` on `net` with `handler`, a generator of chunks: the request is size-checked and
 * decoded before the handler runs, each chunk encoded and size-checked before it is sent, and the
 * handler is pulled only as fast as the stream drains. A handler's error reaches the caller as a
 * 'remote' failure carrying its message.
 */
export function serveStream<Req, Chunk>(
	net: Server,
	protocol: StreamProtocolDescriptor<Req, Chunk>,
	handler: (request: Req, from: string) => AsyncIterable<Chunk>
): void {
	net.handle(protocol.id, async function* (bytes, from) {
		if (bytes.length > protocol.maxRequestBytes)
			throw oversizedRequest(protocol.id, bytes.length, protocol.maxRequestBytes);
		let total = 0;
		for await (const chunk of handler(protocol.request.decode(bytes), from)) {
			const encoded = protocol.chunk.encode(chunk);
			total += encoded.length;
			if (encoded.length > protocol.maxChunkBytes || total > protocol.maxTotalBytes)
				throw new ProtocolError('oversized', protocol.id, 'the response exceeds its size limits');
			yield encoded;
		}
	});
}
