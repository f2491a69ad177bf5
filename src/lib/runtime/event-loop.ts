/**
 * Lets queued events be handled before going on: network messages already read, the thread pool's
 * messages (ffjavascript), a page's input (mcl computes on this thread). setImmediate where it exists
 * (Node), else a MessageChannel message, which browsers do not clamp to 4 ms as they do nested
 * setTimeout(0).
 */
export function yieldToEventLoop(): Promise<void> {
	if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
	return new Promise((resolve) => {
		const channel = new MessageChannel();
		channel.port1.onmessage = () => {
			channel.port1.close();
			resolve();
		};
		channel.port2.postMessage(null);
	});
}
