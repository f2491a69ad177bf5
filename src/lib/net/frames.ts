/**
 * Length-prefixed frames over a libp2p 3 stream, with backpressure on send and a size limit on read.
 * Response frames carry a one-byte tag: data, error (UTF-8 message) or end, so a reader can tell a
 * complete response from a stream cut short.
 */
import * as lp from 'it-length-prefixed';
import type { Stream } from '@libp2p/interface';

export const FRAME_DATA = 0;
export const FRAME_ERROR = 1;
export const FRAME_END = 2;

export async function sendFrame(stream: Stream, data: Uint8Array, signal?: AbortSignal): Promise<void> {
	if (!stream.send(lp.encode.single(data))) await stream.onDrain({ signal });
}

/** Frames read from the stream; a frame above `maxBytes` throws (it-length-prefixed InvalidDataLengthError). */
export async function* readFrames(stream: Stream, maxBytes: number): AsyncGenerator<Uint8Array> {
	for await (const frame of lp.decode(stream, { maxDataLength: maxBytes })) yield frame.subarray();
}

export function tagged(tag: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
	const out = new Uint8Array(body.length + 1);
	out[0] = tag;
	out.set(body, 1);
	return out;
}

/** Resolves with the promise, or rejects after `ms` (the timer is cleared either way). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	try {
		return await Promise.race([
			promise,
			new Promise<never>((_, reject) => {
				timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
			})
		]);
	} finally {
		clearTimeout(timer);
	}
}
