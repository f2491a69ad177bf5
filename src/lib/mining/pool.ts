/**
 * A pool of miner workers (one per core the user allows) working on one keyblock job: worker i searches
 * nonces from i · 2^56 (disjoint ranges), the first winning nonce stops the others. Start, pause,
 * resume and stop map to protocol messages; hash counts per worker feed the UI's rate display.
 * Workers come from a `spawn` function (spawn.browser.ts / spawn.node.ts).
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
	readonly stats: MinerStats[];
	private readonly ports: MinerPort[];
	private readonly options: MinerPoolOptions;
	private jobId = 0;
	private pending: {
		resolve: (nonce: bigint | null) => void;
		reject: (error: Error) => void;
		left: number;
	} | null = null;

	constructor(options: MinerPoolOptions) {
		if (!Number.isInteger(options.workers) || options.workers < 1)
			throw new RangeError('workers must be ≥ 1');
		this.options = options;
		this.ports = Array.from({ length: options.workers }, () => options.spawn());
		this.stats = this.ports.map(() => ({ hashes: 0, simd: null }));
		this.ports.forEach((port, i) => port.onMessage((message) => this.receive(i, message)));
	}

	/** Mines `job`; resolves with the winning nonce, or null if stopped or every range is exhausted. */
	mine(job: MiningJob, rangePerWorker: bigint = RANGE): Promise<bigint | null> {
		this.stop();
		const jobId = ++this.jobId;
		const { promise, resolve, reject } = Promise.withResolvers<bigint | null>();
		this.pending = { resolve, reject, left: this.ports.length };
		this.ports.forEach((port, i) =>
			port.post({
				type: 'start',
				jobId,
				job,
				startNonce: BigInt(i) * RANGE,
				count: rangePerWorker,
				simd: this.options.simd ?? true
			})
		);
		return promise;
	}

	pause(): void {
		for (const port of this.ports) port.post({ type: 'pause' });
	}

	resume(): void {
		for (const port of this.ports) port.post({ type: 'resume' });
	}

	stop(): void {
		for (const port of this.ports) port.post({ type: 'stop' });
		this.settle(null);
	}

	terminate(): void {
		this.stop();
		for (const port of this.ports) port.terminate();
	}

	private settle(nonce: bigint | null, error?: Error): void {
		const pending = this.pending;
		this.pending = null;
		if (error) pending?.reject(error);
		else pending?.resolve(nonce);
	}

	private receive(worker: number, message: FromMiner): void {
		// jobId −1: the worker itself failed, whatever it was running.
		if (message.jobId !== this.jobId && message.jobId !== -1) return;
		if (message.type === 'progress') {
			this.stats[worker] = { hashes: this.stats[worker]!.hashes + message.hashes, simd: message.simd };
			this.options.onProgress?.(this.stats);
		} else if (message.type === 'found') {
			for (const port of this.ports) port.post({ type: 'stop' });
			this.settle(message.nonce);
		} else if (message.type === 'exhausted') {
			if (this.pending && --this.pending.left === 0) this.settle(null);
		} else {
			this.settle(null, new Error(`miner ${worker}: ${message.message}`));
		}
	}
}
