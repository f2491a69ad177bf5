/**
 * The sync bench's own tab (bundled by esbuild in browser-restart.ts, served beside the app so it shares
 * the app's IndexedDB): it writes the synthetic store into a profile with the app's BrowserStore, and
 * times that store's open step by step. Nothing here is part of the app.
 */
import { webBulkSha256 } from '../../src/lib/crypto/sha256.browser.ts';
import { ChainState } from '../../src/lib/runtime/chain-state.ts';
import { genesisGroup } from '../../src/lib/runtime/genesis-group.ts';
import { listJournal, readStoredJournal } from '../../src/lib/runtime/stored-journal.ts';
import { DERIVED_RANGE, useJournalSha256 } from '../../src/lib/runtime/verified-journal.ts';
import { openStore } from '../../src/lib/store/store.browser.ts';
import { devGenesis } from '../../tests/fixtures/genesis-dev.ts';
import { decodeWrites } from './store-writes.ts';

/** Replays the write batches at `url` (store-writes.ts) into `profile`'s store. */
async function writeSynthetic(url: string, profile: string) {
	const started = performance.now();
	const batches = decodeWrites(new Uint8Array(await (await fetch(url)).arrayBuffer()));
	const store = await openStore(profile);
	for (const batch of batches) await store.write(batch);
	await store.close();
	return { batches: batches.length, writes: batches.flat().length, ms: performance.now() - started };
}

/** Opens `profile`'s store three times over: its reads alone, the reads with the head check, the whole open. */
async function timeOpen(profile: string) {
	useJournalSha256(webBulkSha256);
	const store = await openStore(profile);
	const t0 = performance.now();
	const rows = await listJournal(store);
	await store.list('meta', DERIVED_RANGE);
	const t1 = performance.now();
	await readStoredJournal(store);
	const t2 = performance.now();
	const genesis = devGenesis();
	const verifier = {
		verifyAll: (): never => {
			throw new Error('a restore verifies no proof');
		}
	};
	const chain = await ChainState.open({ genesis, store, group: genesisGroup(genesis), verifier });
	const t3 = performance.now();
	await store.close();
	return {
		facts: rows.length,
		opened: chain.opened,
		height: chain.height,
		readsMs: t1 - t0,
		readAndCheckMs: t2 - t1,
		openMs: t3 - t2
	};
}

export interface SyntheticTab {
	writeSynthetic: typeof writeSynthetic;
	timeOpen: typeof timeOpen;
}

Object.assign(window, { writeSynthetic, timeOpen } satisfies SyntheticTab);
