/**
 * Worker threads for the mcl verifier's Miller loops, one per core (at most MAX_WORKERS): mcl runs on one
 * thread, so a batch spread over the pool uses every core, while the caller's thread decodes proofs and
 * checks B's subgroup. Browser: Web Workers (Vite bundles mcl.worker.ts); Node: worker_threads running
 * mcl.worker.ts through tsx, as mining/spawn.node.ts does. One pool per realm, started by the first
 * batch large enough to use it (`sharedMclPool`); jobs go only to workers that said `ready`, so until
 * then the caller computes itself (`ready` is false) and nothing waits for a worker to start.
 *
 * Node threads are unref'd whenever they have no job, so an idle pool never keeps a process alive and
 * nothing needs terminating. A worker that fails rejects its jobs (the caller then computes them itself)
 * and takes no more.
 */
import type * as Os from 'node:os';
import type * as WorkerThreads from 'node:worker_threads';
import type { JobRequest, PairItem } from './mcl-batch-job.ts';
import type { WorkerMessage } from './mcl.worker.ts';

const MAX_WORKERS = 4;

/**
 * The worker's path for Node, as a variable: Vite turns `new URL('literal', import.meta.url)` into an
 * emitted asset, and the browser build must not ship the TypeScript source.
 */
const NODE_WORKER = './mcl.worker.ts';

interface Thread {
	post(message: JobRequest): void;
	ref(): void;
	unref(): void;
}

interface Member {
	thread: Thread;
	ready: boolean;
	dead: boolean;
	jobs: Map<number, { resolve(miller: Uint8Array): void; reject(error: Error): void }>;
}

function nodeBuiltin<T>(id: string): T | undefined {
	return globalThis.process?.getBuiltinModule?.(id) as T | undefined;
}

function spawn(onMessage: (message: WorkerMessage) => void, onError: (error: Error) => void): Thread {
	const threads = nodeBuiltin<typeof WorkerThreads>('node:worker_threads');
	if (threads) {
		const url = JSON.stringify(new URL(NODE_WORKER, import.meta.url).href);
		// Node 20 does not pass `--import tsx` on to worker threads: the worker registers tsx itself.
		const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${url}); });`;
		const worker = new threads.Worker(bootstrap, { eval: true });
		worker.on('message', onMessage);
		worker.on('error', onError);
		worker.on('exit', () => onError(new Error('mcl worker exited')));
		worker.unref();
		return {
			post: (message) => worker.postMessage(message),
			ref: () => worker.ref(),
			unref: () => worker.unref()
		};
	}
	const worker = new Worker(new URL('./mcl.worker.ts', import.meta.url), { type: 'module' });
	worker.addEventListener('message', (event: MessageEvent<WorkerMessage>) => onMessage(event.data));
	worker.addEventListener('error', (event) => onError(new Error(event.message || 'mcl worker failed')));
	return { post: (message) => worker.postMessage(message), ref: () => {}, unref: () => {} };
}

function cores(): number {
	const os = nodeBuiltin<typeof Os>('node:os');
	const count = os ? os.availableParallelism() : (globalThis.navigator?.hardwareConcurrency ?? 1);
	return Math.max(1, Math.min(MAX_WORKERS, count));
}

export class MclPool {
	private readonly members: Member[] = [];
	private nextId = 0;

	constructor(readonly size: number) {
		for (let i = 0; i < size; i++) {
			const member: Member = { thread: undefined!, ready: false, dead: false, jobs: new Map() };
			member.thread = spawn(
				(message) => this.receive(member, message),
				(error) => this.fail(member, error)
			);
			this.members.push(member);
		}
	}

	/** Workers that can take jobs now. */
	get ready(): number {
		return this.members.filter((m) => m.ready && !m.dead).length;
	}

	/** The Miller-loop value of the items' pairs (mcl's GT bytes), from the least busy ready worker. */
	run(items: PairItem[]): Promise<Uint8Array> {
		const members = this.members.filter((m) => m.ready && !m.dead);
		if (members.length === 0) return Promise.reject(new Error('no mcl worker is ready'));
		const member = members.reduce((best, m) => (m.jobs.size < best.jobs.size ? m : best));
		const id = this.nextId++;
		return new Promise((resolve, reject) => {
			if (member.jobs.size === 0) member.thread.ref();
			member.jobs.set(id, { resolve, reject });
			member.thread.post({ id, items });
		});
	}

	private receive(member: Member, message: WorkerMessage): void {
		if ('ready' in message) {
			member.ready = true;
			return;
		}
		const job = member.jobs.get(message.id);
		if (!job) return;
		member.jobs.delete(message.id);
		if (member.jobs.size === 0) member.thread.unref();
		if ('miller' in message) job.resolve(message.miller);
		else job.reject(new Error(message.error));
	}

	private fail(member: Member, error: Error): void {
		if (member.dead) return;
		member.dead = true;
		for (const job of member.jobs.values()) job.reject(error);
		member.jobs.clear();
		member.thread.unref();
	}
}

let shared: MclPool | undefined;

/** This realm's pool, started on first call; undefined where workers cannot be started. */
export function sharedMclPool(): MclPool | undefined {
	if (shared) return shared;
	const canSpawn = nodeBuiltin('node:worker_threads') !== undefined || typeof Worker === 'function';
	if (!canSpawn) return undefined;
	shared = new MclPool(cores());
	return shared;
}
