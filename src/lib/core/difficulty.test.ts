import { describe, expect, it } from 'vitest';
import { bigIntToBytes, bytesToBigInt } from './bytes.ts';
import { checkTarget, checkTimestamp, medianTimePast, nextTarget, type TimedTarget } from './difficulty.ts';

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

	it('accepts a timestamp after the median time past and within the drift of now', () => {
		// past = 100..1100 step 100 (11 values): median = 600.
		const past = Array.from({ length: 11 }, (_, i) => 100 * (i + 1));
		expect(() => checkTimestamp(601, past, 0, 1000)).not.toThrow();
		expect(() => checkTimestamp(5000, past, 4000, 1000)).not.toThrow();
	});

	it('rejects a stale timestamp (at or before the median of the last 11) as keyblock-stale', () => {
		const past = Array.from({ length: 11 }, (_, i) => 100 * (i + 1));
		expect(() => checkTimestamp(600, past, 10_000, 1000)).toThrow(
			expect.objectContaining({ code: 'keyblock-stale' })
		);
		// Older blocks beyond the last 11 do not count: with 0 prepended the median is still 600.
		expect(() => checkTimestamp(600, [0, ...past], 10_000, 1000)).toThrow(
			expect.objectContaining({ code: 'keyblock-stale' })
		);
		// One far-future timestamp in the past window cannot drag the median: [1,2,3,4,1e12] → 3.
		expect(() => checkTimestamp(4, [1, 2, 3, 4, 1e12], 10, 1000)).not.toThrow();
	});

	it('rejects a timestamp beyond now + drift as keyblock-future, and nonsense as keyblock-timestamp', () => {
		expect(() => checkTimestamp(5001, [0], 4000, 1000)).toThrow(
			expect.objectContaining({ code: 'keyblock-future' })
		);
		expect(() => checkTimestamp(1.5, [0], 4000, 1000)).toThrow(
			expect.objectContaining({ code: 'keyblock-timestamp' })
		);
		expect(() => checkTimestamp(5, [], 4000, 1000)).toThrow(
			expect.objectContaining({ code: 'keyblock-timestamp' })
		);
	});

	it('rejects a keyblock carrying any target other than the adjusted one as keyblock-target', () => {
		const history = chain(Array(10).fill(20_000));
		expect(() => checkTarget(bigIntToBytes(2n * T0, 32), history, params)).not.toThrow();
		expect(() => checkTarget(bigIntToBytes(T0, 32), history, params)).toThrow(
			expect.objectContaining({ code: 'keyblock-target' })
		);
		expect(() => checkTarget(bigIntToBytes(2n * T0 + 1n, 32), history, params)).toThrow(
			expect.objectContaining({ code: 'keyblock-target' })
		);
	});
});
