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
