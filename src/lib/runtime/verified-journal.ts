/**
 * What lets a node restart without verifying its chain again: a hash chain over the journal it has
 * verified, kept in the store's meta table and written in the same atomic batch as each fact.
 *
 *   head_0 = SHA-256("spchain/verified-journal/1")
 *   head_n+1 = SHA-256(head_n ‖ position (u64) ‖ fact type (u8) ‖ SHA-256(fact) ‖ SHA-256(derived))
 *
 * `derived` is what the node computed from the fact and a restore would otherwise compute again at a
 * cost: for a keyblock, its hash and, per patient block it creates, the block's institution root (five
 * Baby Jubjub scalar multiplications each, ~14 s for 10,000 patients), register transaction id and
 * block hash (two canonical encodings and hashes each, ~1 s of a 100,000-transaction chain's restart;
 * a journal written when keyblocks kept only their roots restores by computing the rest); for an
 * attachment, its transaction ids; for a
 * pinned batch, its id (a Merkle root over its 500 ids: ~0.5 s for 200 batches). A journal written
 * before batches had one restores them by computing it (a missing derived value hashes as empty). It is kept
 * beside the fact (meta `derived/<position>`) and covered by the same head.
 *
 * ChainState.apply writes a fact only after every rule held for it, so a journal whose rows hash to the
 * stored head (and whose length is the stored length) is exactly what this node verified: on open it is
 * re-applied without its signatures, certificates and proofs being checked again, which turns a restart
 * from verifying into reading. Any other journal (a fact or derived value changed, added, removed or
 * reordered on disk; a journal from before this check; a head that is missing or damaged) is verified
 * in full as before, and the head and derived values are then rewritten for it.
 *
 * What this does not stop: someone who can write the node's store can also recompute the head (the
 * rule is public), as they could replace the node's code. The check is against damage, restores of
 * mismatched backups and editing of the stored journal, not against the node's own operator.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, type Bytes } from '../core/bytes.ts';
import { nobleBulkSha256, type BulkSha256 } from '../core/hash.ts';
import type { Ledger } from '../core/chain.ts';
import type { KnownPatientBlocks } from '../core/patient-block.ts';
import { pinnedBatchId } from '../core/pinning.ts';
import { transactionId } from '../core/transaction.ts';
import type { StoreWrite } from '../store/store.ts';
import type { ChainFact } from './chain-fact.ts';

export const VERIFIED_HEAD_KEY = 'verified-head';
const HEAD_BYTES = 8 + 32;
const HASH_BYTES = 32;
const DERIVED_PREFIX = 'derived/';
/** The meta keys of every derived row (DERIVED_PREFIX up to the next character). */
export const DERIVED_RANGE = { from: DERIVED_PREFIX, to: 'derived0' };
const NOTHING = new Uint8Array(0);

export function derivedKey(position: number): string {
	return `${DERIVED_PREFIX}${String(position).padStart(12, '0')}`;
}

export function positionOfDerived(key: string): number {
	return Number(key.slice(DERIVED_PREFIX.length));
}

/** Derived values are lists of 32-byte hashes (roots, ids), stored concatenated. */
export function joinHashes(hashes: readonly Bytes[]): Bytes {
	return concatBytes(...hashes);
}

export function splitHashes(bytes: Bytes, count: number): Bytes[] | undefined {
	if (bytes.length !== count * HASH_BYTES) return undefined;
	return Array.from({ length: count }, (_, i) => bytes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES));
}

/** How far the journal is verified: its first `length` facts hash to `hash`. */
export interface VerifiedHead {
	length: number;
	hash: Bytes;
}

export const EMPTY_HEAD: VerifiedHead = {
	length: 0,
	hash: sha256(new TextEncoder().encode('spchain/verified-journal/1'))
};

let installedSha256: BulkSha256 = nobleBulkSha256;

/**
 * Installs the SHA-256 the journal's facts are hashed with from now on (a platform's native one, by
 * crypto/wasm-backends.*.ts; undefined: back to @noble). Only the speed changes: the bytes are the same.
 */
export function useJournalSha256(next: BulkSha256 | undefined): void {
	installedSha256 = next ?? nobleBulkSha256;
}

export function journalSha256(): BulkSha256 {
	return installedSha256;
}

/** The head after the fact at `position` of type index `type`, with what was derived from it. */
export async function extendHead(
	head: VerifiedHead,
	position: number,
	type: number,
	bytes: Bytes,
	derived: Bytes = NOTHING,
	sha: BulkSha256 = installedSha256
): Promise<VerifiedHead> {
	const [factHash, derivedHash] = await Promise.all([sha.digest(bytes), sha.digest(derived)]);
	return linkHead(head, position, type, factHash, derivedHash);
}

