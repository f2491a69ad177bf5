/**
 * The typed request/response layer with no network: an in-memory PeerNet that behaves like net-core
 * (one request frame in, response frames out, a RequestError for a failed handler, the stream reset
 * when the request's signal aborts) and counts the streams it opened and closed, so every path of
 * `call` (answer, error, timeout, oversized frame, extra frame, caller abort) is seen to close its
 * stream. The real-libp2p leak test is protocol.node.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.ts';
import { RequestError, type StreamHandler } from './peer-net.ts';
import { call, defineProtocol, ProtocolError, serve, type Codec } from './protocol.ts';

const text: Codec<string> = {
	encode: (value) => new TextEncoder().encode(value),
	decode: (bytes) => {
		const value = new TextDecoder().decode(bytes);
		if (value.startsWith('bad')) throw new ValidationError('encoding', 'a malformed answer');
		return value;
	}
};

const ECHO = defineProtocol({
	id: '/spchain/test-echo/1.0.0',
	request: text,
	response: text,
	maxBytes: 64,
	timeoutMs: 200
});

/** An in-memory PeerNet: handlers by protocol, and a count of streams still open. */
function memoryNet() {
	const handlers = new Map<string, StreamHandler>();
	const state = { open: 0, opened: 0, reset: 0 };
	return {
		state,
		handle(protocol: string, handler: StreamHandler) {
			handlers.set(protocol, handler);
		},
		request(peer: string, protocol: string, body: Uint8Array, options: { signal?: AbortSignal } = {}) {
			const handler = handlers.get(protocol);
			return (async function* () {
				state.open++;
				state.opened++;
				const { signal } = options;
				const reset = new Promise<never>((_, reject) => {
					const onAbort = () => (state.reset++, reject(new RequestError('reset', peer, protocol)));
					if (signal?.aborted) onAbort();
					else signal?.addEventListener('abort', onAbort, { once: true });
				});
				reset.catch(() => undefined);
				try {
					if (!handler) throw new RequestError('protocol not supported', peer, protocol);
					const frames = handler(body, 'caller')[Symbol.asyncIterator]();
					for (;;) {
						const next = await Promise.race([frames.next(), reset]).catch((error: unknown) => {
							if (error instanceof RequestError) throw error;
							throw new RequestError(error instanceof Error ? error.message : String(error), peer, protocol);
						});
						if (next.done) return;
						yield next.value;
					}
				} finally {
					state.open--;
				}
			})();
		}
	};
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
	try {
		await promise;
	} catch (error) {
		return error;
	}
	throw new Error('expected a failure');
}

describe('defineProtocol', () => {
	it('refuses a bad id, size limit or timeout where it is declared', () => {
		const base = { id: '/spchain/x/1.0.0', request: text, response: text, maxBytes: 10, timeoutMs: 10 };
		expect(() => defineProtocol({ ...base, id: 'spchain x' })).toThrow(/not a/);
		expect(() => defineProtocol({ ...base, maxBytes: 0 })).toThrow(/maxBytes/);
		expect(() => defineProtocol({ ...base, timeoutMs: 0 })).toThrow(/timeoutMs/);
	});
});

