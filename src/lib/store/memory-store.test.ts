import { describe, expect, it } from 'vitest';
import { REOPEN_CHECKS, STORE_CONTRACT } from './contract.ts';
import { MemoryStore } from './memory-store.ts';

describe('MemoryStore meets the Store contract', () => {
	for (const check of STORE_CONTRACT.filter((c) => !REOPEN_CHECKS.has(c.name)))
		it(check.name, () => check.run({ fresh: async () => new MemoryStore() }));

	it('keeps order when keys arrive out of order after deletes', async () => {
		const store = new MemoryStore();
		await store.write(
			['d', 'b', 'c', 'a'].map((key) => ({ table: 'meta' as const, key, value: new Uint8Array([1]) }))
		);
		await store.write([{ table: 'meta', key: 'b', value: null }]);
		await store.write([{ table: 'meta', key: 'aa', value: new Uint8Array([2]) }]);
		expect((await store.list('meta')).map(([k]) => k)).toEqual(['a', 'aa', 'c', 'd']);
	});
});
