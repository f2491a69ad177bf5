/**
 * The consensus node's ChameleonVerifier: batch Groth16 verification of the chameleon circuit.
 *
 * One proof verifies when e(A, B) = e(α, β)·e(Lₓ, γ)·e(C, δ), Lₓ = IC₀ + Σⱼ xⱼ·ICⱼ. For n proofs and
 * secret random 128-bit ρᵢ, the batch checks the random linear combination
 *     Πᵢ e(−ρᵢ·Aᵢ, Bᵢ) · e((Σρᵢ)·α, β) · e(Σρᵢ·Lᵢ, γ) · e(Σρᵢ·Cᵢ, δ) = 1
 * with one multi-pairing: n + 3 Miller loops and a single final exponentiation (a single verify needs 4
 * Miller loops and one final exponentiation), so the cost per proof falls towards one Miller loop. A bad
 * proof passes only if the ρᵢ happen to cancel its error: probability ≤ 2⁻¹²⁸. When a batch fails, it
 * is bisected to find exactly which proofs are bad.
 *
 * Each proof is first checked on its own, cheaply: canonical bytes and points on their curves (core
 * decodeProof), B in G2's prime-order subgroup (snarkjs skips this, but pairing equations are only
 * meaningful for points of order r), and public signals from canonical points and a hash key in the
 * subgroup. The verification key must hash to the consortium's CHAMELEON_VKEY_HASH.
 *
 * The pairing arithmetic is a Groth16Backend (groth16-backend.ts): herumi's mcl by default
 * (groth16-mcl.ts, loaded with the verifier, about twice as fast per proof), or snarkjs's ffjavascript
 * (groth16-ffjavascript.ts, the former path) with `{ library: 'ffjavascript' }`. `verifySingle` is
 * snarkjs's own groth16.verify, the reference both are tested against.
 */
import * as snarkjs from 'snarkjs';
import { bytesToHex } from '../core/bytes.ts';
import { ValidationError, ensure } from '../core/errors.ts';
import {
	SUBGROUP_ORDER,
	decodeProof,
	publicSignals,
	type ChameleonStatement,
	type ChameleonVerifier
} from '../core/chameleon.ts';
import { CHAMELEON_VKEY_HASH } from '../core/chameleon-params.ts';
import { checkVerificationKey, type VerificationKey } from './verification-key.ts';
import type { Groth16Backend, PairingLibrary, PreparedProof } from './groth16-backend.ts';
import { createFfjavascriptGroth16 } from './groth16-ffjavascript.ts';
import { createMclGroth16 } from './groth16-mcl.ts';
import { proofToSnarkjs } from './groth16.ts';

export type { PairingLibrary } from './groth16-backend.ts';

export interface VerifierOptions {
	/** The pairing library: 'mcl' (default) or 'ffjavascript' (the former path, for comparison). */
	library?: PairingLibrary;
	/** mcl only: whether batches may use worker threads (default true; false keeps all on this thread). */
	workers?: boolean;
}

type Prepared = PreparedProof<unknown>;

/** Hash keys are per institution: a consortium has few, so a small cache holds them all. */
const MAX_CACHED_KEYS = 1024;

export class Groth16BatchVerifier implements ChameleonVerifier {
	private readonly keys = new Map<string, bigint[]>();

	private constructor(
		private readonly backend: Groth16Backend<unknown>,
		readonly vkey: VerificationKey
	) {}

	/**
	 * Refuses any verification key but the consortium's (`expectedHashHex`, by default the genesis one).
	 * `options.library` picks the pairing library (mcl unless told otherwise).
	 */
	static async create(
		vkey: VerificationKey,
		expectedHashHex = CHAMELEON_VKEY_HASH,
		{ library = 'mcl', workers = true }: VerifierOptions = {}
	): Promise<Groth16BatchVerifier> {
		checkVerificationKey(vkey, expectedHashHex);
		const backend =
			library === 'mcl' ? await createMclGroth16(vkey, workers) : await createFfjavascriptGroth16(vkey);
		return new Groth16BatchVerifier(backend, vkey);
	}

