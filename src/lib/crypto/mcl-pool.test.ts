// The mcl worker pool: its jobs give the same Miller values as this thread, and a Node process that used
// it exits by itself (idle workers are unref'd).
import { spawnSync } from 'node:child_process';
import { bn254 } from '@noble/curves/bn254.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { millerValueOf, pairItem, type PairItem } from './mcl-batch-job.ts';
import { fr, g1, g2, loadMcl, type Mcl } from './mcl.ts';
import { sharedMclPool, type MclPool } from './mcl-pool.ts';

let mcl: Mcl;
let pool: MclPool;

function items(count: number, seed: bigint): PairItem[] {
	return Array.from({ length: count }, (_, i) => {
		const a = bn254.G1.Point.BASE.multiply(seed + BigInt(i)).toAffine();
		const b = bn254.G2.Point.BASE.multiply(seed * 7n + BigInt(i)).toAffine();
		return pairItem(
			g1(mcl, [a.x, a.y]),
			g2(mcl, [
				[b.x.c0, b.x.c1],
				[b.y.c0, b.y.c1]
			]),
			fr(mcl, (seed << 64n) + BigInt(i) + 1n)
		);
	});
}

async function waitReady(deadline = Date.now() + 60_000): Promise<void> {
	while (pool.ready < pool.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

beforeAll(async () => {
	mcl = await loadMcl();
	pool = sharedMclPool()!;
	await waitReady();
});

describe('mcl worker pool', () => {
	it('starts one worker per core (at most 4) and computes what this thread computes', async () => {
		expect(pool.ready).toBe(pool.size);
		const jobs = [items(9, 11n), items(3, 12345n), items(1, 99n)];
		const remote = await Promise.all(jobs.map((job) => pool.run(job)));
		jobs.forEach((job, i) => {
			const value = new mcl.GT();
			value.deserialize(remote[i]!);
			expect(value.isEqual(millerValueOf(mcl, job))).toBe(true);
		});
	});

	it('lets a Node process that used it exit on its own', () => {
		const script = `
			import { sharedMclPool } from ${JSON.stringify(new URL('./mcl-pool.ts', import.meta.url).href)};
			import { pairItem } from ${JSON.stringify(new URL('./mcl-batch-job.ts', import.meta.url).href)};
			import { fr, g1, g2, loadMcl } from ${JSON.stringify(new URL('./mcl.ts', import.meta.url).href)};
			const mcl = await loadMcl();
			const pool = sharedMclPool();
			while (pool.ready < pool.size) await new Promise((r) => setTimeout(r, 20));
			const a = g1(mcl, [1n, 2n]);
			const b = g2(mcl, [[${bn254.G2.Point.BASE.toAffine().x.c0}n, ${bn254.G2.Point.BASE.toAffine().x.c1}n],
				[${bn254.G2.Point.BASE.toAffine().y.c0}n, ${bn254.G2.Point.BASE.toAffine().y.c1}n]]);
			const bytes = await pool.run([pairItem(a, b, fr(mcl, 3n))]);
			console.log('done', bytes.length);
		`;
		const run = spawnSync('node', ['--import', 'tsx', '--input-type=module', '-e', script], {
			encoding: 'utf8',
			timeout: 60_000
		});
		expect(run.stderr).toBe('');
		expect(run.stdout.trim()).toBe('done 384');
		expect(run.status).toBe(0);
	}, 90_000);
});
