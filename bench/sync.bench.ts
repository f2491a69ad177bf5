/**
 * Sync bench (issue 6): a fresh node syncs and fully validates a large chain from one peer. Goal:
 * 1,000 keyblocks, 10,000 patient blocks and 100,000 pinned transactions in ≤ 60 s on these machines,
 * with a progress bar in the UI. Why this file is long: it runs the sync evaluation end to end (Node
 * sync, Chromium sync, restarts, light client) and prints one report; its parts are in bench/sync/.
 *
 * The chain (bench/sync/chain.ts, cached under node_modules/.cache/spchain-sync-bench/): the dev genesis,
 * 1,000 keyblocks (real PoW, each pinned by a BLS certificate of its epoch's group, 10 register
 * transactions each), 99 hand-overs, 200 pinned batches of 500 medical transactions, 1,000 attachments
 * of 100 records (one leaf of 1,000 of the patients, each with its leaf's collision proof). Every
 * transaction is signed by its patient and carries its own Groth16 proof, re-randomised from a pool of
 * 200 proven record statements (proving 100,000 would take ~11 h here); the syncing node verifies all
 * of them. `BENCH_QUICK=1`: 50 keyblocks, 200 patients, 2,000 transactions (a smoke run).
 *
 * Then (a) a Node full node and (b) a fresh Chromium page running the app's browser node
 * (/diagnostics/node, as tests/browser/node.spec.ts opens it) sync it from a Node peer that serves the
 * journal with the real sync handler over PeerNet on loopback (bench/sync/peer.ts: relay + peer),
 * certificate-first (issue 15, runtime/certified-sync.ts), and the bench prints the time to usable
 * (every fact applied on its certificates; goal ≤ 10 s) and to fully verified (every signature and
 * proof checked in the background; goal ≤ 60 s), facts/s and the ratios to the goals; a second page
 * on /explorer shows the progress bar (NodeStatus) with the announced total. The browser part holds /tmp/spchain-build.lock
 * and rebuilds ./build first, so the page runs this tree's code (`BENCH_SYNC_BUILD=0` skips the build,
 * `BENCH_SYNC_BROWSER=0` the browser part).
 *
 * Restarts (issue 17): a clinic node reopens the synced node's store (restored from the verified journal,
 * bench/sync/node-restart.ts) and prints the time, its RSS and disk, a light client's catch-up from it,
 * and that an edited journal is re-verified and refused; the page reloads and is timed until its chain
 * is back. With the quick chain, a synthetic store of the full chain's shape is restored as well
 * (bench/sync/synthetic-store.ts; `BENCH_SYNC_SYNTHETIC=0` skips it), by a clinic node and by the page
 * (bench/sync/browser-restart.ts).
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import sirv from 'sirv';
import { CHROMIUM, CHROMIUM_ARGS } from '../scripts/chromium.mjs';
import { benchChain, FULL, QUICK, type BenchChain } from './sync/chain.ts';
import { browserSyntheticRestart, syntheticPageFiles, type SyntheticBuilt } from './sync/browser-restart.ts';
import { pageView, reloadUntil, rendererCpu } from './sync/page.ts';
import { encodeGenesisFile } from '../src/lib/core/genesis-file.ts';
import { devGenesis } from '../tests/fixtures/genesis-dev.ts';

const root = new URL('..', import.meta.url).pathname;
const GOAL_SECONDS = 60;
const USABLE_GOAL_SECONDS = 10;
/** A page whose sync stands still this long has failed (facts take well under a second each). */
const STALL_MS = 120_000;
const line = (label: string, value: string) => console.log(`${label.padEnd(50)} ${value}`);
const int = (n: number) => n.toLocaleString('en');

interface Child {
	/** Resolves with the JSON of the first line starting with `prefix`. */
	next<T>(prefix: string): Promise<T>;
	close(): Promise<void>;
}

