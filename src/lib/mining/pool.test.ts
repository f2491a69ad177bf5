import { describe, expect, it } from 'vitest';
import { Ledger } from '../core/chain.ts';
import { targetForExpectedHashes } from '../../../tests/fixtures/genesis-dev.ts';
import { registersRoot, sealKeyblock, type KeyblockHeader } from '../core/keyblock.ts';
import { meetsTarget, powHash } from '../core/pow.ts';
import { clinics, testGenesis, timeOf } from '../../../tests/fixtures/chain.ts';
import { MinerPool } from './pool.ts';
import { spawnMiner } from './spawn.node.ts';

/** Nothing meets a zero target: the workers hash until told otherwise. */
const impossible = { prefix64: new Uint8Array(64), minerKey: new Uint8Array(32), target: new Uint8Array(32) };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean, ms = 20_000): Promise<void> {
	const deadline = Date.now() + ms;
	while (!condition()) {
		if (Date.now() > deadline) throw new Error('condition not met in time');
		await sleep(20);
	}
}

describe('miner pool (Node worker_threads)', () => {
	it('mines a real keyblock at low difficulty that the ledger accepts', async () => {
		const genesis = testGenesis({ initialTarget: targetForExpectedHashes(20_000n) });
		const ledger = new Ledger(genesis);
		const miner = clinics[0]!;
		const base: Omit<KeyblockHeader, 'nonce'> = {
			height: 1,
			prev: ledger.tipHash,
			penu: ledger.penuFor(1),
			miner: miner.institution.id,
			target: ledger.nextTarget(),
			timestamp: timeOf(ledger, 1),
			registersRoot: registersRoot([])
		};
		const progress: number[] = [];
		const pool = new MinerPool({
			workers: 2,
			spawn: spawnMiner,
			onProgress: (s) => progress.push(s[0]!.hashes)
		});
		try {
			const nonce = await pool.mine({
				prefix64: new Uint8Array([...base.prev, ...base.penu]),
				minerKey: base.miner,
				target: base.target
			});
			expect(nonce).not.toBeNull();
			expect(meetsTarget(powHash(base.prev, base.penu, nonce!, base.miner), base.target)).toBe(true);
			const block = sealKeyblock({ ...base, nonce: nonce! }, [], miner.secrets.signingKey);
			ledger.appendKeyblock(block, base.timestamp);
			expect(ledger.height).toBe(1);
			expect(progress.length).toBeGreaterThan(0);
			expect(pool.stats.every((s) => s.simd === true || s.simd === null)).toBe(true);
		} finally {
			pool.terminate();
		}
	});

	it('reports an exhausted range as null, and a stopped job as null', async () => {
		const pool = new MinerPool({ workers: 1, spawn: spawnMiner, simd: false });
		try {
			expect(await pool.mine(impossible, 10_000n)).toBeNull();
			expect(pool.stats[0]).toEqual({ hashes: 10_000, simd: false });
			const running = pool.mine(impossible);
			pool.stop();
			expect(await running).toBeNull();
		} finally {
			pool.terminate();
		}
	});

	it('hashes nothing while paused (after the chunks in flight), also on a new job, and resumes', async () => {
		let reports = 0;
		let lastReport = 0;
		const workers = 2;
		const pool = new MinerPool({
			workers,
			spawn: spawnMiner,
			onProgress: () => {
				reports += 1;
				lastReport = Date.now();
			}
		});
		try {
			void pool.mine(impossible);
			await until(() => pool.stats.every((s) => s.hashes > 0));
			pool.pause();
			const reportsAtPause = reports;
			// Each worker may finish the chunk it was running (about CHUNK_MS = 50 ms) when the pause came.
			await until(() => Date.now() - lastReport > 400);
			expect(reports - reportsAtPause).toBeLessThanOrEqual(workers);
			const held = pool.hashes;
			await sleep(500);
			expect(pool.hashes).toBe(held);
			expect(pool.paused).toBe(true);
			// A new job (the tip moved) keeps the pause, from its first chunk on.
			void pool.mine(impossible);
			await sleep(500);
			expect(pool.hashes).toBe(held);
			pool.resume();
			await until(() => pool.hashes > held);
			expect(pool.paused).toBe(false);
			// Stop ends a pause: the next job hashes.
			pool.pause();
			pool.stop();
			const stopped = pool.hashes;
			void pool.mine(impossible);
			await until(() => pool.hashes > stopped);
		} finally {
			pool.terminate();
		}
	});

	it('resizes while mining: added workers join the job, removed ones keep their hashes in the total', async () => {
		const pool = new MinerPool({ workers: 1, spawn: spawnMiner });
		try {
			const running = pool.mine(impossible);
			await until(() => pool.hashes > 0);
			pool.resize(3);
			expect(pool.workers).toBe(3);
			await until(() => pool.stats.every((s) => s.hashes > 0));
			const before = pool.hashes;
			pool.resize(1);
			expect(pool.stats).toHaveLength(1);
			expect(pool.hashes).toBeGreaterThanOrEqual(before);
			const after = pool.hashes;
			await until(() => pool.hashes > after);
			// A resize while paused keeps every worker, old and new, held.
			pool.pause();
			pool.resize(2);
			await sleep(400); // the chunk in flight at the pause
			const held = pool.hashes;
			await sleep(1500); // long enough for the new worker to load and run a chunk if it were not held
			expect(pool.hashes).toBe(held);
			pool.stop();
			expect(await running).toBeNull();
			expect(() => pool.resize(0)).toThrow(RangeError);
		} finally {
			pool.terminate();
		}
	});

	it('settles a job as exhausted once the remaining workers are done', async () => {
		const pool = new MinerPool({ workers: 2, spawn: spawnMiner, simd: false });
		try {
			const running = pool.mine(impossible, 20_000n);
			pool.resize(1);
			expect(await running).toBeNull();
			expect(pool.stats[0]!.hashes).toBe(20_000);
		} finally {
			pool.terminate();
		}
	});
});
