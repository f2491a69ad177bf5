/**
 * Making chameleon hashes with their Groth16 proofs (snarkjs), the same code in Node (headless clinic
 * nodes, prover.node.ts) and in a Web Worker (the browser, workers/prover.worker.ts); only loading the
 * circuit artifacts differs (artifacts.node.ts / artifacts.browser.ts).
 *
 * Hash(m, hk): a fresh secret r, h = m·B + r·X, and a proof of knowledge of r.
 * Hcol(x, (h, m, r), m'): r' = r + (m − m')·x⁻¹ and a fresh proof for the same h. The caller keeps r (or
 * r') secret and stores it with its records; only h and the proof are published.
 */
import * as snarkjs from 'snarkjs';
import type { Bytes } from '../core/bytes.ts';
import { equalBytes } from '../core/bytes.ts';
import {
	collide,
	decodeHashKey,
	decodePoint,
	encodeProof,
	hashKeyOf,
	hashMessage,
	hashWithRandomness,
	pointSignals,
	type ChameleonHash
} from '../core/chameleon.ts';
import { ValidationError } from '../core/errors.ts';
import { proofFromSnarkjs } from './groth16.ts';

/** The compiled circuit and the ceremony's final proving key. */
export interface SnarkArtifacts {
	wasm: Uint8Array;
	zkey: Uint8Array;
}

/** What to prove: h = m·B + r·X for the hash key X, knowing r. */
export interface ProveRequest {
	m: bigint;
	r: bigint;
	X: Bytes;
}

export type ProveStage = 'loading' | 'witness' | 'proving' | 'done';

export interface ProveProgress {
	stage: ProveStage;
	/** Bytes of artifacts fetched so far and in all (loading), or proving steps done so far (proving). */
	done?: number;
	total?: number;
}

export type OnProgress = (progress: ProveProgress) => void;

/** A prover: in-process (Node) or in a Web Worker (browser). */
export interface ChameleonProver {
	prove(request: ProveRequest, onProgress?: OnProgress): Promise<ChameleonHash>;
	/** Releases the prover's resources (the worker, or snarkjs's curve threads). */
	close(): Promise<void>;
}

/**
 * The steps snarkjs's Groth16 prover logs, in order (its log lines start with these; FFT lines repeat
 * once per thread), used as a progress measure that does not depend on the number of threads.
 */
const PROVING_STEPS = [
	'Reading Coeffs',
	'Building ABC',
	'IFFT_A',
	'FFT_A',
	'IFFT_B',
	'FFT_B',
	'IFFT_C',
	'FFT_C',
	'Join ABC',
	'Multiexp end: multiexp A',
	'Multiexp end: multiexp B1',
	'Multiexp end: multiexp B2',
	'Multiexp end: multiexp C',
	'Multiexp end: multiexp H'
];

/** Proves one statement with snarkjs, given the artifacts. Wrong inputs are refused before proving. */
export async function proveWithArtifacts(
	artifacts: SnarkArtifacts,
	request: ProveRequest,
	onProgress: OnProgress = () => {}
): Promise<ChameleonHash> {
	const h = hashWithRandomness(request.m, request.r, request.X);
	const [Xx, Xy] = pointSignals(decodeHashKey(request.X));
	onProgress({ stage: 'witness' });
	const wtns = { type: 'mem' as const };
	await snarkjs.wtns.calculate({ Xx, Xy, m: request.m, r: request.r }, artifacts.wasm, wtns);
	let done = 0;
	const total = PROVING_STEPS.length;
	const tick = (line: string) => {
		const step = PROVING_STEPS.findIndex((prefix) => line.startsWith(prefix)) + 1;
		if (step <= done) return;
		done = step;
		onProgress({ stage: 'proving', done, total });
	};
	const logger = { debug: tick, info: tick, warn: () => {}, error: () => {} };
	onProgress({ stage: 'proving', done: 0, total });
	const { proof, publicSignals } = await snarkjs.groth16.prove(artifacts.zkey, wtns, logger);
	const [hx, hy] = pointSignals(decodePoint(h, 'chameleon hash'));
	if (publicSignals[0] !== hx.toString() || publicSignals[1] !== hy.toString())
		throw new ValidationError('chameleon-prove', 'the circuit computed a different hash: wrong artifacts?');
	onProgress({ stage: 'done' });
	return { h, proof: encodeProof(proofFromSnarkjs(proof)) };
}

/** Hash(m, hk) with its proof; returns the secret r for the caller to keep. */
export async function proveHash(
	prover: ChameleonProver,
	m: bigint,
	X: Bytes,
	onProgress?: OnProgress
): Promise<{ hash: ChameleonHash; r: bigint }> {
	const { r } = hashMessage(m, X);
	return { hash: await prover.prove({ m, r, X }, onProgress), r };
}

/** Hcol with its proof: opens the same h to m2. Needs the trapdoor x of X. */
export async function proveCollision(
	prover: ChameleonProver,
	opening: { x: bigint; X: Bytes; h: Bytes; m: bigint; r: bigint },
	m2: bigint,
	onProgress?: OnProgress
): Promise<{ hash: ChameleonHash; r: bigint }> {
	const { x, X, h, m, r } = opening;
	if (!equalBytes(hashKeyOf(x), X))
		throw new ValidationError('chameleon-trapdoor', 'the trapdoor does not belong to this hash key');
	if (!equalBytes(hashWithRandomness(m, r, X), h))
		throw new ValidationError('chameleon-opening', 'r does not open h to m');
	const r2 = collide(x, m, r, m2);
	const hash = await prover.prove({ m: m2, r: r2, X }, onProgress);
	return { hash, r: r2 };
}
