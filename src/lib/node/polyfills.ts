/**
 * Node-only entry polyfills. libp2p 3 assumes Node 22 (Promise.withResolvers); Node 20 processes
 * import this module first. WebSocket comes from `--experimental-websocket` on Node 20.
 */
if (typeof Promise.withResolvers !== 'function') {
	Object.defineProperty(Promise, 'withResolvers', {
		configurable: true,
		writable: true,
		value: function withResolvers<T>() {
			let resolve!: (value: T | PromiseLike<T>) => void;
			let reject!: (reason?: unknown) => void;
			const promise = new Promise<T>((res, rej) => {
				resolve = res;
				reject = rej;
			});
			return { promise, resolve, reject };
		}
	});
}
export {};
