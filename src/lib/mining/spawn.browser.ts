// Starts a miner as a browser Web Worker.
import type { FromMiner, MinerPort } from './protocol.ts';

export function spawnMiner(): MinerPort {
	const worker = new Worker(new URL('../workers/miner.worker.ts', import.meta.url), { type: 'module' });
	return {
		post: (message) => worker.postMessage(message),
		onMessage: (handler) =>
			worker.addEventListener('message', (event: MessageEvent<FromMiner>) => handler(event.data)),
		terminate: () => worker.terminate()
	};
}
