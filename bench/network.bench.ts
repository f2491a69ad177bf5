/**
 * Network bench, in real Chromium pages on loopback with the real relay (tests/browser/relay-fixture.ts):
 * - direct WebRTC stream throughput between two pages: one request, 64 KiB response frames through
 *   PeerNet's length-prefixed request/response protocol (yamux-free: one WebRTC data channel a stream);
 * - gossip latency p50/p99 across 5 pages: each page publishes in turn, every other page records the
 *   arrival time (the pages share one clock), after the meshes have formed.
 *
 * The page is the network check's control object (src/routes/diagnostics/net/diagnostics.ts) bundled
 * by esbuild and served from a temp dir on a free loopback port, so it needs neither ./build nor 4173.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../scripts/chromium.mjs';
import { startNetFixture } from '../tests/browser/relay-fixture.ts';
import type { NetDiagnostics } from '../src/routes/diagnostics/net/diagnostics.ts';

declare global {
	interface Window {
		netDiagnostics: NetDiagnostics;
	}
}

const root = new URL('..', import.meta.url).pathname;
const PAGES = Number(process.env.NET_BENCH_PAGES ?? 5);
const THROUGHPUT_MIB = 32;
const THROUGHPUT_RUNS = 3;
const MESSAGES_PER_PAGE = 40;

const ENTRY = `
import { createPeerNet } from './src/lib/net/peer-net.browser.ts';
import { createNetDiagnostics } from './src/routes/diagnostics/net/diagnostics.ts';
const relays = new URL(location.href).searchParams.getAll('relay');
createNetDiagnostics(createPeerNet, relays).then((d) => { window.netDiagnostics = d; });
`;

function percentile(sorted: number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	while (!(await check())) {
		if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
}

export default async function networkBench(): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'spchain-net-bench-'));
	const fixture = await startNetFixture({ nodePeer: false });
	const server = createServer(async (req, res) => {
		const file = req.url?.startsWith('/bundle.js') ? 'bundle.js' : 'index.html';
		res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/html' });
		res.end(await readFile(join(dir, file)));
	});
	const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
	try {
		await build({
			stdin: { contents: ENTRY, resolveDir: root, loader: 'ts' },
			bundle: true,
			format: 'esm',
			platform: 'browser',
			target: 'es2022',
			alias: { $lib: join(root, 'src/lib') },
			outfile: join(dir, 'bundle.js'),
			logLevel: 'error'
		});
		writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/bundle.js"></script>');
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const port = (server.address() as { port: number }).port;
		const url = `http://127.0.0.1:${port}/?${fixture.relay.map((r) => `relay=${encodeURIComponent(r)}`).join('&')}`;

		const context = await browser.newContext();
		const pages: Page[] = [];
		const ids: string[] = [];
		const opened = Date.now();
		for (let i = 0; i < PAGES; i++) {
			const page = await context.newPage();
			// NET_BENCH_DEBUG=1: the pages' console (dial failures and the like) with seconds since the first page
			if (process.env.NET_BENCH_LOG)
				await page.addInitScript((log) => localStorage.setItem('debug', log), process.env.NET_BENCH_LOG);
			if (process.env.NET_BENCH_DEBUG)
				page.on('console', (m) =>
					console.log(`[page ${i} +${((Date.now() - opened) / 1000).toFixed(1)}s] ${m.text()}`)
				);
			await page.goto(url);
			await page.waitForFunction(() => 'netDiagnostics' in window, undefined, { timeout: 30_000 });
			pages.push(page);
			ids.push(await page.evaluate(() => window.netDiagnostics.peerId));
			if (process.env.NET_BENCH_DEBUG) console.log(`[page ${i}] is ${ids[i]}`);
		}
		await until(
			async () => {
				const counts = await Promise.all(
					pages.map((p) => p.evaluate(() => window.netDiagnostics.peers().length))
				);
				return counts.every((n) => n === PAGES - 1);
			},
			60_000,
			'a full mesh of WebRTC connections'
		);
		console.log(
			`${PAGES} pages fully connected (direct WebRTC) ${Date.now() - opened} ms after the first opened`
		);

		// ---- throughput between two pages
		const [a] = pages as [Page];
		const bId = ids[1]!;
		await a.evaluate((peer) => window.netDiagnostics.throughput(peer, 1), bId);
		const rates: number[] = [];
		for (let run = 0; run < THROUGHPUT_RUNS; run++) {
			const { bytes, ms } = await a.evaluate(([peer, mib]) => window.netDiagnostics.throughput(peer, mib), [
				bId,
				THROUGHPUT_MIB
			] as [string, number]);
			rates.push(bytes / 1e6 / (ms / 1000));
		}
		rates.sort((x, y) => x - y);
		console.log(
			`WebRTC stream throughput page→page (${THROUGHPUT_MIB} MiB, 64 KiB frames, ${THROUGHPUT_RUNS} runs): ` +
				`median ${percentile(rates, 50).toFixed(1)} MB/s, best ${rates.at(-1)!.toFixed(1)} MB/s`
		);

		// ---- gossip latency across the pages (warm-up: the meshes form on the first heartbeats)
		for (const page of pages)
			await page.evaluate(() => window.netDiagnostics.publish('consensus', `warm ${Date.now()}`));
		await new Promise((resolve) => setTimeout(resolve, 2000));
		for (let seq = 0; seq < MESSAGES_PER_PAGE; seq++) {
			for (const [i, page] of pages.entries())
				await page.evaluate(
					([sender, n]) =>
						window.netDiagnostics.publish(
							'transactions',
							`lat ${sender} ${n} ${window.netDiagnostics.now()}`
						),
					[i, seq] as [number, number]
				);
			await new Promise((resolve) => setTimeout(resolve, 50));
		}
		const expected = PAGES * MESSAGES_PER_PAGE * (PAGES - 1);
		const latencies: number[] = [];
		await until(
			async () => {
				latencies.length = 0;
				for (const page of pages) {
					const got = await page.evaluate(() =>
						window.netDiagnostics
							.messages()
							.filter((m) => m.body.startsWith('lat '))
							.map((m) => m.at - Number(m.body.split(' ')[3]))
					);
					latencies.push(...got);
				}
				return latencies.length >= expected;
			},
			20_000,
			'every gossip message at every page'
		).catch(() => undefined);
		latencies.sort((x, y) => x - y);
		console.log(
			`gossip latency across ${PAGES} pages (${latencies.length}/${expected} deliveries): ` +
				`p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, ` +
				`max ${latencies.at(-1)?.toFixed(1)} ms`
		);
		await context.close();
	} finally {
		await browser.close();
		server.close();
		await fixture.close();
		rmSync(dir, { recursive: true, force: true });
	}
}
