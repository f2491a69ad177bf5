/**
 * The sync bench's journal file: the facts of the chain in journal order, each as
 * [fact type index: 1 byte][length: 4 bytes, big-endian][the fact's canonical bytes], exactly the bytes
 * a full node keeps in its journal and serves to a syncing peer.
 */
import { readFileSync } from 'node:fs';
import type { Bytes } from '../../src/lib/core/bytes.ts';
import { FACT_TYPES, type ChainFact } from '../../src/lib/runtime/chain-fact.ts';

export interface JournalFact {
	type: ChainFact['type'];
	bytes: Bytes;
}

export function encodeJournal(facts: readonly JournalFact[]): Uint8Array {
	const out = new Uint8Array(facts.reduce((sum, f) => sum + 5 + f.bytes.length, 0));
	const view = new DataView(out.buffer);
	let at = 0;
	for (const { type, bytes } of facts) {
		out[at] = FACT_TYPES.indexOf(type);
		view.setUint32(at + 1, bytes.length);
		out.set(bytes, at + 5);
		at += 5 + bytes.length;
	}
	return out;
}

export function readJournal(file: string): JournalFact[] {
	const data = new Uint8Array(readFileSync(file));
	const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
	const facts: JournalFact[] = [];
	for (let at = 0; at < data.length;) {
		const type = FACT_TYPES[data[at]!];
		const length = view.getUint32(at + 1);
		if (!type || at + 5 + length > data.length) throw new Error(`${file}: damaged at byte ${at}`);
		facts.push({ type, bytes: data.subarray(at + 5, at + 5 + length) });
		at += 5 + length;
	}
	return facts;
}