/** A TypeScript child with WebSockets (libp2p) that talks in `PREFIX {json}` lines. */
function runChild(script: string, args: string[], onLine: (line: string) => void = () => {}): Child {
	const child: ChildProcessWithoutNullStreams = spawn(
		process.execPath,
		[
			'--experimental-websocket',
			'--expose-gc',
			'--import',
			'tsx',
			new URL(script, import.meta.url).pathname,
			...args
		],
		{ cwd: root }
	);
	let stderr = '';
	child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)));
	const waiting: { prefix: string; resolve: (v: never) => void }[] = [];
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	createInterface({ input: child.stdout }).on('line', (text) => {
		onLine(text);
		const index = waiting.findIndex((w) => text.startsWith(`${w.prefix} `));
		if (index >= 0)
			waiting.splice(index, 1)[0]!.resolve(JSON.parse(text.slice(text.indexOf(' ') + 1)) as never);
	});
	return {
		next: <T>(prefix: string) =>
			new Promise<T>((resolve, reject) => {
				waiting.push({ prefix, resolve: resolve as (v: never) => void });
				void exited.then(() => reject(new Error(`${script} exited (${child.exitCode}): ${stderr}`)));
			}),
		async close() {
			if (child.exitCode !== null) return;
			child.stdin.end();
			const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
			await exited;
			clearTimeout(killer);
		}
	};
}

/** Holds /tmp/spchain-build.lock (shared with every vite build and Playwright run here) until released. */
async function buildLock(): Promise<{ release(): void }> {
	const holder = spawn('flock', ['/tmp/spchain-build.lock', 'sh', '-c', 'echo locked; exec cat'], {
		stdio: ['pipe', 'pipe', 'inherit']
	});
	await new Promise<void>((resolve, reject) => {
		holder.stdout.once('data', () => resolve());
		holder.once('exit', (code) => reject(new Error(`flock exited with ${code}`)));
	});
	return { release: () => holder.stdin.end() };
}

function describe(chain: BenchChain): void {
	const { counts, params } = chain;
	console.log(
		`chain (${chain.cached ? 'cached' : 'generated now'}; generation took ${chain.generationSeconds.toFixed(0)} s):\n` +
			`  ${int(counts.keyblocks)} keyblocks (real PoW: ${int(counts.hashes)} hashes in all; each pinned by a BLS ` +
			`certificate of its epoch's group)\n` +
			`  ${int(counts.patients)} patient blocks (${params.registersPerKeyblock} signed register transactions a keyblock)\n` +
			`  ${int(counts.handovers)} consensus-group hand-overs (epochs of 10 keyblocks), ${int(counts.batches)} pinned ` +
			`batches of ${int(params.attachmentsPerBatch * params.entriesPerAttachment)} transactions\n` +
			`  ${int(counts.transactions)} pinned medical transactions, each signed by its patient with its own ` +
			`Groth16 proof, re-randomised from ${int(params.recordStatements * 5)} proven record statements\n` +
			`  ${int(counts.attachments)} attachments of ${params.entriesPerAttachment} records behind one leaf each ` +
			`(${int(counts.patientsWithRecords)} patients with records), each with its own leaf collision proof\n` +
			`  to verify: ${int(counts.signatures)} Schnorr signatures, ${int(counts.certificates)} BLS certificates, ` +
			`${int(counts.proofsOnChain)} Groth16 proofs (${int(counts.proven)} proven for the fixture); ` +
			`${int(counts.facts)} journal facts, ${(counts.bytes / 1e6).toFixed(1)} MB`
	);
}

/**
 * Time to usable (every fact applied on its certificates: the chain answers reads) and time to fully
 * verified (every signature and proof checked in the background), each against its goal (issue 15).
 */
