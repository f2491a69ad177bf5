/**
 * How the Node store lays the Store's (table, key) pairs out in one LevelDB key space: one byte for the
 * table (its index in TABLES, plus one), then the key's UTF-16 code units, big-endian. LevelDB orders
 * keys bytewise; this encoding makes that order exactly JavaScript's string order (code unit by code
 * unit), which is the order the Store contract promises and the memory and IndexedDB stores give. A
 * UTF-8 encoding would not: it orders characters above U+FFFF after U+E000..U+FFFF, strings do not.
 */
import { StoreCorruptError, TABLES, type TableName } from './store.ts';

const TABLE_BYTE = new Map<TableName, number>(TABLES.map((table, i) => [table, i + 1]));

export function tableByte(table: TableName): number {
	return TABLE_BYTE.get(table)!;
}

export function encodeKey(table: TableName, key: string): Uint8Array {
	const out = new Uint8Array(1 + 2 * key.length);
	out[0] = tableByte(table);
	for (let i = 0; i < key.length; i++) {
		const unit = key.charCodeAt(i);
		out[1 + 2 * i] = unit >>> 8;
		out[2 + 2 * i] = unit & 0xff;
	}
	return out;
}

export function decodeKey(bytes: Uint8Array): { table: TableName; key: string } {
	const table = TABLES[bytes[0]! - 1];
	if (!table || bytes.length % 2 !== 1)
		throw new StoreCorruptError(`the Node store holds a key that is not of the store's format`);
	const units = new Array<number>((bytes.length - 1) / 2);
	for (let i = 0; i < units.length; i++) units[i] = (bytes[1 + 2 * i]! << 8) | bytes[2 + 2 * i]!;
	let key = '';
	// Chunks: String.fromCharCode takes its units as arguments, and argument lists are bounded.
	for (let i = 0; i < units.length; i += 8192) key += String.fromCharCode(...units.slice(i, i + 8192));
	return { table, key };
}

/** The smallest key after every key of `table` (the next table's prefix). */
export function tableEnd(table: TableName): Uint8Array {
	return new Uint8Array([tableByte(table) + 1]);
}
