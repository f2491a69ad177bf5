/**
 * Difficulty: keeps keyblocks arriving every `keyblockIntervalMs` on average (genesis), whatever the
 * consortium's hash power, and resists timestamp manipulation:
 * - validity: a keyblock's timestamp must exceed the median of the previous 11 (median time past), so
 *   one miner cannot drag time backwards, and may not lie beyond `maxFutureDriftMs` ahead of a node's
 *   clock (checked in chain.ts with the node's `now`);
 * - adjustment: every `retargetInterval` keyblocks the target is scaled by (actual span / expected span),
 *   the span measured between medians of the first and last 3 timestamps of the window (a single lying
 *   timestamp at either end cannot move it), and the step is bounded to ×¼..×4 per retarget.
 * Targets are 32-byte big-endian integers; a larger target is easier.
 */
import { bigIntToBytes, bytesToBigInt, equalBytes, type Bytes } from './bytes.ts';
import { ensure } from './errors.ts';

export const MEDIAN_TIME_SPAN = 11;
export const MAX_STEP = 4n;
const MAX_TARGET = (1n << 256n) - 1n;

export interface DifficultyParams {
	initialTarget: Bytes;
	keyblockIntervalMs: number;
	retargetInterval: number;
}

export interface TimedTarget {
	timestamp: number;
	target: Bytes;
}

function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median of the last 11 timestamps (fewer at the start of the chain). */
export function medianTimePast(timestamps: readonly number[]): number {
	return median(timestamps.slice(-MEDIAN_TIME_SPAN));
}

/** The target keyblock `history.length + 1` must carry, given the keyblocks so far (oldest first). */
export function nextTarget(history: readonly TimedTarget[], params: DifficultyParams): Bytes {
	const last = history.at(-1)?.target ?? params.initialTarget;
	const n = params.retargetInterval;
	if (history.length === 0 || history.length % n !== 0 || history.length < n) return last;
	const window = history.slice(-n).map((k) => k.timestamp);
	const edge = Math.min(3, window.length);
	const actual = Math.max(1, median(window.slice(-edge)) - median(window.slice(0, edge)));
	// The medians sit `n − edge` intervals apart (for edge = 3: from the 2nd to the (n−1)th keyblock).
	const expected = Math.max(1, (n - edge) * params.keyblockIntervalMs);
	let ratioNum = BigInt(actual);
	let ratioDen = BigInt(expected);
	if (ratioNum > ratioDen * MAX_STEP) [ratioNum, ratioDen] = [MAX_STEP, 1n];
	if (ratioNum * MAX_STEP < ratioDen) [ratioNum, ratioDen] = [1n, MAX_STEP];
	let target = (bytesToBigInt(last) * ratioNum) / ratioDen;
	if (target > MAX_TARGET) target = MAX_TARGET;
	if (target < 1n) target = 1n;
	return bigIntToBytes(target, 32);
}

/**
 * Timestamp validity of a new keyblock, given the earlier timestamps (oldest first, genesis included)
 * and the checking node's clock `now`: later than the median time past (`keyblock-stale`), and at most
 * `maxFutureDriftMs` ahead of `now` (`keyblock-future`).
 */
export function checkTimestamp(
	timestamp: number,
	past: readonly number[],
	now: number,
	maxFutureDriftMs: number
): void {
	ensure(Number.isSafeInteger(timestamp), 'keyblock-timestamp', 'the timestamp must be an integer (ms)');
	ensure(past.length > 0, 'keyblock-timestamp', 'a keyblock needs earlier timestamps (at least genesis)');
	const mtp = medianTimePast(past);
	ensure(
		timestamp > mtp,
		'keyblock-stale',
		`timestamp ${timestamp} is not after the median time past ${mtp}`
	);
	ensure(
		timestamp <= now + maxFutureDriftMs,
		'keyblock-future',
		`timestamp ${timestamp} is more than ${maxFutureDriftMs} ms ahead of now (${now})`
	);
}

/** Rejects (`keyblock-target`) a keyblock whose target is not the one difficulty adjustment demands. */
export function checkTarget(target: Bytes, history: readonly TimedTarget[], params: DifficultyParams): void {
	ensure(
		equalBytes(target, nextTarget(history, params)),
		'keyblock-target',
		'the keyblock carries the wrong target'
	);
}
