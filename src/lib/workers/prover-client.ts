/**
 * The page side of the browser prover: a ChameleonProver that sends each request to prover.worker.ts and
 * relays its progress. One worker per client, reused, so the artifacts are loaded once.
 */
import type { ChameleonHash } from '../core/chameleon.ts';
import { ValidationError } from '../core/errors.ts';
import { isValidationCode } from '../core/error-codes.ts';
import type { ChameleonProver, OnProgress, ProveRequest } from '../crypto/chameleon-prover.ts';
import type { ProverReplyMessage, ProverRequestMessage } from './prover.worker.ts';

/** Time spent by the worker on one request: fetching artifacts (first request only) and proving. */
export interface ProveTimings {
	loadMs: number;
	proveMs: number;
}

interface Pending {
	resolve: (value: { hash: ChameleonHash } & ProveTimings) => void;
	reject: (error: Error) => void;
	onProgress: OnProgress;
}

export class WorkerProver implements ChameleonProver {
	private readonly worker: Worker;
	private readonly pending = new Map<number, Pending>();
	private nextId = 1;

	/** `artifactsBase`: absolute URL of the snark directory, e.g. new URL(`${base}/snark/`, location.href). */
	constructor(private readonly artifactsBase: URL) {
		this.worker = new Worker(new URL('./prover.worker.ts', import.meta.url), { type: 'module' });
		this.worker.onmessage = (event: MessageEvent<ProverReplyMessage>) => this.receive(event.data);
		this.worker.onerror = (event) => this.failAll(new Error(event.message || 'the prover worker failed'));
	}

	async prove(request: ProveRequest, onProgress?: OnProgress): Promise<ChameleonHash> {
		return (await this.proveTimed(request, onProgress)).hash;
	}

	/** Like prove, with the worker's own timings (for diagnostics and benchmarks). */
	proveTimed(
		request: ProveRequest,
		onProgress: OnProgress = () => {}
	): Promise<{ hash: ChameleonHash } & ProveTimings> {
		const id = this.nextId++;
		return new Promise((resolve, reject) => {
			this.pending.set(id, { resolve, reject, onProgress });
			const message: ProverRequestMessage = { id, artifactsBase: this.artifactsBase.href, request };
			this.worker.postMessage(message);
		});
	}

	async close(): Promise<void> {
		this.worker.terminate();
		this.failAll(new Error('the prover was closed'));
	}

	private receive(reply: ProverReplyMessage): void {
		const pending = this.pending.get(reply.id);
		if (!pending) return;
		if (reply.kind === 'progress') return pending.onProgress(reply.progress);
		this.pending.delete(reply.id);
		if (reply.kind === 'result')
			pending.resolve({ hash: reply.hash, loadMs: reply.loadMs, proveMs: reply.proveMs });
		else
			pending.reject(
				isValidationCode(reply.code)
					? new ValidationError(reply.code, reply.message)
					: new Error(reply.message)
			);
	}

	private failAll(error: Error): void {
		for (const pending of this.pending.values()) pending.reject(error);
		this.pending.clear();
	}
}
