import { describe, expect, it } from 'vitest';
import { Ledger } from '../core/chain.ts';
import { targetForExpectedHashes } from '../core/genesis-dev.ts';
import { registersRoot, sealKeyblock, type KeyblockHeader } from '../core/keyblock.ts';
import { meetsTarget, powHash } from '../core/pow.ts';
import { clinics, testGenesis, timeOf } from '../../../tests/fixtures/chain.ts';
import { MinerPool } from './pool.ts';
import { spawnMiner } from './spawn.node.ts';

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
			const job = { prefix64: new Uint8Array(64), minerKey: new Uint8Array(32), target: new Uint8Array(32) };
			expect(await pool.mine(job, 10_000n)).toBeNull();
			expect(pool.stats[0]).toEqual({ hashes: 10_000, simd: false });
			const running = pool.mine(job);
			pool.pause();
			pool.resume();
			pool.stop();
			expect(await running).toBeNull();
		} finally {
			pool.terminate();
		}
	});
});