describe('call and serve', () => {
	it('answers with the decoded response and closes the stream', async () => {
		const net = memoryNet();
		serve(net, ECHO, async (request, from) => `${request} from ${from}`);
		expect(await call(net, 'p', ECHO, 'hello')).toBe('hello from caller');
		expect(net.state).toEqual({ open: 0, opened: 1, reset: 0 });
	});

	it("maps the other side's error, and closes the stream", async () => {
		const net = memoryNet();
		serve(net, ECHO, async () => {
			throw new Error('no such record');
		});
		const error = await failure(call(net, 'p', ECHO, 'hello'));
		expect(error).toBeInstanceOf(ProtocolError);
		expect((error as ProtocolError).kind).toBe('remote');
		expect((error as Error).message).toMatch(/no such record/);
		expect(net.state.open).toBe(0);
	});

	it('times out a silent peer and resets its stream', async () => {
		const net = memoryNet();
		serve(net, ECHO, () => new Promise<string>(() => {}));
		const error = await failure(call(net, 'p', ECHO, 'hello'));
		expect((error as ProtocolError).kind).toBe('timeout');
		await expect.poll(() => net.state).toEqual({ open: 0, opened: 1, reset: 1 });
	});

	it('refuses an oversized request before opening a stream, and an oversized answer', async () => {
		const net = memoryNet();
		serve(net, ECHO, async () => 'x'.repeat(65));
		expect(((await failure(call(net, 'p', ECHO, 'x'.repeat(65)))) as ProtocolError).kind).toBe('oversized');
		expect(net.state.opened).toBe(0);
		// the server refuses to send it: the caller hears a remote failure naming the limit
		const error = (await failure(call(net, 'p', ECHO, 'hi'))) as ProtocolError;
		expect(error.kind).toBe('remote');
		expect(error.message).toMatch(/exceeds the 64-byte limit/);
		expect(net.state.open).toBe(0);
	});

	it('refuses an oversized or second response frame from a peer that skips serve()', async () => {
		const net = memoryNet();
		net.handle(ECHO.id, async function* (request) {
			yield request.length > 1 ? new Uint8Array(65) : new Uint8Array(1);
			yield new Uint8Array(1);
		});
		expect(((await failure(call(net, 'p', ECHO, 'hi'))) as ProtocolError).kind).toBe('oversized');
		expect(((await failure(call(net, 'p', ECHO, 'h'))) as ProtocolError).kind).toBe('extra-frame');
		await expect.poll(() => net.state.open).toBe(0);
	});

	it('says when the other side answers nothing', async () => {
		const net = memoryNet();
		net.handle(ECHO.id, async function* () {});
		expect(((await failure(call(net, 'p', ECHO, 'hi'))) as ProtocolError).kind).toBe('no-answer');
		expect(net.state.open).toBe(0);
	});

	it("passes the codec's refusal through unchanged, so the caller may blame the peer", async () => {
		const net = memoryNet();
		serve(net, ECHO, async () => 'bad answer');
		const error = await failure(call(net, 'p', ECHO, 'hi'));
		expect(error).toBeInstanceOf(ValidationError);
		expect(net.state.open).toBe(0);
	});

	it('serve decodes the request before the handler runs', async () => {
		const net = memoryNet();
		let ran = false;
		serve(net, ECHO, async () => ((ran = true), 'ok'));
		expect(((await failure(call(net, 'p', ECHO, 'bad request'))) as ProtocolError).kind).toBe('remote');
		expect(ran).toBe(false);
	});

	it("uses the descriptor's error mapping for protocol failures", async () => {
		const net = memoryNet();
		class Sentence extends Error {}
		const mapped = defineProtocol({ ...ECHO, mapError: (e) => new Sentence(`mapped ${e.kind}`) });
		serve(net, mapped, () => new Promise<string>(() => {}));
		const error = await failure(call(net, 'p', mapped, 'hi'));
		expect(error).toBeInstanceOf(Sentence);
		expect((error as Error).message).toBe('mapped timeout');
	});

	it("throws the caller's abort reason and resets the stream", async () => {
		const net = memoryNet();
		serve(net, ECHO, () => new Promise<string>(() => {}));
		const controller = new AbortController();
		const pending = failure(call(net, 'p', ECHO, 'hi', { signal: controller.signal }));
		const reason = new Error('the patient left the page');
		controller.abort(reason);
		expect(await pending).toBe(reason);
		await expect.poll(() => net.state).toEqual({ open: 0, opened: 1, reset: 1 });
	});

	it('closes every stream over many calls on every path', async () => {
		const net = memoryNet();
		serve(net, ECHO, async (request) => {
			if (request === 'fail') throw new Error('refused');
			if (request === 'hang') return new Promise<string>(() => {});
			return request;
		});
		const quick = defineProtocol({ ...ECHO, timeoutMs: 20 });
		const kinds = ['ok', 'fail', 'hang'];
		const results = await Promise.allSettled(
			Array.from({ length: 210 }, (_, i) => call(net, 'p', quick, kinds[i % 3]!))
		);
		expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(70);
		await expect.poll(() => net.state.open).toBe(0);
		expect(net.state.opened).toBe(210);
	});
});
