/**
 * What the store diagnostics page runs in the browser: the shared Store contract against IndexedDB,
 * a quota check (a batch larger than the origin's remaining quota must fail whole with
 * StorageFullError), and a marker written before and read after a page reload. The page shows the
 * results and exposes these functions on `window.storeDiagnostics` for tests/browser/store.spec.ts.
 */
import { STORE_CONTRACT, type StoreHarness } from '$lib/store/contract.ts';
import { BrowserStore, deleteStore, openStore } from '$lib/store/store.browser.ts';
import { StorageFullError, type Store, type StoreWrite } from '$lib/store/store.ts';

export interface CheckResult {
	name: string;
	ok: boolean;
	detail: string;
	ms: number;
}

const describeError = (error: unknown) =>
	error instanceof Error ? `${error.name}: ${error.message}` : String(error);

export async function timed(name: string, run: () => Promise<string | void>): Promise<CheckResult> {
	const started = performance.now();
	try {
		const detail = (await run()) ?? 'passed';
		return { name, ok: true, detail, ms: performance.now() - started };
	} catch (error) {
		return { name, ok: false, detail: describeError(error), ms: performance.now() - started };
	}
}

/** Runs every contract check on throwaway IndexedDB profiles, deleted afterwards. */
export async function runStoreContract(): Promise<CheckResult[]> {
	const profiles = new Map<Store, string>();
	const harness: StoreHarness = {
		fresh: async () => {
			const profile = `diagnostics-${crypto.randomUUID()}`;
			const store = await openStore(profile);
			profiles.set(store, profile);
			return store;
		},
		reopen: async (store) => {
			const profile = profiles.get(store)!;
			await store.close();
			const again = await openStore(profile);
			profiles.set(again, profile);
			return again;
		}
	};
	const results: CheckResult[] = [];
	for (const check of STORE_CONTRACT) results.push(await timed(check.name, () => check.run(harness)));
	for (const [store, profile] of profiles) {
		await store.close();
		await deleteStore(profile);
	}
	return results;
}

export interface QuotaOutcome {
	storageFull: boolean;
	message: string;
	keptOldValue: boolean;
	wroteNothingNew: boolean;
}

let quotaStore: { store: BrowserStore; profile: string } | undefined;

/**
 * Opens a throwaway store, writes a small row, then a batch of `batchBytes` (overwriting the small row
 * too) past the origin's quota: the batch must fail whole. The store stays open for quotaRecovered(),
 * called once the origin has room again.
 */
export async function quotaCheck(batchBytes: number): Promise<QuotaOutcome> {
	const profile = `quota-${crypto.randomUUID()}`;
	const store = await openStore(profile);
	quotaStore = { store, profile };
	await store.write([{ table: 'meta', key: 'small', value: new Uint8Array([1]) }]);
	const chunk = 256 * 1024;
	const writes: StoreWrite[] = [{ table: 'meta', key: 'small', value: new Uint8Array([2]) }];
	for (let i = 0; i * chunk < batchBytes; i++) {
		// Random bytes: the browser may compress what it stores, and random data does not shrink.
		const value = new Uint8Array(chunk);
		for (let at = 0; at < chunk; at += 65536) crypto.getRandomValues(value.subarray(at, at + 65536));
		writes.push({ table: 'ciphertexts', key: `big${i}`, value });
	}
	let error: unknown;
	try {
		await store.write(writes);
	} catch (e) {
		error = e;
	}
	const small = await store.get('meta', 'small');
	return {
		storageFull: error instanceof StorageFullError,
		message: error ? describeError(error) : 'the batch was written',
		keptOldValue: small?.length === 1 && small[0] === 1,
		wroteNothingNew: (await store.list('ciphertexts')).length === 0
	};
}

/** After space was freed: the same store (not reopened) writes again. */
export async function quotaRecovered(): Promise<string> {
	if (!quotaStore) throw new Error('run quotaCheck first');
	const { store, profile } = quotaStore;
	quotaStore = undefined;
	try {
		await store.write([{ table: 'meta', key: 'after', value: new Uint8Array([3]) }]);
		return (await store.get('meta', 'after'))?.[0] === 3 ? 'written' : 'not written';
	} catch (error) {
		return describeError(error);
	} finally {
		await store.close();
		await deleteStore(profile);
	}
}

/** For the reload check: writes a marker in a profile's store and closes it. */
export async function writeMarker(profile: string, text: string): Promise<void> {
	const store = await openStore(profile);
	await store.write([{ table: 'meta', key: 'marker', value: new TextEncoder().encode(text) }]);
	await store.close();
}

export async function readMarker(profile: string): Promise<string | null> {
	const store = await openStore(profile);
	const value = await store.get('meta', 'marker');
	await store.close();
	return value ? new TextDecoder().decode(value) : null;
}

export async function storageStatus(): Promise<{ persisted: boolean; usage: number; quota: number }> {
	const store: BrowserStore = await openStore('diagnostics-status');
	const persisted = await store.persistence;
	const estimate = await store.estimate();
	await store.close();
	return { persisted, ...estimate };
}

/** Rows written per second (500-byte values, `rowsPerBatch` per batch) on a throwaway profile. */
export async function writeSpeed(
	rows: number,
	durability: 'strict' | 'relaxed',
	rowsPerBatch = 1
): Promise<number> {
	const profile = `speed-${crypto.randomUUID()}`;
	const store = await openStore(profile, { durability });
	try {
		const value = new Uint8Array(500);
		const started = performance.now();
		for (let i = 0; i < rows; i += rowsPerBatch)
			await store.write(
				Array.from({ length: rowsPerBatch }, (_, j) => ({
					table: 'transactions' as const,
					key: String(i + j).padStart(8, '0'),
					value
				}))
			);
		return (rows / (performance.now() - started)) * 1000;
	} finally {
		await store.close();
		await deleteStore(profile);
	}
}

const CRASH_ROWS = 20;
/** Batches the crash writer reported committed (read by the test before it crashes the page). */
export const crashProgress = { committed: -1 };

/** Writes numbered 20-row batches until the page dies; each batch also moves `meta/tip`. */
export async function crashWriter(profile: string): Promise<never> {
	const store = await openStore(profile);
	const value = new Uint8Array(4096).fill(9);
	for (let batch = 0; ; batch++) {
		const writes: StoreWrite[] = Array.from({ length: CRASH_ROWS }, (_, row) => ({
			table: 'transactions',
			key: `${String(batch).padStart(6, '0')}/${String(row).padStart(2, '0')}`,
			value
		}));
		writes.push({ table: 'meta', key: 'tip', value: new TextEncoder().encode(String(batch)) });
		await store.write(writes);
		crashProgress.committed = batch;
	}
}

/** After the crash: which batches the store holds, and whether each is whole and `tip` agrees. */
export async function crashSurvivors(
	profile: string
): Promise<{ batches: number; whole: boolean; tip: number }> {
	const store = await openStore(profile);
	try {
		const counts = new Map<number, number>();
		for (const [key] of await store.list('transactions')) {
			const batch = Number(key.slice(0, 6));
			counts.set(batch, (counts.get(batch) ?? 0) + 1);
		}
		const batches = counts.size;
		const whole = [...counts].every(([batch, rows]) => batch < batches && rows === CRASH_ROWS);
		const tip = Number(new TextDecoder().decode((await store.get('meta', 'tip')) ?? new Uint8Array()));
		return { batches, whole, tip };
	} finally {
		await store.close();
		await deleteStore(profile);
	}
}
