/**
 * The journal's segments (journal-segments.ts). The codec and the tail on their own; then the small
 * chain of real facts (PoW keyblocks with BLS pins, a pinned batch, an attachment with Groth16 proofs)
 * applied again through ChainState with segments small enough to seal: the store holds segments and
 * single rows as laid out, a restart restores the same chain without verifying, peers are served the
 * same facts from any position, and a segment edited or damaged on disk is verified in full or refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChameleonVerifier } from '../core/chameleon.ts';
import { decodeKeyblock, encodeKeyblock } from '../core/keyblock.ts';
import { loadVerificationKey } from '../crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../crypto/batch-verifier.ts';
import { createNodeProver } from '../crypto/prover.node.ts';
import { MemoryStore, openMemoryStore } from '../store/memory-store.ts';
import { TABLES, type Store } from '../store/store.ts';
import { alice, buildSmallChain, clock, genesis, group } from '../../../tests/fixtures/small-chain.ts';
import { decodeFact, FACT_TYPES, position } from './chain-fact.ts';
import { ChainState } from './chain-state.ts';
import {
	decodeSegment,
	encodeSegment,
	JournalTail,
	layOutJournal,
	SEGMENT_TABLE,
	type JournalEntry
} from './journal-segments.ts';
import { readStoredJournal } from './stored-journal.ts';

let inner: Groth16BatchVerifier;
let proofsVerified = 0;
const verifier: ChameleonVerifier = {
	async verifyAll(statements) {
		proofsVerified += statements.length;
		return inner.verifyAll(statements);
	}
};
/** The small chain's journal as a node that never sealed a segment keeps it. */
let facts: JournalEntry[];
let unsegmented: ChainState;

const bytes = (...values: number[]) => new Uint8Array(values);
const entry = (position: number, size: number, derived?: number): JournalEntry => ({
	position,
	type: position % 5,
	bytes: new Uint8Array(size).fill(position),
	derived: derived === undefined ? undefined : new Uint8Array(derived).fill(position + 100)
});

/** What the chain answers of itself, compared between layouts. */
function state(chain: ChainState) {
	const { ledger } = chain;
	return {
		height: chain.height,
		length: chain.length,
		batches: Array.from({ length: chain.batchCount }, (_, i) => chain.batch(i + 1)),
		tip: ledger.tipHash,
		header: ledger.patientBlock(alice.publicKey)!.header,
		leaves: ledger.patientBlock(alice.publicKey)!.leaves.map((l) => ({ ...l })),
		balances: chain.accounts.all()
	};
}

async function served(chain: ChainState, from: number) {
	const out = [];
	for await (const fact of chain.journal(from)) out.push(fact);
	return out;
}

/** The small chain applied fact by fact into a new store, sealing segments of `segmentBytes`. */
async function segmented(segmentBytes: number): Promise<MemoryStore> {
	const store = openMemoryStore();
	const chain = await ChainState.open({ genesis, store, group, verifier, clock, segmentBytes });
	for (const fact of facts) await chain.apply(decodeFact(FACT_TYPES[fact.type]!, fact.bytes, genesis));
	return store;
}

async function copy(store: Store): Promise<MemoryStore> {
	const again = openMemoryStore();
	for (const table of TABLES)
		await again.write((await store.list(table)).map(([key, value]) => ({ table, key, value })));
	return again;
}

async function open(store: Store, segmentBytes?: number) {
	proofsVerified = 0;
	return ChainState.open({ genesis, store, group, verifier, clock, segmentBytes });
}

beforeAll(async () => {
	const prover = await createNodeProver();
	inner = await Groth16BatchVerifier.create(await loadVerificationKey());
	try {
		const store = openMemoryStore();
		({ chain: unsegmented } = await buildSmallChain(store, prover, verifier));
		facts = (await readStoredJournal(store)).journal.map(({ position, type, bytes, derived }) => ({
			position,
			type,
			bytes,
			derived
		}));
	} finally {
		await prover.close();
	}
}, 180_000);

