/**
 * The Store contract as plain async checks, so the very same checks run against the memory store and
 * the Node log in Vitest and against IndexedDB in real Chromium (the store diagnostics page runs them
 * and the browser test reads the results). Each check throws an Error saying what differed.
 */
import { StorageClosedError, StoreInputError, type Store, type StoreWrite, type TableName } from './store.ts';

export interface StoreHarness {
	/** A new, empty store. */
	fresh(): Promise<Store>;
	/** Closes `store` and opens the same data again (absent for stores that keep nothing). */
	reopen?(store: Store): Promise<Store>;
}

export interface ContractCheck {
	name: string;
	run(harness: StoreHarness): Promise<void>;
}

export class ContractFailure extends Error {
	override readonly name = 'ContractFailure';
}

function ensure(condition: unknown, message: string): asserts condition {
	if (!condition) throw new ContractFailure(message);
}

const bytes = (...values: number[]) => new Uint8Array(values);
const text = (s: string) => new TextEncoder().encode(s);
const show = (value: Uint8Array | undefined) => (value ? `[${[...value].join(',')}]` : 'undefined');

function sameBytes(actual: Uint8Array | undefined, expected: Uint8Array | undefined, what: string): void {
	const same =
		actual === expected ||
		(actual !== undefined &&
			expected !== undefined &&
			actual.length === expected.length &&
			actual.every((b, i) => b === expected[i]));
	ensure(same, `${what}: expected ${show(expected)}, got ${show(actual)}`);
	if (actual) ensure(actual instanceof Uint8Array, `${what}: value is not a Uint8Array`);
}

async function rejects(promise: Promise<unknown>, type: new (...args: never[]) => Error, what: string) {
	try {
		await promise;
	} catch (error) {
		ensure(error instanceof type, `${what}: expected ${type.name}, got ${String(error)}`);
		return;
	}
	throw new ContractFailure(`${what}: expected ${type.name}, but it succeeded`);
}

async function keysOf(store: Store, table: TableName, range?: Parameters<Store['list']>[1]) {
	return (await store.list(table, range)).map(([key]) => key).join(' ');
}

async function withFresh(harness: StoreHarness, body: (store: Store) => Promise<void>): Promise<void> {
	const store = await harness.fresh();
	try {
		await body(store);
	} finally {
		await store.close();
	}
}