function report(
	who: string,
	usableSeconds: number,
	seconds: number,
	streamSeconds: number | null,
	chain: BenchChain
): void {
	const { facts, transactions } = chain.counts;
	line(
		`${who}: time to usable (certified)`,
		`${usableSeconds.toFixed(1)} s (${(usableSeconds / USABLE_GOAL_SECONDS).toFixed(2)}× the ${USABLE_GOAL_SECONDS} s goal)`
	);
	line(
		`${who}: time to fully verified`,
		`${seconds.toFixed(1)} s (${(seconds / GOAL_SECONDS).toFixed(2)}× the ${GOAL_SECONDS} s goal)`
	);
	if (streamSeconds !== null) line('  from the first fact to the last', `${streamSeconds.toFixed(1)} s`);
	line(
		'  facts/s, transactions/s (to fully verified)',
		`${int(Math.round(facts / seconds))}, ${int(Math.round(transactions / seconds))}`
	);
}

interface NodeResult {
	seconds: number;
	usableSeconds: number;
	signaturesVerified: number;
	streamSeconds: number | null;
	cpuSeconds: number;
	facts: number;
	height: number;
	batches: number;
	patients: number;
	records: number;
	proofs: number;
	verifySeconds: number;
	signatureMs: number;
	txIdMs: number;
	pinMs: number;
	rssBytes: number;
	errors: string[];
}

