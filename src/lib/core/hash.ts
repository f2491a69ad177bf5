/**
 * Hashing in the protocol: SHA-256 (@noble/hashes). Every structure is hashed as
 * SHA-256(tag || canonical CBOR), with a distinct tag per structure so a patient block can never be
 * confused with a transaction that happens to encode the same bytes (domain separation).
 * The keyblock puzzle alone uses double SHA-256, as Bitcoin's does (see keyblock.ts).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { concatBytes, type Bytes } from './bytes.ts';

export { sha256 };

export const HASH_LENGTH = 32;

export function sha256d(data: Bytes): Bytes {
	return sha256(sha256(data));
}

const tagCache = new Map<string, Bytes>();

/** SHA-256(SHA-256(tag) || SHA-256(tag) || data): BIP-340-style tagged hash. */
export function taggedHash(tag: string, data: Bytes): Bytes {
	let prefix = tagCache.get(tag);
	if (!prefix) {
		const t = sha256(utf8ToBytes(tag));
		prefix = concatBytes(t, t);
		tagCache.set(tag, prefix);
	}
	return sha256.create().update(prefix).update(data).digest();
}

/**
 * SHA-256 of bulk data (a node's whole verified journal on every open), injected so each platform
 * hashes natively (crypto/sha256.node.ts: node:crypto; crypto/sha256.browser.ts: WebCrypto) while the
 * core stays free of platform APIs. Async because WebCrypto is. Every back end gives @noble's bytes.
 */
export interface BulkSha256 {
	readonly name: string;
	digest(data: Bytes): Promise<Bytes>;
}

/** The reference back end (@noble/hashes, pure TypeScript). */
export const nobleBulkSha256: BulkSha256 = {
	name: '@noble/hashes',
	digest: async (data) => sha256(data)
};
