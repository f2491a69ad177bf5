/**
 * The browser's chameleon prover: snarkjs Groth16 proving off the main thread, so the page stays
 * responsive for the second or so a proof takes. The artifacts (≈ 2 MB) are fetched once per worker and
 * kept; requests are served one at a time. Progress and errors go back as messages (prover-client.ts).
 */
/// <reference lib="webworker" />
import { loadArtifacts } from '../crypto/artifacts.browser.ts';
import {
	proveWithArtifacts,
	type ProveProgress,
	type ProveRequest,
	type SnarkArtifacts
} from '../crypto/chameleon-prover.ts';
import type { ChameleonHash } from '../core/chameleon.ts';
import { ValidationError } from '../core/errors.ts';

export interface ProverRequestMessage {
	id: number;
	/** Absolute URL of the directory holding chameleon.wasm and chameleon.zkey. */
	artifactsBase: string;
	request: ProveRequest;
}

export type ProverReplyMessage =
	| { id: number; kind: 'progress'; progress: ProveProgress }
	| { id: number; kind: 'result'; hash: ChameleonHash; loadMs: number; proveMs: number }
	| { id: number; kind: 'error'; code?: string; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;
let artifacts: { base: string; loaded: Promise<SnarkArtifacts> } | undefined;
let queue: Promise<void> = Promise.resolve();

async function serve({ id, artifactsBase, request }: ProverRequestMessage): Promise<void> {
	const post = (message: ProverReplyMessage) => scope.postMessage(message);
	const onProgress = (progress: ProveProgress) => post({ id, kind: 'progress', progress });
	try {
		const started = performance.now();
		if (artifacts?.base !== artifactsBase)
			artifacts = { base: artifactsBase, loaded: loadArtifacts(new URL(artifactsBase), onProgress) };
		const loaded = await artifacts.loaded.catch((error: unknown) => {
			artifacts = undefined;
			throw error;
		});
		const proving = performance.now();
		const hash = await proveWithArtifacts(loaded, request, onProgress);
		post({ id, kind: 'result', hash, loadMs: proving - started, proveMs: performance.now() - proving });
	} catch (error) {
		const message = error instanceof Error ? error.message : String(error);
		post({ id, kind: 'error', code: error instanceof ValidationError ? error.code : undefined, message });
	}
}

scope.onmessage = (event: MessageEvent<ProverRequestMessage>) => {
	queue = queue.then(() => serve(event.data));
};