export const STORE_CONTRACT: ContractCheck[] = [
	{
		name: 'get returns what write put, per table; null deletes; values are copies',
		run: (h) =>
			withFresh(h, async (store) => {
				sameBytes(await store.get('meta', 'a'), undefined, 'missing key');
				const value = bytes(1, 2, 3);
				await store.write([
					{ table: 'meta', key: 'a', value },
					{ table: 'keys', key: 'a', value: bytes(9) },
					{ table: 'meta', key: '', value: new Uint8Array(0) }
				]);
				value[0] = 99;
				sameBytes(await store.get('meta', 'a'), bytes(1, 2, 3), 'meta/a after the caller changed its array');
				sameBytes(await store.get('keys', 'a'), bytes(9), 'keys/a');
				sameBytes(await store.get('meta', ''), new Uint8Array(0), 'empty key, empty value');
				const read = await store.get('meta', 'a');
				read![1] = 77;
				sameBytes(await store.get('meta', 'a'), bytes(1, 2, 3), 'meta/a after changing a value read');
				const listed = (await store.list('meta', { from: 'a', to: 'b' }))[0]![1];
				listed[2] = 55;
				sameBytes(await store.get('meta', 'a'), bytes(1, 2, 3), 'meta/a after changing a value listed');
				sameBytes(
					(await store.list('meta', { from: 'a', to: 'b' }))[0]![1],
					bytes(1, 2, 3),
					'meta/a listed again'
				);
				await store.write([{ table: 'meta', key: 'a', value: null }]);
				sameBytes(await store.get('meta', 'a'), undefined, 'deleted key');
				sameBytes(await store.get('keys', 'a'), bytes(9), 'same key in another table');
				await store.write([{ table: 'meta', key: 'never-there', value: null }]);
				await store.write([]);
			})
	},
	{
		name: 'list returns keys in string order within [from, to) up to limit',
		run: (h) =>
			withFresh(h, async (store) => {
				const keys = ['b', 'a', '000010', '000002', 'ab', 'B', 'é', 'a\u0000', '000001'];
				await store.write(keys.map((key) => ({ table: 'transactions', key, value: text(key) })));
				await store.write([{ table: 'keyblocks', key: 'zz', value: bytes(1) }]);
				const all = await store.list('transactions');
				ensure(
					all.map(([k]) => k).join('|') === [...keys].sort().join('|'),
					`order: ${all.map(([k]) => k).join('|')}`
				);
				for (const [key, value] of all) sameBytes(value, text(key), `value of ${key}`);
				ensure(
					(await keysOf(store, 'transactions', { from: '000002' })).startsWith('000002 000010 B a'),
					'from'
				);
				ensure(
					(await keysOf(store, 'transactions', { from: '000002', to: 'a' })) === '000002 000010 B',
					'from..to'
				);
				ensure((await keysOf(store, 'transactions', { to: '000002' })) === '000001', 'to is exclusive');
				ensure((await keysOf(store, 'transactions', { from: 'a', limit: 2 })) === 'a a\u0000', 'limit');
				ensure((await keysOf(store, 'transactions', { limit: 0 })) === '', 'limit 0');
				ensure((await keysOf(store, 'transactions', { from: '\uffff' })) === '', 'from past the end');
				ensure((await keysOf(store, 'keyblocks')) === 'zz', 'tables are separate');
				await store.write([{ table: 'transactions', key: 'ab', value: null }]);
				ensure(!(await keysOf(store, 'transactions')).includes('ab'), 'deleted key still listed');
			})
	},
	{
		name: 'a batch with a bad write leaves nothing written',
		run: (h) =>
			withFresh(h, async (store) => {
				await store.write([{ table: 'meta', key: 'kept', value: bytes(1) }]);
				const bad = [
					{ table: 'meta', key: 'kept', value: bytes(2) },
					{ table: 'keyblocks', key: 'new', value: bytes(3) },
					{ table: 'no-such-table', key: 'x', value: bytes(4) }
				] as unknown as StoreWrite[];
				await rejects(store.write(bad), StoreInputError, 'unknown table');
				const badValue = [
					{ table: 'meta', key: 'kept', value: bytes(2) },
					{ table: 'meta', key: 'other', value: 'not bytes' }
				] as unknown as StoreWrite[];
				await rejects(store.write(badValue), StoreInputError, 'value not bytes');
				sameBytes(await store.get('meta', 'kept'), bytes(1), 'overwritten by a failed batch');
				sameBytes(await store.get('keyblocks', 'new'), undefined, 'written by a failed batch');
				ensure((await keysOf(store, 'meta')) === 'kept', 'meta rows after failed batches');
				await store.write([{ table: 'meta', key: 'after', value: bytes(5) }]);
				sameBytes(await store.get('meta', 'after'), bytes(5), 'write after a failed batch');
			})
	},
	{
		name: 'within a batch and across concurrent batches, later writes win',
		run: (h) =>
			withFresh(h, async (store) => {
				await store.write([
					{ table: 'voting', key: 'k', value: bytes(1) },
					{ table: 'voting', key: 'k', value: null },
					{ table: 'voting', key: 'k', value: bytes(2) },
					{ table: 'voting', key: 'gone', value: bytes(1) },
					{ table: 'voting', key: 'gone', value: null }
				]);
				sameBytes(await store.get('voting', 'k'), bytes(2), 'put, delete, put');
				sameBytes(await store.get('voting', 'gone'), undefined, 'put, delete');
				await Promise.all(
					Array.from({ length: 50 }, (_, i) =>
						store.write([
							{ table: 'pending', key: `p${String(i).padStart(3, '0')}`, value: bytes(i) },
							{ table: 'meta', key: 'last', value: bytes(i) }
						])
					)
				);
				ensure((await store.list('pending')).length === 50, 'concurrent batches all landed');
				sameBytes(await store.get('meta', 'last'), bytes(49), 'the batch issued last wins');
			})
	},
	{
		name: 'a closed store refuses reads and writes with StorageClosedError',
		run: async (h) => {
			const store = await h.fresh();
			await store.close();
			await rejects(store.get('meta', 'a'), StorageClosedError, 'get after close');
			await rejects(store.list('meta'), StorageClosedError, 'list after close');
			await rejects(store.write([{ table: 'meta', key: 'a', value: bytes(1) }]), StorageClosedError, 'write');
			await store.close();
		}
	},
	{
		name: 'reopening keeps every committed batch, deletes included',
		run: async (h) => {
			if (!h.reopen) throw new ContractFailure('this check needs a store that can reopen');
			let store = await h.fresh();
			try {
				const big = new Uint8Array(100_000).map((_, i) => i % 251);
				await store.write([
					{ table: 'keyblocks', key: '000001', value: bytes(1) },
					{ table: 'keyblocks', key: '000002', value: big },
					{ table: 'certificates', key: 'c', value: bytes(3) }
				]);
				await store.write([{ table: 'certificates', key: 'c', value: null }]);
				await store.write([{ table: 'keyblocks', key: '000001', value: bytes(7) }]);
				store = await h.reopen(store);
				sameBytes(await store.get('keyblocks', '000001'), bytes(7), 'overwritten row after reopen');
				sameBytes(await store.get('keyblocks', '000002'), big, 'large row after reopen');
				sameBytes(await store.get('certificates', 'c'), undefined, 'deleted row after reopen');
				ensure((await keysOf(store, 'keyblocks')) === '000001 000002', 'listing after reopen');
				await store.write([{ table: 'keyblocks', key: '000003', value: bytes(3) }]);
				store = await h.reopen(store);
				ensure((await keysOf(store, 'keyblocks')) === '000001 000002 000003', 'second reopen');
			} finally {
				await store.close();
			}
		}
	},
	{
		name: 'writes issued before close() still commit',
		run: async (h) => {
			if (!h.reopen) throw new ContractFailure('this check needs a store that can reopen');
			let store = await h.fresh();
			try {
				const writes = Array.from({ length: 20 }, (_, i) =>
					store.write([{ table: 'pending', key: `w${String(i).padStart(2, '0')}`, value: bytes(i) }])
				);
				const closed = store.close();
				await Promise.all(writes);
				await closed;
				store = await h.reopen(store);
				ensure((await store.list('pending')).length === 20, 'writes issued before close() were lost');
			} finally {
				await store.close();
			}
		}
	}
];

/** Checks that need a store that outlives close(). */
export const REOPEN_CHECKS = new Set([
	'reopening keeps every committed batch, deletes included',
	'writes issued before close() still commit'
]);