	get library(): PairingLibrary {
		return this.backend.library;
	}

	/** One proof through snarkjs's own verifier (the reference the batch is measured against). */
	async verifySingle(statement: ChameleonStatement): Promise<boolean> {
		try {
			const proof = decodeProof(statement.hash.proof);
			const signals = this.signals(statement).map(String);
			if (!this.backend.toPoints(proof)) return false;
			return await snarkjs.groth16.verify(this.vkey, signals, proofToSnarkjs(proof));
		} catch (error) {
			if (error instanceof ValidationError) return false;
			throw error;
		}
	}

	async verifyAll(statements: readonly ChameleonStatement[]): Promise<boolean[]> {
		// The first batch's Miller loops start (in ffjavascript's thread pool, or chunk by chunk here with
		// mcl) while later statements are still being decoded and checked.
		const first = this.backend.batch(statements.length);
		const prepared: (Prepared | undefined)[] = [];
		for (const statement of statements) {
			const item = this.prepare(statement);
			prepared.push(item);
			if (item && statements.length > 1 && first.add(item)) await yieldToEventLoop();
		}
		const results = prepared.map((p) => p !== undefined);
		const candidates = results.flatMap((ok, i) => (ok ? [i] : []));
		if (candidates.length === 0 || (statements.length > 1 && (await first.isValid()))) return results;
		await this.settle(candidates, prepared as Prepared[], results, statements.length > 1);
		return results;
	}

	/**
	 * Marks every bad index of `indices` false: one batch if all are good, else bisection down to single
	 * proofs. `failed`: the batch of exactly these indices is already known to fail.
	 */
	private async settle(
		indices: number[],
		prepared: Prepared[],
		results: boolean[],
		failed = false
	): Promise<void> {
		if (indices.length === 0) return;
		if (indices.length === 1) {
			results[indices[0]!] = await this.single(prepared[indices[0]!]!);
			return;
		}
		if (!failed) {
			const batch = this.backend.batch(indices.length);
			for (const i of indices) batch.add(prepared[i]!);
			if (await batch.isValid()) return;
		}
		const half = indices.length >> 1;
		await this.settle(indices.slice(0, half), prepared, results);
		await this.settle(indices.slice(half), prepared, results);
	}

	/** Public signals, with each hash key's decoding (and its costly subgroup check) done once. */
	private signals(statement: ChameleonStatement): bigint[] {
		const hex = bytesToHex(statement.hk);
		let key = this.keys.get(hex);
		if (!key) {
			key = publicSignals(statement).slice(2, 4);
			if (this.keys.size >= MAX_CACHED_KEYS) this.keys.clear();
			this.keys.set(hex, key);
		}
		ensure(statement.m >= 0n && statement.m < SUBGROUP_ORDER, 'chameleon-scalar', 'm must be in [0, L)');
		return [...this.backend.decodePoint(statement.hash.h, 'chameleon hash'), ...key, statement.m];
	}

	private prepare(statement: ChameleonStatement): Prepared | undefined {
		try {
			const signals = this.signals(statement);
			const points = this.backend.toPoints(decodeProof(statement.hash.proof));
			return points === undefined ? undefined : { points, signals };
		} catch (error) {
			if (error instanceof ValidationError) return undefined;
			throw error;
		}
	}

	/** One proof needs no random combination: the plain Groth16 equation, 4 Miller loops. */
	private single(item: Prepared): Promise<boolean> {
		return this.backend.single(item);
	}
}

/**
 * Lets queued events be handled: the thread pool's messages (ffjavascript), a page's input (mcl, which
 * computes on this thread). setImmediate where it exists (Node), else a MessageChannel message, which
 * browsers do not clamp to 4 ms as they do nested setTimeout(0).
 */
function yieldToEventLoop(): Promise<void> {
	if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
	return new Promise((resolve) => {
		const channel = new MessageChannel();
		channel.port1.onmessage = () => {
			channel.port1.close();
			resolve();
		};
		channel.port2.postMessage(null);
	});
}
