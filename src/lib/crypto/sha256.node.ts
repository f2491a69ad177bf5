/** Node: SHA-256 of bulk data on OpenSSL (node:crypto), for the verified journal (core/hash.ts BulkSha256). */
import { createHash } from 'node:crypto';
import type { BulkSha256 } from '../core/hash.ts';

export const nodeBulkSha256: BulkSha256 = {
	name: 'node:crypto',
	// A plain Uint8Array (not a Buffer, which may share a pooled allocation): callers keep the digest.
	digest: async (data) => Uint8Array.from(createHash('sha256').update(data).digest())
};
