/**
 * A pool of miner workers (one per core the user allows) working on one keyblock job: worker i searches
 * nonces from i · 2^56 (disjoint ranges), the first winning nonce stops the others. Start, pause,
 * resume and stop map to protocol messages; the worker count can change while mining (the user's choice
 * of cores); hash counts feed the UI's rate display. Workers come from a `spawn` function
 * (spawn.browser.ts / spawn.node.ts).
 */
import type { MiningJob } from './kernel.ts';
import type { FromMiner, MinerPort } from './protocol.ts';

const RANGE = 1n << 56n;

export interface MinerStats {
	hashes: number;
	simd: boolean | null;
}

export interface MinerPoolOptions {
	workers: number;
	spawn: () => MinerPort;
	simd?: boolean;
	onProgress?: (stats: readonly MinerStats[]) => void;
}

export class MinerPool {
	/** Per current worker, in worker order. */
	readonly stats: MinerStats[] = [];
	private readonly ports: MinerPort[] = [];
	private readonly options: MinerPoolOptions;
	private jobId = 0;
	private job: { job: MiningJob; rangePerWorker: bigint } | null = null;
	/** Workers still searching the current job (not exhausted). */
	private readonly searching = new Set<MinerPort>();
	private held = false;
	/** Hashes of workers removed by `resize`, so the pool's total never goes back. */
	private retiredHashes = 0;
	private pending: { resolve: (nonce: bigint | null) => void; reject: (error: Error) => void } | null = null;

	constructor(options: MinerPoolOptions) {
		this.options = options;
		this.resize(options.workers);
	}

	get workers(): number {
		return this.ports.length;
	}

	get paused(): boolean {
		return this.held;
	}

	/** Hashes tried by every worker this pool ever had. */
	get hashes(): number {
		return this.stats.reduce((sum, s) => sum + s.hashes, this.retiredHashes);
	}

	/** Mines `job`; resolves with the winning nonce, or null if stopped or every range is exhausted. */
	mine(job: MiningJob, rangePerWorker: bigint = RANGE): Promise<bigint | null> {
		this.halt();
		const jobId = ++this.jobId;
		const { promise, resolve, reject } = Promise.withResolvers<bigint | null>();
		this.pending = { resolve, reject };
		this.job = { job, rangePerWorker };
		this.ports.forEach((port, i) => this.startOn(port, i, jobId));
		return promise;
	}

	/** Holds the workers until `resume`, across new jobs too (a tip change must not end a pause). */
	pause(): void {
		this.held = true;
		for (const port of this.ports) port.post({ type: 'pause' });
	}

	resume(): void {
		this.held = false;
		for (const port of this.ports) port.post({ type: 'resume' });
	}

	/** Stops the job and ends a pause: the next job hashes right away. */
	stop(): void {
		this.held = false;
		this.halt();
	}

	/**
	 * Sets the number of workers. A running job goes on: added workers take their ranges of it, removed
	 * ones (the last) are terminated and their unsearched ranges dropped.
	 */
	resize(workers: number): void {
		if (!Number.isInteger(workers) || workers < 1) throw new RangeError('workers must be ≥ 1');
		while (this.ports.length > workers) {
			const port = this.ports.pop()!;
			this.retiredHashes += this.stats.pop()!.hashes;
			this.searching.delete(port);
			port.terminate();
		}
		while (this.ports.length < workers) {
			const port = this.options.spawn();
			this.ports.push(port);
			this.stats.push({ hashes: 0, simd: null });
			// By port rather than index: a removed worker's late messages must not count for its successor.
			port.onMessage((message) => this.receive(port, message));
			if (this.pending) this.startOn(port, this.ports.length - 1, this.jobId);
		}
		if (this.pending && this.searching.size === 0) this.settle(null);
	}

	terminate(): void {
		this.stop();
		for (const port of this.ports) port.terminate();
	}

	private startOn(port: MinerPort, index: number, jobId: number): void {
		const { job, rangePerWorker } = this.job!;
		this.searching.add(port);
		port.post({
			type: 'start',
			jobId,
			job,
			startNonce: BigInt(index) * RANGE,
			count: rangePerWorker,
			simd: this.options.simd ?? true,
			// A held pool holds its new jobs too.
			paused: this.held
		});
	}

	/** Stops the workers' job, keeping a pause. */
	private halt(): void {
		for (const port of this.ports) port.post({ type: 'stop' });
		this.settle(null);
	}

	private settle(nonce: bigint | null, error?: Error): void {
		const pending = this.pending;
		this.pending = null;
		this.job = null;
		this.searching.clear();
		if (error) pending?.reject(error);
		else pending?.resolve(nonce);
	}

	private receive(port: MinerPort, message: FromMiner): void {
		const worker = this.ports.indexOf(port);
		if (worker < 0) return;
		// jobId −1: the worker itself failed, whatever it was running.
		if (message.jobId !== this.jobId && message.jobId !== -1) return;
		if (message.type === 'progress') {
			this.stats[worker] = { hashes: this.stats[worker]!.hashes + message.hashes, simd: message.simd };
			this.options.onProgress?.(this.stats);
		} else if (message.type === 'found') {
			for (const other of this.ports) other.post({ type: 'stop' });
			this.settle(message.nonce);
		} else if (message.type === 'exhausted') {
			this.searching.delete(port);
			if (this.pending && this.searching.size === 0) this.settle(null);
		} else {
			this.settle(null, new Error(`miner ${worker}: ${message.message}`));
		}
	}
}
