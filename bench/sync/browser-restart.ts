/**
 * The Chromium restart at the full chain's size (issue 17), on the synthetic store (synthetic-store.ts):
 * the node check page opens once on an empty profile and is reloaded once so (the fixed part of a
 * restart), a second tab of the same origin replays the synthetic store's write batches into that
 * profile's IndexedDB with the app's own BrowserStore (synthetic-tab.ts, bundled here by esbuild: a
 * bench-only page, nothing added to the app), then the node check page reloads and is timed until its
 * chain is back, as the quick chain's reload is. It runs without a relay: the page
 * restores from IndexedDB alone, and no peer could serve (or be served) these facts, which do not
 * verify. Playwright's contexts keep IndexedDB in memory, not on disk.
 *
 * Where the time goes, afterwards in the bench tab: the store's reads alone, the reads with the
 * journal's head check (stored-journal.ts), and the whole ChainState.open, each on the same store.
 */
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { pageView, reloadUntil, rendererCpu } from './page.ts';
import type { SyntheticTab } from './synthetic-tab.ts';

/** The node check page keeps its chain in this profile (src/routes/diagnostics/node). */
const PROFILE = 'node-check';
const PREFIX = '/__bench-synthetic/';

export interface SyntheticBuilt {
	facts: number;
	transactions: number;
	keyblocks: number;
	batches: number;
	patients: number;
	bytes: number;
}

/** The bench tab's files, served beside the app (same origin, so the same IndexedDB). */
export async function syntheticPageFiles(writesFile: string): Promise<Map<string, Uint8Array | string>> {
	const bundle = await build({
		entryPoints: [new URL('./synthetic-tab.ts', import.meta.url).pathname],
		bundle: true,
		format: 'esm',
		platform: 'browser',
		target: 'es2022',
		write: false,
		logLevel: 'error'
	});
	return new Map<string, Uint8Array | string>([
		[`${PREFIX}index.html`, `<!doctype html><script type="module" src="${PREFIX}bundle.js"></script>`],
		[`${PREFIX}bundle.js`, bundle.outputFiles[0]!.text],
		[`${PREFIX}writes.bin`, readFileSync(writesFile)]
	]);
}

async function benchTab(page: Page, base: string): Promise<Page> {
	const tab = await page.context().newPage();
	await tab.goto(`${base}${PREFIX}index.html`);
	await tab.waitForFunction(() => 'timeOpen' in window);
	return tab;
}

type Line = (label: string, value: string) => void;

/** `query`: the node check page's (the genesis file, no relay). Throws unless the chain came back whole. */
export async function browserSyntheticRestart(
	browser: Browser,
	base: string,
	query: string,
	built: SyntheticBuilt,
	stallMs: number,
	line: Line
): Promise<void> {
	const context = await browser.newContext();
	try {
		const page = await context.newPage();
		// First use of the profile: the page keeps its genesis and starts on an empty chain.
		await page.goto(`${base}/diagnostics/node?${query}`);
		await page.waitForFunction(() => 'nodeDiagnostics' in window, undefined, { timeout: stallMs });
		// The same reload with the chain empty: what a restart costs whatever the chain's size.
		const cdp = await browser.newBrowserCDPSession();
		let cpu0 = await rendererCpu(cdp);
		const empty = await reloadUntil(page, 0, stallMs);
		const emptyCpu = (await rendererCpu(cdp)) - cpu0;
		const writer = await benchTab(page, base);
		const written = await writer.evaluate(
			({ url, profile }) => (window as unknown as SyntheticTab).writeSynthetic(url, profile),
			{ url: `${PREFIX}writes.bin`, profile: PROFILE }
		);
		await writer.close();

		cpu0 = await rendererCpu(cdp);
		const { ms, view } = await reloadUntil(page, built.keyblocks, stallMs);
		const cpu = (await rendererCpu(cdp)) - cpu0;
		const loaded = await page.evaluate(() => {
			const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
			return { domContentLoaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd };
		});
		const session = await context.newCDPSession(page);
		await session.send('HeapProfiler.collectGarbage');
		const heap = (await session.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
		const after = (await pageView(page))!;
		const restored =
			view.height === built.keyblocks &&
			after.height === built.keyblocks &&
			after.batches === built.batches &&
			after.patients === built.patients &&
			after.verification?.total === built.facts &&
			after.verification.state === 'verified';
		if (!restored)
			throw new Error(
				`the page did not restore the synthetic store (${JSON.stringify(built)}): ${JSON.stringify(after)}`
			);
		line(
			`Chromium restart, synthetic store of ${built.transactions.toLocaleString('en')} transactions`,
			`${(ms / 1000).toFixed(2)} s, reload until the chain is back (page load included; ` +
				`${built.facts.toLocaleString('en')} facts restored from IndexedDB)`
		);
		line('  CPU time of the renderer (page and its workers)', `${cpu.toFixed(2)} s`);
		line(
			'  the same reload on an empty chain (before writing)',
			`${(empty.ms / 1000).toFixed(2)} s, ${emptyCpu.toFixed(2)} s of renderer CPU`
		);
		line('  page JS heap holding it (after GC)', `${(heap.usedSize / 1e6).toFixed(1)} MB`);
		line(
			'  page loaded (DOMContentLoaded, load event)',
			`${loaded.domContentLoaded.toFixed(0)} ms, ${loaded.load.toFixed(0)} ms after the reload began`
		);
		line(
			'  written first by the bench tab (BrowserStore)',
			`${written.writes.toLocaleString('en')} writes in ${written.batches} batches, ${(written.ms / 1000).toFixed(1)} s`
		);
		// Where the time goes: the same store opened again in the bench tab, step by step.
		const timer = await benchTab(page, base);
		const t = await timer.evaluate(
			(profile) => (window as unknown as SyntheticTab).timeOpen(profile),
			PROFILE
		);
		await timer.close();
		if (t.facts !== built.facts || t.opened !== 'restored' || t.height !== built.keyblocks)
			throw new Error(`the bench tab did not restore the synthetic store: ${JSON.stringify(t)}`);
		line(
			'  then in a bench tab: reads; reads + head check; open',
			`${t.readsMs.toFixed(0)} ms; ${t.readAndCheckMs.toFixed(0)} ms; ${t.openMs.toFixed(0)} ms ` +
				`(IndexedDB; stored-journal.ts; ChainState.open, all of it)`
		);
	} finally {
		await context.close();
	}
}
