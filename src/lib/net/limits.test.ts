import { describe, expect, it } from 'vitest';
import { LogLimiter, Scoreboard, TokenBuckets } from './limits.ts';

describe('TokenBuckets', () => {
	it('allows a burst, then the refill rate, per key', () => {
		let now = 0;
		const buckets = new TokenBuckets(10, 5, () => now);
		const taken = Array.from({ length: 7 }, () => buckets.take('a'));
		expect(taken).toEqual([true, true, true, true, true, false, false]);
		expect(buckets.take('b')).toBe(true);
		now += 100; // one token back at 10/s
		expect(buckets.take('a')).toBe(true);
		expect(buckets.take('a')).toBe(false);
		now += 60_000; // refills to the burst, not beyond
		expect(Array.from({ length: 6 }, () => buckets.take('a')).filter(Boolean)).toHaveLength(5);
	});
});

describe('Scoreboard', () => {
	it('bans at the threshold, decays points and lifts the ban after banMs', () => {
		let now = 0;
		const board = new Scoreboard(100, 1000, 10_000, () => now);
		expect(board.add('p', 60, 'first')).toBe(false);
		now += 1000; // half-life: 60 → 30
		expect(board.points('p')).toBeCloseTo(30);
		expect(board.add('p', 60, 'second')).toBe(false);
		expect(board.add('p', 20, 'third')).toBe(true);
		expect(board.isBanned('p')).toBe(true);
		expect(board.banned()).toEqual(['p']);
		expect(board.add('p', 20, 'again')).toBe(false); // already banned: not banned "again"
		now += 10_001;
		expect(board.isBanned('p')).toBe(false);
		expect(board.points('p')).toBe(0);
		expect(board.log.map((e) => e.reason)).toEqual(['first', 'second', 'third', 'again']);
	});
});

describe('Scoreboard memory', () => {
	it('forgets peers whose points decayed, so passing identities do not pile up', () => {
		let now = 0;
		const board = new Scoreboard(100, 1000, 60_000, () => now);
		for (let k = 0; k < 1000; k++) board.add(`passer ${k}`, 5, 'rate');
		expect(board.tracked).toBe(1000);
		now += 10_000; // ten half-lives: 5 points are < 1
		for (let k = 0; k < 30; k++) board.add(`newcomer ${k}`, 5, 'rate');
		expect(board.tracked).toBeLessThanOrEqual(30);
	});
});

describe('LogLimiter', () => {
	it('writes a few lines per key and window, then says how many it left out', () => {
		let now = 0;
		const lines: string[] = [];
		const log = new LogLimiter(
			2,
			1000,
			(line) => lines.push(line),
			() => now
		);
		for (let k = 0; k < 100; k++) log.log('refused', `refused ${k}`);
		log.log('other', 'other 0');
		expect(lines).toEqual(['refused 0', 'refused 1', 'other 0']);
		now += 1000;
		log.log('refused', 'refused 100');
		expect(lines.slice(3)).toEqual(['refused: 98 more lines left out in 1 s', 'refused 100']);
	});
});
