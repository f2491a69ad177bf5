import { spawn, spawnSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concatBytes } from '@noble/hashes/utils.js';
import { afterAll, describe, expect, it } from 'vitest';
import { STORE_CONTRACT, type StoreHarness } from './contract.ts';
import { LOG_FILE, openStore, StoreLockedError } from './store.node.ts';
import { StoreCorruptError } from './store.ts';
import { encodeFrame, LOG_MAGIC } from './write-log.ts';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), 'spchain-store-'));
	dirs.push(dir);
	return dir;
}
afterAll(async () => {
	for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const where = new WeakMap<object, string>();
const harness: StoreHarness = {
	fresh: async () => {
		const dir = await tempDir();
		const store = await openStore(dir);
		where.set(store, dir);
		return store;
	},
	reopen: async (store) => {
		const dir = where.get(store)!;
		await store.close();
		const again = await openStore(dir);
		where.set(again, dir);
		return again;
	}
};

const CHILD = fileURLToPath(new URL('./store.node.child.ts', import.meta.url));
const TSX = ['--import', 'tsx'];

describe('NodeStore meets the Store contract', () => {
	for (const check of STORE_CONTRACT) it(check.name, () => check.run(harness));
});

describe('NodeStore on disk', () => {
	it('cuts off a torn tail and keeps every whole batch', async () => {
		const dir = await tempDir();
		let store = await openStore(dir);
		await store.write([{ table: 'keyblocks', key: '1', value: new Uint8Array([1]) }]);
		await store.write([{ table: 'keyblocks', key: '2', value: new Uint8Array([2]) }]);
		await store.close();
		const committed = (await stat(join(dir, LOG_FILE))).size;
		// A crash after part of the next batch reached the disk: header and some of the payload.
		const frame = encodeFrame([
			{ table: 'keyblocks', key: '3', value: new Uint8Array(500) },
			{ table: 'meta', key: 'tip', value: new Uint8Array([3]) }
		]);
		for (const cut of [3, 8, 20, frame.length - 1]) {
			await appendFile(join(dir, LOG_FILE), frame.subarray(0, cut));
			store = await openStore(dir);
			expect(store.recoveredTornBytes).toBe(cut);
			expect((await store.list('keyblocks')).map(([k]) => k)).toEqual(['1', '2']);
			expect(await store.get('meta', 'tip')).toBeUndefined();
			await store.close();
			expect((await stat(join(dir, LOG_FILE))).size).toBe(committed);
		}
		// A whole-length last frame whose bytes did not all reach the disk (checksum fails).
		const damaged = frame.slice();
		damaged[damaged.length - 5]! ^= 0xff;
		await appendFile(join(dir, LOG_FILE), damaged);
		store = await openStore(dir);
		expect(store.recoveredTornBytes).toBe(frame.length);
		await store.write([{ table: 'keyblocks', key: '3', value: new Uint8Array([3]) }]);
		await store.close();
		store = await openStore(dir);
		expect(store.recoveredTornBytes).toBe(0);
		expect((await store.list('keyblocks')).map(([k]) => k)).toEqual(['1', '2', '3']);
		await store.close();
	});

	it('reports damage inside committed data instead of dropping what follows', async () => {
		const dir = await tempDir();
		const store = await openStore(dir);
		await store.write([{ table: 'meta', key: 'a', value: new Uint8Array(50).fill(1) }]);
		await store.write([{ table: 'meta', key: 'b', value: new Uint8Array(50).fill(2) }]);
		await store.close();
		const file = await readFile(join(dir, LOG_FILE));
		file[20]! ^= 0x01; // inside the first frame's payload
		await writeFile(join(dir, LOG_FILE), file);
		await expect(openStore(dir)).rejects.toBeInstanceOf(StoreCorruptError);
		await writeFile(join(dir, LOG_FILE), new TextEncoder().encode('not a log at all'));
		await expect(openStore(dir)).rejects.toBeInstanceOf(StoreCorruptError);
	});

	it('keeps every batch a killed process reported committed', async () => {
		const dir = await tempDir();
		const child = spawn(process.execPath, [...TSX, CHILD, 'crash', dir], {
			stdio: ['ignore', 'pipe', 'inherit']
		});
		let out = '';
		child.stdout.on('data', (chunk: Buffer) => {
			out += chunk.toString();
			if ((out.match(/committed/g) ?? []).length >= 40) child.kill('SIGKILL');
		});
		await new Promise((resolve) => child.on('exit', resolve));
		const reported = [...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1]));
		expect(reported.length).toBeGreaterThanOrEqual(40);
		const store = await openStore(dir); // the dead child's lock file is taken over
		const keys = (await store.list('keyblocks')).map(([k]) => Number(k));
		// Every reported batch is there; at most the one in flight when killed was also committed.
		expect(keys.slice(0, reported.length)).toEqual(reported);
		expect(keys.length - reported.length).toBeLessThanOrEqual(1);
		expect(Number(new TextDecoder().decode(await store.get('meta', 'tip')))).toBe(keys.length - 1);
		await store.close();
	});

	it('turns a full disk into StorageFullError and writes nothing of that batch', async () => {
		const dir = await tempDir();
		// ulimit -f counts 512-byte blocks: 16 blocks = 8 KiB of file, so the 64 KiB batch cannot fit.
		const result = spawnSync(
			'sh',
			['-c', `ulimit -f 16; exec "$0" "$@"`, process.execPath, ...TSX, CHILD, 'full', dir],
			{
				encoding: 'utf8'
			}
		);
		expect(result.stderr).toBe('');
		const report = JSON.parse(result.stdout) as Record<string, unknown>;
		expect(report).toMatchObject({ full: true, smallLength: 100, hasBig: false });
		expect(report.message).toMatch(/no storage left/);
		const store = await openStore(dir);
		expect((await store.get('meta', 'small'))?.length).toBe(100);
		expect(await store.get('meta', 'after')).toEqual(new Uint8Array([1]));
		await store.close();
	});

	it('refuses a second open of the same directory while the first is open', async () => {
		const dir = await tempDir();
		const store = await openStore(dir);
		await expect(openStore(dir)).rejects.toBeInstanceOf(StoreLockedError);
		await store.close();
		await (await openStore(dir)).close();
	});

	it('compacts a log that is mostly overwritten rows when it opens', async () => {
		const dir = await tempDir();
		// A log as an older build (or a crash before a compaction) could leave it: 3 MB, 3 live rows.
		const frames: Uint8Array[] = [LOG_MAGIC];
		for (let i = 0; i < 3000; i++) {
			const value = new Uint8Array(1000);
			value[0] = i % 256;
			frames.push(encodeFrame([{ table: 'voting', key: `state${i % 3}`, value }]));
		}
		frames.push(encodeFrame([{ table: 'voting', key: 'state2', value: null }]));
		const log = concatBytes(...frames);
		expect(log.length).toBeGreaterThan(3_000_000);
		await writeFile(join(dir, LOG_FILE), log);
		let store = await openStore(dir);
		expect(store.logBytes).toBeLessThan(5_000);
		expect((await stat(join(dir, LOG_FILE))).size).toBe(store.logBytes);
		expect((await store.get('voting', 'state0'))?.[0]).toBe(2997 % 256);
		expect(await store.get('voting', 'state2')).toBeUndefined();
		await store.write([{ table: 'voting', key: 'state2', value: new Uint8Array([5]) }]);
		await store.close();
		store = await openStore(dir);
		expect((await store.list('voting')).map(([k]) => k)).toEqual(['state0', 'state1', 'state2']);
		await store.close();
	});

	it('compacts while running, without a reopen, once the log doubles past 1 MiB', async () => {
		const dir = await tempDir();
		const store = await openStore(dir, { sync: false });
		const value = new Uint8Array(1000);
		for (let i = 0; i < 5000; i++) {
			value[0] = i % 256;
			await store.write([{ table: 'voting', key: `state${i % 2}`, value }]);
			expect(store.logBytes).toBeLessThan(1.1 * 2 ** 20);
		}
		expect((await stat(join(dir, LOG_FILE))).size).toBe(store.logBytes);
		await store.write([{ table: 'voting', key: 'after', value: new Uint8Array([1]) }]);
		await store.close();
		const again = await openStore(dir);
		expect((await again.get('voting', 'state1'))?.[0]).toBe(4999 % 256);
		expect((await again.list('voting')).map(([k]) => k)).toEqual(['after', 'state0', 'state1']);
		await again.close();
	});
});
