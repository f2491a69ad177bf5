/**
 * Store write batches as one file, so the synthetic store (synthetic-store.ts) can be written twice by
 * the project's own stores: into LevelDB by the Node process, and replayed batch by batch into a
 * Chromium page's IndexedDB by BrowserStore.write (browser-restart.ts). Pure: bundled into the page.
 *
 *   batch: [write count: u32] then per write [table index in TABLES: u8][key length: u16][key, UTF-8]
 *          [value length: u32, 0xffffffff for a delete][value]
 */
import { TABLES, type StoreWrite } from '../../src/lib/store/store.ts';

const DELETE = 0xffffffff;

export function encodeWrites(batches: readonly (readonly StoreWrite[])[]): Uint8Array {
	const encoder = new TextEncoder();
	const parts: Uint8Array[] = [];
	for (const batch of batches) {
		const head = new Uint8Array(4);
		new DataView(head.buffer).setUint32(0, batch.length);
		parts.push(head);
		for (const { table, key, value } of batch) {
			const keyBytes = encoder.encode(key);
			const meta = new Uint8Array(7 + keyBytes.length);
			const view = new DataView(meta.buffer);
			meta[0] = TABLES.indexOf(table);
			view.setUint16(1, keyBytes.length);
			meta.set(keyBytes, 3);
			view.setUint32(3 + keyBytes.length, value === null ? DELETE : value.length);
			parts.push(meta, ...(value ? [value] : []));
		}
	}
	const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
	let at = 0;
	for (const part of parts) {
		out.set(part, at);
		at += part.length;
	}
	return out;
}

/**
 * The batches of `data`. Values are copies: a view into `data` would make IndexedDB's structured clone
 * store the whole file's buffer under every key.
 */
export function decodeWrites(data: Uint8Array): StoreWrite[][] {
	const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
	const decoder = new TextDecoder();
	const batches: StoreWrite[][] = [];
	for (let at = 0; at < data.length;) {
		const count = view.getUint32(at);
		at += 4;
		const batch: StoreWrite[] = [];
		for (let i = 0; i < count; i++) {
			const table = TABLES[data[at]!];
			const keyLength = view.getUint16(at + 1);
			const key = decoder.decode(data.subarray(at + 3, at + 3 + keyLength));
			const length = view.getUint32(at + 3 + keyLength);
			at += 7 + keyLength;
			if (!table) throw new Error(`store writes: unknown table at byte ${at}`);
			const value = length === DELETE ? null : data.slice(at, at + length);
			if (value) at += length;
			batch.push({ table, key, value });
		}
		batches.push(batch);
	}
	return batches;
}