describe('segment codec and tail', () => {
	it('encodes consecutive facts and decodes them under the key of the last', () => {
		const rows = [entry(7, 3, 32), entry(8, 5), entry(9, 0, 64)];
		expect(decodeSegment(position(9), encodeSegment(rows))).toEqual(rows);
		expect(() => encodeSegment([entry(1, 1), entry(3, 1)])).toThrow(/consecutive/);
		expect(() => encodeSegment([])).toThrow(RangeError);
	});

	it('refuses a segment that is damaged or stored under another key, naming it', () => {
		const value = encodeSegment([entry(4, 10), entry(5, 10)]);
		for (const [key, damaged] of [
			[position(4), value],
			[position(5), value.subarray(0, value.length - 3)],
			[position(5), bytes(0x82, 0x01)],
			[position(5), encodeSegment([{ ...entry(5, 1), type: 9 }])]
		] as const)
			expect(() => decodeSegment(key, damaged)).toThrow(
				expect.objectContaining({ name: 'StoreCorruptError', message: expect.stringContaining(key) })
			);
	});

	it('keeps facts as single rows until they reach the segment size, then seals them in one batch', () => {
		const tail = new JournalTail([], 100);
		expect(tail.append(entry(0, 40, 32))).toEqual([
			{ table: 'keyblocks', key: position(0), value: entry(0, 40).bytes },
			{ table: 'meta', key: `derived/${position(0)}`, value: entry(0, 40, 32).derived }
		]);
		expect(tail.append(entry(1, 20))).toEqual([
			{ table: 'certificates', key: position(1), value: entry(1, 20).bytes }
		]);
		const sealed = tail.append(entry(2, 10));
		expect(sealed.filter((w) => w.value === null).map((w) => `${w.table}/${w.key}`)).toEqual([
			`keyblocks/${position(0)}`,
			`meta/derived/${position(0)}`,
			`certificates/${position(1)}`,
			`meta/derived/${position(1)}`
		]);
		const [segment] = sealed.filter((w) => w.value !== null);
		expect(segment).toMatchObject({ table: SEGMENT_TABLE, key: position(2) });
		expect(decodeSegment(segment!.key, segment!.value!)).toEqual([
			entry(0, 40, 32),
			entry(1, 20),
			entry(2, 10)
		]);
		// After a seal the tail starts again.
		expect(tail.append(entry(3, 1))).toHaveLength(1);
	});

	it('lays out a whole journal as appending it fact by fact does', () => {
		const rows = [entry(0, 60), entry(1, 50), entry(2, 10), entry(3, 200), entry(4, 5), entry(5, 5)];
		const tail = new JournalTail([], 100);
		const appended = new Map<string, Uint8Array | null>();
		for (const row of rows) for (const w of tail.append(row)) appended.set(`${w.table}/${w.key}`, w.value);
		const kept = [...appended].filter(([, value]) => value !== null);
		const laidOut = layOutJournal(rows, 100);
		expect(laidOut.writes.map((w) => [`${w.table}/${w.key}`, w.value])).toEqual(kept);
		expect(kept.map(([key]) => key)).toEqual([
			`journal/${position(1)}`,
			`journal/${position(3)}`,
			`evidence/${position(4)}`,
			`keyblocks/${position(5)}`
		]);
		// The tail laid out seals as the appended one does.
		expect(laidOut.tail.append(entry(6, 95))).toEqual(tail.append(entry(6, 95)));
	});
});

describe('a chain kept in segments', () => {
	it('restores as the single-row journal does and serves the same facts from any position', async () => {
		const before = state(unsegmented);
		const everything = await served(unsegmented, 0);
		expect(everything).toHaveLength(facts.length);
		const sizes = facts.map((f) => f.bytes.length + (f.derived?.length ?? 0));
		// Every fact its own segment; the first two sealed together and the rest single; nothing sealed.
		for (const segmentBytes of [1, sizes[0]! + sizes[1]!, 1 << 30]) {
			const store = await segmented(segmentBytes);
			const segments = await store.list(SEGMENT_TABLE);
			const expected = layOutJournal(facts, segmentBytes).writes.filter((w) => w.table === SEGMENT_TABLE);
			expect(segments.map(([key]) => key)).toEqual(expected.map((w) => w.key));
			const chain = await open(store, segmentBytes);
			expect(chain.opened).toBe('restored');
			expect(proofsVerified).toBe(0);
			expect(state(chain)).toEqual(before);
			for (let from = 0; from <= facts.length; from++)
				expect(await served(chain, from)).toEqual(everything.slice(from));
		}
	});

	it('verifies in full a journal whose segment was edited, and lays it out again', async () => {
		const original = await segmented(1);
		// The first keyblock's derived value (its hash, alice's block's root, register id, hash) edited.
		const store = await copy(original);
		const [first] = decodeSegment(position(0), (await store.get(SEGMENT_TABLE, position(0)))!);
		const edited = { ...first!, derived: first!.derived!.slice().fill(1, 32, 64) };
		await store.write([{ table: SEGMENT_TABLE, key: position(0), value: encodeSegment([edited]) }]);
		const chain = await open(store, 1);
		expect(chain).toMatchObject({ opened: 'verified', distrust: 'hash' });
		expect(state(chain)).toEqual(state(unsegmented));
		expect(await store.get(SEGMENT_TABLE, position(0))).toEqual(
			await original.get(SEGMENT_TABLE, position(0))
		);
		expect(await open(store, 1)).toMatchObject({ opened: 'restored' });
		// Re-laid out with another segment size, the single rows and segments left replace the old ones.
		const resized = await copy(store);
		await resized.write([{ table: 'meta', key: 'verified-head', value: null }]);
		expect(await open(resized, 1 << 30)).toMatchObject({ opened: 'verified', distrust: 'no-head' });
		expect(await resized.list(SEGMENT_TABLE)).toEqual([]);
		expect((await readStoredJournal(resized)).tail).toHaveLength(facts.length);
		expect(await open(resized, 1 << 30)).toMatchObject({ opened: 'restored' });
	});

	it('refuses a fact edited inside a segment, and names a segment that does not decode', async () => {
		const original = await segmented(1);
		const store = await copy(original);
		const [first] = decodeSegment(position(0), (await store.get(SEGMENT_TABLE, position(0)))!);
		const [second] = decodeSegment(position(1), (await store.get(SEGMENT_TABLE, position(1)))!);
		// Keyblock 2 with keyblock 1's certificate: well-formed bytes that only verification refuses.
		const max = genesis.maxRegistersPerKeyblock;
		const k2 = decodeKeyblock(second!.bytes, max);
		const forged = encodeKeyblock({ ...k2, pin: decodeKeyblock(first!.bytes, max).pin });
		await store.write([
			{ table: SEGMENT_TABLE, key: position(1), value: encodeSegment([{ ...second!, bytes: forged }]) }
		]);
		await expect(open(store, 1)).rejects.toMatchObject({ name: 'ValidationError' });
		const damaged = await copy(original);
		await damaged.write([{ table: SEGMENT_TABLE, key: position(2), value: bytes(1, 2, 3) }]);
		await expect(open(damaged, 1)).rejects.toMatchObject({
			name: 'StoreCorruptError',
			message: expect.stringContaining(position(2))
		});
	});
});
