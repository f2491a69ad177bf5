/**
 * Verify each transaction's proof once per node. A record transaction's chameleon-hash proof is checked
 * when the transaction enters the mempool and, until now, again when the node votes on the batch that
 * carries it (and a third time if it was proposed twice): the Groth16 check is the largest cost per
 * transaction, so a node that keeps its verdicts spends it once. The cache wraps the node's
 * ChameleonVerifier, so the mempool, batch agreement and chain state share it without changing how
 * they call it; statements not yet seen go to the wrapped verifier (the batch verifier and its worker
 * pool) together, and a statement already in flight is awaited, not verified twice.
 *
 * The key is a SHA-256 of the whole statement (hash key, message, chameleon hash and proof), so a
 * verdict is reused only for exactly the statement that earned it; both verdicts are kept, because
 * verification is deterministic for a given statement (a bad proof stays bad). State-dependent rules
 * (fees, registration, holder) are not cached: they are cheap and their answer can change with the chain.
 *
 * BIP-340 verdicts are kept the same way (`rememberSignatureVerdicts`, installed with the WASM back ends):
 * a transaction's signature is checked at admission, at the vote and when its batch is applied, and a
 * verdict is a pure function of key, digest and signature, so the later checks become a lookup.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '../core/bytes.ts';
import type { ChameleonStatement, ChameleonVerifier } from '../core/chameleon.ts';
import type { SignatureVerifier } from '../core/identity.ts';

/** Verdicts kept by default: a full mempool and the batches in flight fit several times over. */
export const DEFAULT_VERDICT_CAPACITY = 100_000;

export interface VerdictCacheStats {
	/** Statements answered from the cache or from a check already in flight. */
	hits: number;
	/** Statements sent to the wrapped verifier. */
	verified: number;
	size: number;
}

export class VerdictCache implements ChameleonVerifier {
	private readonly verdicts = new Map<string, boolean>();
	private readonly pending = new Map<string, Promise<boolean>>();
	private hits = 0;
	private verified = 0;

	constructor(
		private readonly inner: ChameleonVerifier,
		private readonly capacity = DEFAULT_VERDICT_CAPACITY
	) {
		if (!Number.isInteger(capacity) || capacity < 1)
			throw new RangeError(`verdict cache capacity must be a positive integer, got ${capacity}`);
	}

	async verifyAll(statements: readonly ChameleonStatement[]): Promise<boolean[]> {
		const keys = statements.map(statementKey);
		const fresh: { key: string; statement: ChameleonStatement }[] = [];
		const seen = new Set<string>();
		for (const [i, key] of keys.entries()) {
			if (this.verdicts.has(key) || this.pending.has(key) || seen.has(key)) {
				this.hits++;
				continue;
			}
			seen.add(key);
			fresh.push({ key, statement: statements[i]! });
		}
		if (fresh.length > 0) {
			this.verified += fresh.length;
			const run = this.inner.verifyAll(fresh.map((f) => f.statement));
			for (const [i, { key }] of fresh.entries()) {
				const verdict = run.then((results) => {
					if (results.length !== fresh.length)
						throw new Error(`the verifier answered ${results.length} of ${fresh.length} statements`);
					return results[i]!;
				});
				// Awaited by whoever asks for the same statement meanwhile; a failure is thrown to them and here.
				verdict.catch(() => undefined);
				this.pending.set(key, verdict);
			}
			try {
				const results = await run;
				for (const [i, { key }] of fresh.entries()) this.remember(key, results[i]!);
			} finally {
				for (const { key } of fresh) this.pending.delete(key);
			}
		}
		return Promise.all(keys.map((key) => this.verdicts.get(key) ?? this.pending.get(key)!));
	}

	stats(): VerdictCacheStats {
		return { hits: this.hits, verified: this.verified, size: this.verdicts.size };
	}

	private remember(key: string, verdict: boolean): void {
		// Oldest first out: a Map iterates in insertion order.
		if (this.verdicts.size >= this.capacity) this.verdicts.delete(this.verdicts.keys().next().value!);
		this.verdicts.set(key, verdict);
	}
}

const encoder = new TextEncoder();

/** SHA-256 over every field of the statement, each length-prefixed so no two statements collide. */
export function statementKey(statement: ChameleonStatement): string {
	const parts = [
		statement.hk,
		// Hex, not fixed-width bytes: a malformed statement's m is the verifier's to reject, not ours.
		encoder.encode(statement.m.toString(16)),
		statement.hash.h,
		statement.hash.proof
	];
	const total = parts.reduce((sum, part) => sum + 4 + part.length, 0);
	const buffer = new Uint8Array(total);
	const view = new DataView(buffer.buffer);
	let offset = 0;
	for (const part of parts) {
		view.setUint32(offset, part.length);
		buffer.set(part, offset + 4);
		offset += 4 + part.length;
	}
	return bytesToHex(sha256(buffer));
}

/** Signature verdicts kept by default (~10 MB): the mempool's transactions and the batches in flight. */
export const DEFAULT_SIGNATURE_VERDICTS = 50_000;

/** Marks a verifier that already remembers, so installing twice does not stack caches. */
const REMEMBERS = Symbol('remembers signature verdicts');

/** A BIP-340 verifier that answers a (key, digest, signature) it has seen from memory. */
export function rememberSignatureVerdicts(
	inner: SignatureVerifier,
	capacity = DEFAULT_SIGNATURE_VERDICTS
): SignatureVerifier {
	if (REMEMBERS in inner) return inner;
	if (!Number.isInteger(capacity) || capacity < 1)
		throw new RangeError(`signature verdict capacity must be a positive integer, got ${capacity}`);
	const verdicts = new Map<string, boolean>();
	const buffer = new Uint8Array(128);
	return {
		name: `${inner.name}, verdicts remembered`,
		[REMEMBERS]: true,
		verify(publicKey, digest, signature) {
			// Only the protocol's fixed lengths are remembered; anything else is the verifier's to refuse.
			if (publicKey.length !== 32 || digest.length !== 32 || signature.length !== 64)
				return inner.verify(publicKey, digest, signature);
			buffer.set(publicKey, 0);
			buffer.set(digest, 32);
			buffer.set(signature, 64);
			const key = bytesToHex(sha256(buffer));
			let verdict = verdicts.get(key);
			if (verdict === undefined) {
				verdict = inner.verify(publicKey, digest, signature);
				if (verdicts.size >= capacity) verdicts.delete(verdicts.keys().next().value!);
				verdicts.set(key, verdict);
			}
			return verdict;
		}
	} as SignatureVerifier;
}
