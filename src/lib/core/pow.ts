/**
 * The keyblock proof-of-work puzzle (paper §5.1.2):
 *
 *   SHA-256d(prev_keyblock_hash ‖ penu_microblock_hash ‖ Nonce ‖ PK) < target
 *
 * Byte layout (104 bytes): prev (32) ‖ penu (32) ‖ nonce (8, big-endian u64) ‖ PK (32, BIP-340 x-only).
 * The first 64 bytes are exactly one SHA-256 block, constant for a mining job, so a miner computes that
 * block's midstate once and hashes only the nonce block and the outer hash per try (src/lib/mining/).
 * Hashes and targets compare as big-endian 256-bit integers. This is the reference the WASM kernel is
 * tested against.
 */
import { bytesToBigInt, concatBytes, u64be, type Bytes } from './bytes.ts';
import { ensure } from './errors.ts';
import { sha256d } from './hash.ts';

export const POW_PREIMAGE_LENGTH = 104;
const MAX_NONCE = (1n << 64n) - 1n;

export function powPreimage(prev: Bytes, penu: Bytes, nonce: bigint, minerKey: Bytes): Bytes {
	for (const [field, bytes] of [
		['prev', prev],
		['penu', penu],
		['miner key', minerKey]
	] as const)
		ensure(bytes.length === 32, 'pow-field-length', `the puzzle's ${field} must be 32 bytes`);
	ensure(
		nonce >= 0n && nonce <= MAX_NONCE,
		'pow-nonce-range',
		'the nonce must be an unsigned 64-bit integer'
	);
	return concatBytes(prev, penu, u64be(nonce), minerKey);
}

export function powHash(prev: Bytes, penu: Bytes, nonce: bigint, minerKey: Bytes): Bytes {
	return sha256d(powPreimage(prev, penu, nonce, minerKey));
}

export function meetsTarget(hash: Bytes, target: Bytes): boolean {
	ensure(hash.length === 32 && target.length === 32, 'pow-field-length', 'hash and target must be 32 bytes');
	return bytesToBigInt(hash) < bytesToBigInt(target);
}

/** Rejects (code `keyblock-pow`) a nonce whose puzzle hash does not meet `target`. */
export function checkProofOfWork(
	prev: Bytes,
	penu: Bytes,
	nonce: bigint,
	minerKey: Bytes,
	target: Bytes
): void {
	ensure(
		meetsTarget(powHash(prev, penu, nonce, minerKey), target),
		'keyblock-pow',
		'the nonce does not meet the target'
	);
}

/** Expected number of hashes to meet `target`: the work a keyblock proves (chain weight, hash rates). */
export function targetToWork(target: Bytes): bigint {
	return (1n << 256n) / (bytesToBigInt(target) + 1n);
}
