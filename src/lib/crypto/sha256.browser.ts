/** Pages and workers: SHA-256 of bulk data on WebCrypto, for the verified journal (core/hash.ts BulkSha256). */
import type { BulkSha256 } from '../core/hash.ts';

export const webBulkSha256: BulkSha256 = {
	name: 'WebCrypto',
	// Journal bytes live in ordinary ArrayBuffers (never shared), which is what WebCrypto's type asks.
	digest: async (data) =>
		new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>))
};
