import { concatBytes } from '@noble/hashes/utils.js';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { StoreCorruptError } from './store.ts';
import { encodeFrame, LOG_MAGIC, replayLog } from './write-log.ts';

const batch = (key: string) => [{ table: 'meta' as const, key, value: new Uint8Array([1, 2, 3]) }];

describe('write log format', () => {
	it('replays whole frames in order, deletes included', () => {
		const file = concatBytes(
			LOG_MAGIC,
			encodeFrame(batch('a')),
			encodeFrame([{ table: 'meta', key: 'a', value: null }])
		);
		const { batches, validLength, tornBytes } = replayLog(file);
		expect(batches).toEqual([batch('a'), [{ table: 'meta', key: 'a', value: null }]]);
		expect(validLength).toBe(file.length);
		expect(tornBytes).toBe(0);
	});

	it('treats an empty file and a torn magic as an empty log', () => {
		expect(replayLog(new Uint8Array(0))).toEqual({ batches: [], validLength: 0, tornBytes: 0 });
		expect(replayLog(LOG_MAGIC.subarray(0, 5))).toEqual({ batches: [], validLength: 0, tornBytes: 5 });
	});

	it('stops at a torn last frame at every cut point', () => {
		const whole = concatBytes(LOG_MAGIC, encodeFrame(batch('a')));
		const next = encodeFrame(batch('b'));
		for (let cut = 1; cut < next.length; cut++) {
			const result = replayLog(concatBytes(whole, next.subarray(0, cut)));
			expect(result.batches).toEqual([batch('a')]);
			expect(result.validLength).toBe(whole.length);
		}
	});

	it('reports a checksummed frame that does not decode as a batch as damage when more follows', () => {
		const payload = new TextEncoder().encode('not cbor of a batch');
		const header = new Uint8Array(8);
		new DataView(header.buffer).setUint32(0, payload.length);
		new DataView(header.buffer).setUint32(4, crc32(payload));
		const file = concatBytes(LOG_MAGIC, header, payload, encodeFrame(batch('a')));
		expect(() => replayLog(file)).toThrow(StoreCorruptError);
	});
});
