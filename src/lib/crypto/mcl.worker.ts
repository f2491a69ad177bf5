/**
 * A worker of the mcl verifier's pool (mcl-pool.ts): loads mcl, says `ready`, then runs batch jobs
 * (mcl-batch-job.ts) one message at a time. The same module serves as a browser Web Worker (bundled by
 * Vite) and as a Node worker thread (run through tsx): it talks to whichever parent it has.
 */
import type * as WorkerThreads from 'node:worker_threads';
import { millerValueOf, type JobRequest, type JobResponse } from './mcl-batch-job.ts';
import { loadMcl } from './mcl.ts';

/** What this worker sends: a job's result, or that mcl is loaded. */
export type WorkerMessage = JobResponse | { ready: true };

function parent(): {
	post(message: WorkerMessage): void;
	listen(handler: (message: JobRequest) => void): void;
} {
	const threads = globalThis.process?.getBuiltinModule?.('node:worker_threads') as
		typeof WorkerThreads | undefined;
	const port = threads?.parentPort;
	if (port)
		return {
			post: (message) => port.postMessage(message),
			listen: (handler) => void port.on('message', handler)
		};
	const scope = self as unknown as DedicatedWorkerGlobalScope;
	return {
		post: (message) => scope.postMessage(message),
		listen: (handler) =>
			scope.addEventListener('message', (event: MessageEvent<JobRequest>) => handler(event.data))
	};
}

const port = parent();
const mcl = await loadMcl();
port.listen(({ id, items }) => {
	try {
		port.post({ id, miller: millerValueOf(mcl, items).serialize() });
	} catch (error) {
		port.post({ id, error: (error as Error).message });
	}
});
port.post({ ready: true });