interface RestartResult {
	openStoreMs: number;
	openChainMs: number;
	cpuMs?: number;
	opened?: string;
	distrust?: string | null;
	proofsVerified: number;
	facts?: number;
	height?: number;
	rssBytes?: number;
	heapBytes?: number;
	diskBytes?: number;
	refused?: string;
	light?: {
		syncMs: number;
		storedBytes: number;
		handovers: number;
		batches: number;
		records: number;
		verifyMs: number;
	};
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** A clinic node restarting on the store the synced node left: intact, then with one fact edited. */
async function nodeRestart(chain: BenchChain, dir: string): Promise<void> {
	const { counts } = chain;
	const run = async (args: string[]) => {
		const child = runChild('./sync/node-restart.ts', [dir, ...args]);
		try {
			return await child.next<RestartResult>('RESTART');
		} finally {
			await child.close();
		}
	};
	const r = await run([]);
	if (r.opened !== 'restored' || r.facts !== counts.facts || r.height !== counts.keyblocks)
		throw new Error(`the restarted node did not restore the synced chain: ${JSON.stringify(r)}`);
	line(
		'Node restart: open the store + the chain',
		`${((r.openStoreMs + r.openChainMs) / 1000).toFixed(2)} s (store ${r.openStoreMs.toFixed(0)} ms, ` +
			`chain ${r.openChainMs.toFixed(0)} ms; restored, ${r.proofsVerified} proofs verified)`
	);
	line('  CPU time of that restart (all threads)', `${(r.cpuMs! / 1000).toFixed(2)} s`);
	line('  clinic node RSS holding the chain (after GC)', `${mb(r.rssBytes!)} (JS heap ${mb(r.heapBytes!)})`);
	line('  store on disk (LevelDB)', `${mb(r.diskBytes!)} (journal: ${mb(counts.bytes)})`);
	const light = r.light!;
	line(
		'Light client (phone): hand-overs + batch headers',
		`${(light.syncMs / 1000).toFixed(2)} s to verify ${int(light.handovers)} hand-overs and ` +
			`${int(light.batches)} batch headers; ${int(light.storedBytes)} bytes kept (in process, no network)`
	);
	line(
		'  one patient’s records against pinned batches',
		`${int(light.records)} records in ${light.verifyMs.toFixed(0)} ms (signature + Merkle path each)`
	);
	const tampered = await run(['--tamper']);
	line(
		'  restart with one stored keyblock edited',
		tampered.refused
			? `re-verified for ${(tampered.openChainMs / 1000).toFixed(1)} s, then refused: ${tampered.refused.slice(0, 60)}`
			: `NOT refused: ${JSON.stringify(tampered)}`
	);
	if (!tampered.refused) throw new Error('an edited journal was not refused on restart');
}

/**
 * With the quick chain, the restart at the full chain's size anyway: a synthetic store of its shape
 * (bench/sync/synthetic-store.ts: 100,000 transactions, facts that restore but do not verify). Its
 * write batches are also saved to `writesFile` (if given), for the Chromium restart on the same store.
 */
async function syntheticRestart(chain: BenchChain, writesFile?: string): Promise<SyntheticBuilt> {
	const dir = mkdtempSync(join(tmpdir(), 'spchain-sync-synthetic-'));
	try {
		const args = [chain.journalFile, dir, ...(writesFile ? [writesFile] : [])];
		const builder = runChild('./sync/synthetic-store.ts', args);
		const built = await builder
			.next<SyntheticBuilt & { seconds: number }>('SYNTHETIC')
			.finally(() => builder.close());
		const child = runChild('./sync/node-restart.ts', [dir, '--synthetic']);
		const r = await child.next<RestartResult>('RESTART').finally(() => child.close());
		if (r.opened !== 'restored' || r.facts !== built.facts)
			throw new Error(`the synthetic store did not restore: ${JSON.stringify(r)}`);
		line(
			`Node restart, synthetic store of ${int(built.transactions)} transactions`,
			`${((r.openStoreMs + r.openChainMs) / 1000).toFixed(2)} s (${int(built.facts)} facts, ` +
				`${mb(built.bytes)} of journal; built in ${built.seconds.toFixed(0)} s)`
		);
		line('  CPU time of that restart (all threads)', `${(r.cpuMs! / 1000).toFixed(2)} s`);
		line('  clinic node RSS holding it (after GC)', `${mb(r.rssBytes!)} (JS heap ${mb(r.heapBytes!)})`);
		return built;
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

async function nodeSync(chain: BenchChain, peer: string, dir: string): Promise<void> {
	const { counts } = chain;
	const child = runChild('./sync/node-sync.ts', [peer, String(counts.facts), dir], (text) => {
		if (!text.startsWith('PROGRESS ')) return;
		const p = JSON.parse(text.slice(9)) as {
			received: number;
			total: number;
			height: number;
			verified: number;
			seconds: number;
		};
		console.log(
			`  Node: ${int(p.received)}/${int(p.total)} facts, height ${p.height}, ` +
				`${int(p.verified)} verified, ${p.seconds.toFixed(0)} s`
		);
	});
	try {
		const r = await child.next<NodeResult>('RESULT');
		const complete =
			r.facts === counts.facts &&
			r.height === counts.keyblocks &&
			r.batches === counts.batches &&
			r.patients === counts.patients &&
			r.records === counts.transactions;
		if (!complete) throw new Error(`the Node full node ended with an incomplete chain: ${JSON.stringify(r)}`);
		if (r.errors.length > 0) throw new Error(`the Node full node reported errors: ${r.errors.join('; ')}`);
		report('Node full node', r.usableSeconds, r.seconds, r.streamSeconds, chain);
		line('  CPU time of the node (all its threads)', `${r.cpuSeconds.toFixed(1)} s`);
		line(
			'  every fact applied',
			`${int(r.facts)} facts, ${int(r.records)} records, ${int(r.proofs)} proofs and ` +
				`${int(r.signaturesVerified)} signatures verified in the background`
		);
		// Where the time goes: measured for the proofs, count × cost of one for the rest (single-threaded).
		line('  of which Groth16 batch verification (measured)', `${r.verifySeconds.toFixed(1)} s`);
		line(
			'  est. Schnorr signatures',
			`${((counts.signatures * r.signatureMs) / 1000).toFixed(1)} s (${r.signatureMs.toFixed(2)} ms each)`
		);
		line(
			'  est. BLS certificates',
			`${((counts.certificates * r.pinMs) / 1000).toFixed(1)} s (${r.pinMs.toFixed(1)} ms each)`
		);
		line('  one transaction id (CBOR + SHA-256)', `${(r.txIdMs * 1000).toFixed(0)} µs`);
		line('  RSS of the syncing node at the end (libp2p included)', mb(r.rssBytes));
	} finally {
		await child.close();
	}
}

/** The synthetic store for the Chromium restart at its size: its counts and its write batches' file. */
interface Synthetic {
	built: SyntheticBuilt;
	writesFile: string;
}

async function browserSync(chain: BenchChain, addresses: string[], synthetic?: Synthetic): Promise<void> {
	const { counts } = chain;
	const lock = await buildLock();
	let server: Server | undefined;
	try {
		if (process.env.BENCH_SYNC_BUILD !== '0') {
			const started = performance.now();
			const build = spawnSync('npx', ['vite', 'build'], { cwd: root, encoding: 'utf8' });
			if (build.status !== 0)
				throw new Error(`vite build failed:\n${(build.stdout + build.stderr).slice(-3000)}`);
			line('(built ./build for the page)', `${((performance.now() - started) / 1000).toFixed(0)} s`);
		}
		const assets = sirv(`${root}build`, { single: '200.html' });
		// The synthetic restart's bench tab, on the app's origin (browser-restart.ts).
		const extra = synthetic ? await syntheticPageFiles(synthetic.writesFile) : new Map<string, string>();
		server = createServer((req, res) => {
			const body = extra.get(req.url ?? '');
			if (body === undefined) return assets(req, res);
			res.writeHead(200, { 'content-type': req.url!.endsWith('.html') ? 'text/html' : 'text/javascript' });
			res.end(body);
		});
		await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
		const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
		// The genesis as a file, as the pages now require (the browser tests pass it the same way).
		const genesisFile = `data:application/json;base64,${Buffer.from(encodeGenesisFile({ genesis: devGenesis() })).toString('base64')}`;
		const query = [
			...addresses.map((a) => `relay=${encodeURIComponent(a)}`),
			`genesis=${encodeURIComponent(genesisFile)}`
		].join('&');
		const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
		try {
			const page = await (await browser.newContext()).newPage();
			const cdp = await browser.newBrowserCDPSession();
			const cpu0 = await rendererCpu(cdp);
			const t0 = performance.now();
			await page.goto(`${base}/diagnostics/node?${query}`);
			let firstFact: number | undefined;
			let lastLog = t0;
			let lastReceived = -1;
			let lastMove = t0;
			for (;;) {
				const view = await pageView(page);
				const now = performance.now();
				if (view?.sync && view.sync.received > 0) firstFact ??= now;
				// The journal ends with the last keyblock: at that height the page holds every fact.
				if (view && view.height >= counts.keyblocks) break;
				const received = view?.sync?.received ?? view?.height ?? 0;
				if (received !== lastReceived) [lastReceived, lastMove] = [received, now];
				// Bounded: the bench holds the build lock that others wait for.
				if (now - lastMove > STALL_MS)
					throw new Error(
						`the page's sync made no progress for ${STALL_MS / 1000} s: ${JSON.stringify(view)}`
					);
				if (now - lastLog > 10_000) {
					lastLog = now;
					const sync = view?.sync;
					console.log(
						`  Chromium: ${sync ? `${int(sync.received)}/${int(sync.total)} facts` : 'no sync running'}, ` +
							`height ${view?.height ?? 0}, ${view?.peers ?? 0} peers, ${((now - t0) / 1000).toFixed(0)} s`
					);
				}
				await new Promise((resolve) => setTimeout(resolve, 200));
			}
			const usable = performance.now();
			// Then until the background verification has checked every signature and proof.
			let verifying = await pageView(page);
			while (verifying?.verification?.state !== 'verified') {
				if (verifying?.verification?.state === 'invalid')
					throw new Error(`the page found its chain invalid: ${verifying.verification.invalid}`);
				if (performance.now() - usable > STALL_MS * 5)
					throw new Error(`the page did not verify its chain: ${JSON.stringify(verifying?.verification)}`);
				await new Promise((resolve) => setTimeout(resolve, 200));
				verifying = await pageView(page);
			}
			const end = performance.now();
			const cpu = (await rendererCpu(cdp)) - cpu0;
			const view = (await pageView(page))!;
			if (view.batches !== counts.batches || view.patients !== counts.patients)
				throw new Error(`the page ended with an incomplete chain: ${JSON.stringify(view)}`);
			report(
				'Chromium page (browser node)',
				(usable - t0) / 1000,
				(end - t0) / 1000,
				firstFact === undefined ? null : (usable - firstFact) / 1000,
				chain
			);
			line('  CPU time of the renderer (page and its workers)', `${cpu.toFixed(1)} s`);
			line(
				'  (from page.goto; polled every 0.2 s)',
				`height ${view.height}, ${int(view.batches)} batches, ${int(view.patients)} patients`
			);
			// Restart: the page reloads and its node opens the chain it stored (IndexedDB): restored from
			// the verified journal, so the chain is back before a peer could send much of it again.
			const { ms: reloadMs, view: restarted } = await reloadUntil(page, counts.keyblocks, STALL_MS);
			line(
				'Chromium restart: reload until the chain is back',
				`${(reloadMs / 1000).toFixed(2)} s (page load included; ` +
					`${int(restarted.sync?.applied ?? 0)} facts applied from a peer meanwhile)`
			);
			await page.context().close();

			// The UI: a fresh explorer tab shows the progress bar with the peer's announced total.
			const explorer = await (await browser.newContext()).newPage();
			await explorer.goto(`${base}/explorer?${query}`);
			// Read in one go while the bar shows the total: a certified sync is short, and the bar goes with it.
			const seen = await explorer.waitForFunction(
				() => {
					const bar = document.querySelector<HTMLProgressElement>('[data-testid="sync-progress"]');
					const text = bar?.closest('label')?.textContent?.trim().replace(/\s+/g, ' ');
					return bar && bar.max > 1 ? { max: bar.max, label: text } : null;
				},
				undefined,
				{ timeout: 120_000, polling: 50 }
			);
			const { max, label } = (await seen.jsonValue())!;
			mkdirSync(`${root}test-results`, { recursive: true });
			await explorer.screenshot({ path: `${root}test-results/sync-bench-explorer.png` });
			line('explorer progress bar', `max ${int(max)} (journal: ${int(counts.facts)} facts): "${label}"`);
			if (max !== counts.facts) throw new Error('the progress bar does not show the announced total');
			await explorer.context().close();
			// The restart at the full chain's size: without a relay, on the synthetic store (issue 17).
			if (synthetic)
				await browserSyntheticRestart(
					browser,
					base,
					`genesis=${encodeURIComponent(genesisFile)}`,
					synthetic.built,
					STALL_MS,
					line
				);
		} finally {
			await browser.close();
		}
	} finally {
		server?.close();
		lock.release();
	}
}

export default async function syncBench(): Promise<void> {
	const quick = process.env.BENCH_QUICK === '1';
	const chain = await benchChain(quick ? QUICK : FULL, (text) => console.log(text));
	console.log(`mode: ${quick ? 'BENCH_QUICK=1 (smoke run)' : 'full'}; goal ≤ ${GOAL_SECONDS} s`);
	describe(chain);
	const peer = runChild('./sync/peer.ts', [chain.journalFile]);
	try {
		const ready = await peer.next<{ relay: string[]; peer: string[] }>('READY');
		const direct = ready.peer.find((a) => a.includes('/ws/') && !a.includes('p2p-circuit'))!;
		const dir = mkdtempSync(join(tmpdir(), 'spchain-sync-bench-'));
		const writesFile = join(dir, 'synthetic-writes.bin');
		try {
			await nodeSync(chain, direct, join(dir, 'store'));
			await nodeRestart(chain, join(dir, 'store'));
			const browser = process.env.BENCH_SYNC_BROWSER !== '0';
			const built =
				quick && process.env.BENCH_SYNC_SYNTHETIC !== '0'
					? await syntheticRestart(chain, browser ? writesFile : undefined)
					: undefined;
			if (browser) await browserSync(chain, [...ready.relay, direct], built && { built, writesFile });
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	} finally {
		await peer.close();
	}
}
