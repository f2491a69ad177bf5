// Starts a miner as a Node worker thread. The worker registers tsx itself before importing the
// TypeScript worker module: Node 20 does not pass `--import tsx` hooks on to worker threads.
import { Worker } from 'node:worker_threads';
import type { FromMiner, MinerPort } from './protocol.ts';

const WORKER = new URL('../workers/miner.worker.node.ts', import.meta.url).href;
const BOOTSTRAP = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER)}); });`;

export function spawnMiner(): MinerPort {
	const worker = new Worker(BOOTSTRAP, { eval: true });
	const handlers: ((message: FromMiner) => void)[] = [];
	worker.on('message', (message: FromMiner) => handlers.forEach((handler) => handler(message)));
	// A worker that dies reports it as an error of every job it could have been running.
	worker.on('error', (error) =>
		handlers.forEach((handler) => handler({ type: 'error', jobId: -1, message: error.message }))
	);
	return {
		post: (message) => worker.postMessage(message),
		onMessage: (handler) => void handlers.push(handler),
		terminate: () => void worker.terminate()
	};
}
