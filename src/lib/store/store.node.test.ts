import { spawn, spawnSync } from 'node:child_process';
import { cp, mkdtemp, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concatBytes } from '@noble/hashes/utils.js';
import { afterAll, describe, expect, it } from 'vitest';
import { STORE_CONTRACT, type StoreHarness } from './contract.ts';
import { LEVEL_DIR, LOG_FILE, openStore, StoreLockedError } from './store.node.ts';
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

/** Runs the child's endless numbered writes and kills it (SIGKILL) once it reported `count` commits. */
async function killMidWrite(dir: string, count: number): Promise<number[]> {
	const child = spawn(process.execPath, [...TSX, CHILD, 'crash', dir], {
		stdio: ['ignore', 'pipe', 'inherit']
	});
	let out = '';
	child.stdout.on('data', (chunk: Buffer) => {
		out += chunk.toString();
		if ((out.match(/committed/g) ?? []).length >= count) child.kill('SIGKILL');
	});
	await new Promise((resolve) => child.on('exit', resolve));
	return [...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1]));
}

/** The child writes keyblock i and meta/tip = i in one batch: both or neither must be there. */
async function expectWholeBatches(dir: string): Promise<number[]> {
	const store = await openStore(dir);
	try {
		const keys = (await store.list('keyblocks')).map(([k]) => Number(k));
		expect(keys).toEqual(keys.map((_, i) => i)); // a prefix of the batches, no gap
		const tip = await store.get('meta', 'tip');
		if (keys.length === 0) expect(tip).toBeUndefined();
		else expect(Number(new TextDecoder().decode(tip))).toBe(keys.length - 1);
		return keys;
	} finally {
		await store.close();
	}
}

describe('NodeStore (LevelDB) meets the Store contract', () => {
	for (const check of STORE_CONTRACT) it(check.name, () => check.run(harness));
});

describe('NodeStore on disk', () => {
	it('keeps every batch a killed process reported committed', async () => {
		const dir = await tempDir();
		const reported = await killMidWrite(dir, 40);
		expect(reported.length).toBeGreaterThanOrEqual(40);
		const keys = await expectWholeBatches(dir); // the dead child's LevelDB lock is released with it
		// Every reported batch is there; at most the one in flight when killed was also committed.
		expect(keys.slice(0, reported.length)).toEqual(reported);
		expect(keys.length - reported.length).toBeLessThanOrEqual(1);
	});

	it('drops a torn last batch and keeps every whole one before it', async () => {
		const dir = await tempDir();
		const reported = await killMidWrite(dir, 30);
		const level = join(dir, LEVEL_DIR);
		const log = (await readdir(level))
			.filter((f) => f.endsWith('.log'))
			.sort()
			.at(-1)!;
		const size = (await stat(join(level, log))).size;
		expect(size).toBeGreaterThan(20_000); // the child's batches are ~20 kB: the log holds several
		// As if the power went while the last batches were reaching the disk: cut the log anywhere.
		for (const cut of [1, 7, 5_000, 20_011, 41_000]) {
			if (cut >= size) continue;
			const copy = await tempDir();
			await cp(dir, copy, { recursive: true });
			await truncate(join(copy, LEVEL_DIR, log), size - cut);
			const keys = await expectWholeBatches(copy);
			// The cut loses at most the batches whose bytes it removed (each is more than 20,000 bytes).
			expect(keys.length).toBeGreaterThanOrEqual(reported.length - 1 - Math.ceil(cut / 20_000));
			expect(keys.length).toBeLessThanOrEqual(reported.length + 1);
		}
	});

	it('turns a full disk into StorageFullError, writes nothing of that batch and carries on', async () => {
		const dir = await tempDir();
		// ulimit -f counts 512-byte blocks: 16 blocks = 8 KiB a file, so the 64 KiB batch cannot fit.
		const result = spawnSync(
			'sh',
			['-c', `ulimit -f 16; exec "$0" "$@"`, process.execPath, ...TSX, CHILD, 'full', dir],
			{ encoding: 'utf8' }
		);
		expect(result.stderr).toBe('');
		const report = JSON.parse(result.stdout) as Record<string, unknown>;
		expect(report).toMatchObject({ full: true, smallLength: 100, hasBig: false });
		expect(report.message).toMatch(/no storage left/);
		const store = await openStore(dir);
		expect((await store.get('meta', 'small'))?.length).toBe(100);
		expect(await store.get('meta', 'after')).toEqual(new Uint8Array([1]));
		expect(await store.get('ciphertexts', 'big')).toBeUndefined();
		await store.close();
	});

	it('refuses a second open of the same directory while the first is open', async () => {
		const dir = await tempDir();
		const store = await openStore(dir);
		await expect(openStore(dir)).rejects.toBeInstanceOf(StoreLockedError);
		await store.close();
		await (await openStore(dir)).close();
	});

	it('migrates a store written in the former log format, then deletes the log', async () => {
		const dir = await tempDir();
		const frames: Uint8Array[] = [LOG_MAGIC];
		for (let i = 0; i < 300; i++)
			frames.push(
				encodeFrame([
					{ table: 'keyblocks', key: String(i).padStart(6, '0'), value: new Uint8Array([i % 256]) },
					{ table: 'voting', key: 'state', value: new Uint8Array([i % 256, 1]) }
				])
			);
		frames.push(encodeFrame([{ table: 'keyblocks', key: '000007', value: null }]));
		// A torn tail, as a crash of the former store could leave it, is dropped as it was then.
		const torn = encodeFrame([{ table: 'meta', key: 'torn', value: new Uint8Array(50) }]).subarray(0, 20);
		await writeFile(join(dir, LOG_FILE), concatBytes(...frames, torn));
		await writeFile(join(dir, 'LOCK'), '999999999'); // the former format's lock, left by a dead process
		let store = await openStore(dir);
		expect(store.migratedRows).toBe(300);
		await expect(stat(join(dir, LOG_FILE))).rejects.toMatchObject({ code: 'ENOENT' });
		await store.close();
		store = await openStore(dir);
		expect(store.migratedRows).toBe(0);
		const keys = (await store.list('keyblocks')).map(([k]) => k);
		expect(keys).toHaveLength(299);
		expect(keys).not.toContain('000007');
		expect(await store.get('keyblocks', '000299')).toEqual(new Uint8Array([299 % 256]));
		expect(await store.get('voting', 'state')).toEqual(new Uint8Array([299 % 256, 1]));
		expect(await store.get('meta', 'torn')).toBeUndefined();
		await store.close();
	});

	it('orders keys as JavaScript strings, characters outside the BMP included', async () => {
		const store = await harness.fresh();
		const keys = ['\u{1F600}', '\uFFFF', '\uE000', 'z', '\u{10000}'];
		await store.write(keys.map((key) => ({ table: 'meta', key, value: new Uint8Array([1]) })));
		expect((await store.list('meta')).map(([k]) => k)).toEqual([...keys].sort());
		expect((await store.list('meta', { from: '\uD800' })).map(([k]) => k)).toEqual([
			'\u{10000}',
			'\u{1F600}',
			'\uE000',
			'\uFFFF'
		]);
		await store.close();
	});
});