/** The head over the fact's and derived value's digests (small input: hashed in place). */
function linkHead(
	head: VerifiedHead,
	position: number,
	type: number,
	factHash: Bytes,
	derivedHash: Bytes
): VerifiedHead {
	const meta = new Uint8Array(9);
	new DataView(meta.buffer).setBigUint64(0, BigInt(position));
	meta[8] = type;
	return { length: position + 1, hash: sha256(concatBytes(head.hash, meta, factHash, derivedHash)) };
}

export function encodeHead(head: VerifiedHead): Bytes {
	const out = new Uint8Array(HEAD_BYTES);
	new DataView(out.buffer).setBigUint64(0, BigInt(head.length));
	out.set(head.hash, 8);
	return out;
}

/** The stored head, or undefined when it is missing or not of this format (then nothing is trusted). */
export function decodeHead(bytes: Bytes | undefined): VerifiedHead | undefined {
	if (!bytes || bytes.length !== HEAD_BYTES) return undefined;
	const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0));
	return { length, hash: bytes.slice(8) };
}

export function headWrite(head: VerifiedHead): StoreWrite {
	return { table: 'meta', key: VERIFIED_HEAD_KEY, value: encodeHead(head) };
}

/** Why a stored journal is not trusted as verified (undefined: it is). */
export type JournalDistrust = 'no-head' | 'length' | 'hash';

/**
 * Hashes `rows` (the journal in position order, positions 0..n−1 without gaps) and says whether they are
 * the journal `stored` vouches for; also returns the head the rows hash to and each row's SHA-256 of
 * its derived value (of nothing when it has none).
 */
export async function checkJournal(
	rows: readonly { position: number; type: number; bytes: Bytes; derived?: Bytes }[],
	stored: VerifiedHead | undefined,
	sha: BulkSha256 = installedSha256
): Promise<{ head: VerifiedHead; distrust?: JournalDistrust; derivedDigests: Bytes[] }> {
	// All digests requested at once: a native back end (WebCrypto) may work on them in parallel.
	const digests = await Promise.all(
		rows.map((row) => Promise.all([sha.digest(row.bytes), sha.digest(row.derived ?? NOTHING)]))
	);
	let head = EMPTY_HEAD;
	let gap = false;
	rows.forEach((row, i) => {
		if (row.position !== head.length) gap = true;
		head = linkHead(head, head.length, row.type, digests[i]![0], digests[i]![1]);
	});
	// A derived value's digest is also the digest of the ids it joins (chain-fact.ts attachmentKey).
	const derivedDigests = digests.map(([, derived]) => derived);
	if (!stored) return { head, distrust: 'no-head', derivedDigests };
	if (gap || stored.length !== head.length) return { head, distrust: 'length', derivedDigests };
	if (!equalBytes(stored.hash, head.hash)) return { head, distrust: 'hash', derivedDigests };
	return { head, derivedDigests };
}

/** What a node derived from `fact` once it applied it to `ledger` (see the header), or undefined. */
export function derivedOf(fact: ChainFact, ledger: Ledger): Bytes | undefined {
	switch (fact.type) {
		case 'keyblock': {
			const { height } = fact.block.header;
			const headers = fact.block.registers.map((r) => ledger.patientBlock(r.body.patient)!.header);
			// Block i's hash is block i+1's prev; the last one's is the microblock tip of the round.
			const hashes = headers.map((_, i) => headers[i + 1]?.prev ?? ledger.microTip(height));
			return joinHashes([
				ledger.keyblock(height)!.hash,
				...headers.map((h) => h.institutionRoot),
				...headers.map((h) => h.register),
				...hashes
			]);
		}
		case 'attachment':
			return joinHashes(fact.attachment.entries.map((e) => transactionId(e.tx.body)));
		case 'batch':
			return pinnedBatchId(fact.pinned);
		default:
			return undefined;
	}
}

/** What a keyblock's derived value (derivedOf) says of its patient blocks, in either stored layout. */
export function knownPatientBlocks(derived: Bytes | undefined, registers: number): KnownPatientBlocks {
	const roots = derived && splitHashes(derived, registers);
	if (roots) return { institutionRoots: roots };
	const all = derived && splitHashes(derived, 1 + 3 * registers);
	if (!all) return {};
	return {
		keyblockHash: all[0],
		institutionRoots: all.slice(1, 1 + registers),
		registerIds: all.slice(1 + registers, 1 + 2 * registers),
		blockHashes: all.slice(1 + 2 * registers)
	};
}

export function derivedWrite(position: number, derived: Bytes | undefined): StoreWrite {
	return { table: 'meta', key: derivedKey(position), value: derived ?? null };
}
