/**
 * Store write batches as one file, so the synthetic store (synthetic-store.ts) can be written twice by
 * the project's own stores: into LevelDB by the Node process, and replayed batch by batch into a
 * Chromium page's IndexedDB by BrowserStore.write (browser-restart.ts). Pure: bundled into the page.
 * CBOR (cborg) of `[[table, key, value | null], …]` per batch, the rows of the store's former log
 * (src/lib/store/write-log.ts) without its frames and checksums.
 */
import { decode, encode } from 'cborg';
import { checkWrites, type StoreWrite } from '../../src/lib/store/store.ts';

type Row = [StoreWrite['table'], string, Uint8Array | null];

export function encodeWrites(batches: readonly (readonly StoreWrite[])[]): Uint8Array {
	return encode(batches.map((batch) => batch.map((w): Row => [w.table, w.key, w.value])));
}

/**
 * The batches of `data`, checked as a store checks writes. cborg copies every value out of `data`: a
 * view into it would make IndexedDB's structured clone store the whole file's buffer under every key.
 */
export function decodeWrites(data: Uint8Array): StoreWrite[][] {
	const batches = (decode(data) as Row[][]).map((rows) =>
		rows.map(([table, key, value]): StoreWrite => ({ table, key, value }))
	);
	for (const batch of batches) checkWrites(batch);
	return batches;
}
