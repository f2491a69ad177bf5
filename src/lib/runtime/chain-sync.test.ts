/**
 * Serving sync is bounded: a peer gets one sync at a time, and only a few run at once, since each holds
 * a copy of the journal's tail (a peer opening syncs in a loop must not multiply our memory and CPU).
 */
import { describe, expect, it } from 'vitest';
import { encodeCanonical } from '../core/encoding.ts';
import type { PeerNet, StreamHandler } from '../net/peer-net.ts';
import { MAX_SERVED_SYNCS, serveSync, SyncBusyError, type SyncSource } from './chain-sync.ts';

function serving(): StreamHandler {
	let handler: StreamHandler | undefined;
	const net = { handle: (_: string, h: StreamHandler) => (handler = h) } as unknown as PeerNet;
	const source: SyncSource = {
		async *journal() {
			for (let k = 0; k < 3; k++) yield { type: 'keyblock', bytes: new Uint8Array([k]) };
		}
	};
	serveSync(net, source);
	return handler!;
}

const request = encodeCanonical({ from: 0 });

describe('serving sync', () => {
	it('serves one sync per peer at a time and a bounded number in all', async () => {
		const handler = serving();
		const first = handler(request, 'peer-a')[Symbol.asyncIterator]();
		expect((await first.next()).done).toBe(false); // running: its header is out
		await expect(handler(request, 'peer-a')[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(
			SyncBusyError
		);
		const others = [];
		for (let k = 1; k < MAX_SERVED_SYNCS; k++) {
			const running = handler(request, `peer-${k}`)[Symbol.asyncIterator]();
			await running.next();
			others.push(running);
		}
		await expect(handler(request, 'peer-z')[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(
			SyncBusyError
		);
		// Once the first is done, its peer may sync again.
		while (!(await first.next()).done);
		expect((await handler(request, 'peer-a')[Symbol.asyncIterator]().next()).done).toBe(false);
	});
});
