/**
 * The mining loop that runs inside a worker: takes a job, searches nonce ranges with the WASM kernel in
 * chunks of about CHUNK_MS so pause/stop messages are handled promptly, and reports progress and the
 * winning nonce. Chunks (rather than one long call) also let the engine tier the kernel up to its
 * optimizing compiler, which it only does between calls.
 */
import { MiningKernel } from './kernel.ts';
import type { FromMiner, ToMiner } from './protocol.ts';

const CHUNK_MS = 50;
const FIRST_CHUNK = 4096;

/** Yields to the event loop without the timer clamp setTimeout has in nested calls. */
function yieldToEvents(): Promise<void> {
	const { port1, port2 } = new MessageChannel();
	return new Promise((resolve) => {
		port1.onmessage = () => {
			port1.close();
			resolve();
		};
		port2.postMessage(null);
	});
}

export function createMiner(post: (message: FromMiner) => void): (message: ToMiner) => void {
	const kernels = new Map<boolean, Promise<MiningKernel>>();
	let current = 0;
	let paused = false;
	let wake: (() => void) | null = null;

	const kernelFor = (simd: boolean) => {
		if (!kernels.has(simd)) kernels.set(simd, MiningKernel.load({ simd }));
		return kernels.get(simd)!;
	};

	async function run(message: Extract<ToMiner, { type: 'start' }>): Promise<void> {
		const { jobId } = message;
		const kernel = await kernelFor(message.simd);
		kernel.setJob(message.job);
		let nonce = message.startNonce;
		const end = message.startNonce + message.count;
		let chunk = FIRST_CHUNK;
		while (current === jobId) {
			if (paused) {
				await new Promise<void>((resolve) => (wake = resolve));
				continue;
			}
			if (nonce >= end) return post({ type: 'exhausted', jobId });
			const count = Number(end - nonce < BigInt(chunk) ? end - nonce : BigInt(chunk));
			const started = performance.now();
			const result = kernel.search(nonce, count);
			const elapsed = performance.now() - started;
			post({ type: 'progress', jobId, hashes: result.hashesDone, simd: kernel.simd });
			if (result.nonce !== null) return post({ type: 'found', jobId, nonce: result.nonce });
			nonce += BigInt(result.hashesDone);
			// Aim each chunk at CHUNK_MS, in multiples of the SIMD width.
			chunk = Math.max(FIRST_CHUNK, Math.round((chunk * CHUNK_MS) / Math.max(elapsed, 1) / 4) * 4);
			await yieldToEvents();
		}
	}

	return (message) => {
		if (message.type === 'start') {
			current = message.jobId;
			paused = message.paused ?? false;
			wake?.();
			wake = null;
			run(message).catch((error: unknown) =>
				post({
					type: 'error',
					jobId: message.jobId,
					message: error instanceof Error ? error.message : String(error)
				})
			);
		} else if (message.type === 'pause') {
			paused = true;
		} else if (message.type === 'resume') {
			paused = false;
			wake?.();
			wake = null;
		} else {
			current = -1;
			paused = false;
			wake?.();
			wake = null;
		}
	};
}
