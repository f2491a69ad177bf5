import { describe, expect, it } from 'vitest';
import { bigIntToBytes, bytesToBigInt } from './bytes.ts';
import { medianTimePast, nextTarget, type TimedTarget } from './difficulty.ts';

const T0 = 1n << 240n;
const params = { initialTarget: bigIntToBytes(T0, 32), keyblockIntervalMs: 10_000, retargetInterval: 10 };
const chain = (intervals: number[], target = T0): TimedTarget[] => {
	let t = 0;
	return intervals.map((dt) => ({ timestamp: (t += dt), target: bigIntToBytes(target, 32) }));
};
const next = (history: TimedTarget[]) => bytesToBigInt(nextTarget(history, params));

describe('difficulty', () => {
	it('keeps the target between retargets and starts from genesis', () => {
		expect(next([])).toBe(T0);
		expect(next(chain(Array(9).fill(1)))).toBe(T0);
		expect(next(chain(Array(11).fill(1)))).toBe(T0);
	});

	it('scales the target by actual / expected span at each retarget', () => {
		expect(next(chain(Array(10).fill(10_000)))).toBe(T0);
		// Blocks twice too slow: the target doubles (easier); twice too fast: it halves.
		expect(next(chain(Array(10).fill(20_000)))).toBe(2n * T0);
		expect(next(chain(Array(10).fill(5_000)))).toBe(T0 / 2n);
	});

	it('bounds one step to ×4 and ×¼ however extreme the timestamps', () => {
		expect(next(chain(Array(10).fill(1_000_000)))).toBe(4n * T0);
		expect(next(chain(Array(10).fill(1)))).toBe(T0 / 4n);
	});

	it('ignores a single lying timestamp at either end of the window', () => {
		const honest = chain(Array(10).fill(10_000));
		const lyingLast = honest.map((k, i) => (i === 9 ? { ...k, timestamp: k.timestamp + 10_000_000 } : k));
		const lyingFirst = honest.map((k, i) => (i === 0 ? { ...k, timestamp: k.timestamp - 10_000_000 } : k));
		expect(next(lyingLast)).toBe(T0);
		expect(next(lyingFirst)).toBe(T0);
	});

	it('takes the median of the last 11 timestamps', () => {
		expect(medianTimePast([5])).toBe(5);
		expect(medianTimePast([1, 100, 3])).toBe(3);
		expect(medianTimePast([1000, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])).toBe(6);
	});
});
