/** Resolves true as soon as `ready()` holds (re-checked on each `type` event), false after `timeoutMs`. */
export function waitFor(
	target: EventTarget,
	type: string,
	ready: () => boolean,
	timeoutMs: number
): Promise<boolean> {
	if (ready()) return Promise.resolve(true);
	return new Promise((resolve) => {
		const check = () => {
			if (!ready()) return;
			finish(true);
		};
		const timer = setTimeout(() => finish(false), timeoutMs);
		const finish = (result: boolean) => {
			clearTimeout(timer);
			target.removeEventListener(type, check);
			resolve(result);
		};
		target.addEventListener(type, check);
	});
}

/**
 * Waits at most `totalMs` for `settled()`: `graceMs` for gossip to bring the value, then `fetch()`
 * once (asking peers, value-fetch.ts), then what is left of `totalMs`.
 */
export async function settleOrFetch(
	target: EventTarget,
	type: string,
	settled: () => boolean,
	fetch: () => Promise<void>,
	graceMs: number,
	totalMs: number,
	clock: () => number
): Promise<void> {
	const started = clock();
	if (await waitFor(target, type, settled, graceMs)) return;
	await fetch();
	const left = totalMs - (clock() - started);
	if (!settled() && left > 0) await waitFor(target, type, settled, left);
}
