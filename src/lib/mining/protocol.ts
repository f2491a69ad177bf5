/**
 * Messages between a mining pool (main thread) and its miner workers: the same protocol for browser
 * Web Workers (workers/miner.worker.ts) and Node worker_threads (workers/miner.worker.node.ts).
 * Nonces are bigints (structured-clonable in both).
 */
import type { MiningJob } from './kernel.ts';

export type ToMiner =
	| {
			type: 'start';
			jobId: number;
			job: MiningJob;
			startNonce: bigint;
			count: bigint;
			simd: boolean;
			/** Start held (as after 'pause'): a separate 'pause' would arrive after the first chunk ran. */
			paused?: boolean;
	  }
	| { type: 'pause' }
	| { type: 'resume' }
	| { type: 'stop' };

export type FromMiner =
	| { type: 'progress'; jobId: number; hashes: number; simd: boolean }
	| { type: 'found'; jobId: number; nonce: bigint }
	| { type: 'exhausted'; jobId: number }
	| { type: 'error'; jobId: number; message: string };

/** The two ends' common shape: js-libp2p style, so tests and pages wire real workers the same way. */
export interface MinerPort {
	post(message: ToMiner): void;
	onMessage(handler: (message: FromMiner) => void): void;
	terminate(): void;
}
