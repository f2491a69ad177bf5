/**
 * Chameleon hash with Groth16 proofs (issue 3): prove in Node and in a Chromium Web Worker, verify one,
 * batch-verify 64 and 256, artifact sizes, the renderer's peak memory while the worker proves, and a
 * Schnorr (Fiat–Shamir) proof of the same relation as a baseline. Figures and ratios only.
 *
 * Batch verification is timed with the verifier's default pairing library (mcl, with its worker pool,
 * warmed up first), with mcl on one thread (what a page gets if workers cannot start), and with the
 * former ffjavascript path, and prints the ratio ffjavascript / mcl per proof. Each batch figure also
 * gives the process's CPU time per proof (all threads): on a machine shared with other jobs the wall
 * time depends on what else runs, the CPU time much less.
 *
 * The browser part serves ./build (built if the prover page is missing) while holding /tmp/browser.lock,
 * as every user of ./build and Chromium on this machine does.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { babyjubjub } from '@noble/curves/misc.js';
import { chromium, type CDPSession } from 'playwright-core';
import sirv from 'sirv';
import { CHROMIUM, CHROMIUM_ARGS } from '../scripts/chromium.mjs';
import { bytesToBigInt, concatBytes } from '../src/lib/core/bytes.ts';
import {
	collide,
	generateTrapdoor,
	hashMessage,
	messageFromDigest,
	type ChameleonStatement
} from '../src/lib/core/chameleon.ts';
import { sha256 } from '../src/lib/core/hash.ts';
import { loadVerificationKey } from '../src/lib/crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../src/lib/crypto/batch-verifier.ts';
import { sharedMclPool } from '../src/lib/crypto/mcl-pool.ts';
import { createNodeProver } from '../src/lib/crypto/prover.node.ts';

const root = new URL('..', import.meta.url).pathname;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
/** Timed runs of each batch figure. */
const RUNS = 5;
const line = (label: string, value: string) => console.log(`${label.padEnd(52)} ${value}`);

/** CPU time of this process, all threads, in ms. */
const cpuMs = () => {
	const { user, system } = process.cpuUsage();
	return (user + system) / 1000;
};

async function time(fn: () => Promise<unknown>, runs: number): Promise<number[]> {
	const out: number[] = [];
	for (let i = 0; i < runs; i++) {
		const t = performance.now();
		await fn();
		out.push(performance.now() - t);
	}
	return out;
}

/** Proving and verifying in Node; returns the figures the ratios need and the proofs it made. */
async function node(): Promise<{ proveWarm: number; verifyOne: number; statements: ChameleonStatement[] }> {
	const prover = await createNodeProver();
	const { x, X } = generateTrapdoor();
	const m = messageFromDigest(sha256(new TextEncoder().encode('bench record')));
	const { r } = hashMessage(m, X);
	let first: ChameleonStatement | undefined;
	const statements: ChameleonStatement[] = [];
	const proveTimes = await time(async () => {
		const m2 = first ? BigInt(statements.length) : m;
		const hash = await prover.prove({ m: m2, r: first ? collide(x, m, r, m2) : r, X });
		const statement = { hk: X, m: m2, hash };
		first ??= statement;
		statements.push(statement);
	}, 8);
	line('prove, Node, cold (first proof)', fmt(proveTimes[0]!));
	const proveWarm = median(proveTimes.slice(1));
	line('prove, Node, warm (median of 7)', fmt(proveWarm));

	const vkey = await loadVerificationKey();
	const verifier = await Groth16BatchVerifier.create(vkey);
	const oneThread = await Groth16BatchVerifier.create(vkey, undefined, { workers: false });
	const former = await Groth16BatchVerifier.create(vkey, undefined, { library: 'ffjavascript' });
	const batchOf = (n: number) => Array.from({ length: n }, (_, i) => statements[i % statements.length]!);
	// Warm-up: snarkjs's curve, both libraries, and mcl's worker pool (started by the first large batch).
	await verifier.verifySingle(first!);
	for (const v of [verifier, oneThread, former]) await v.verifyAll(batchOf(64));
	const pool = sharedMclPool();
	while (pool && pool.ready < pool.size) await new Promise((resolve) => setTimeout(resolve, 20));
	line('mcl worker pool', `${pool?.ready ?? 0} workers`);

	const single = median(await time(() => verifier.verifySingle(first!), 20));
	line('verify one, snarkjs groth16.verify (median of 20)', fmt(single));
	const own = median(await time(() => verifier.verifyAll([first!]), 20));
	line('verify one, this verifier, mcl (median of 20)', fmt(own));
	const formerOne = median(await time(() => former.verifyAll([first!]), 20));
	line('verify one, former ffjavascript path (median of 20)', fmt(formerOne));
	line('  ratio former / mcl, verify one', `${(formerOne / own).toFixed(1)}×`);
	const verifyOne = Math.min(single, own);
	// The three verifiers take turns, run by run, so a change in the machine's load hits them alike.
	const verifiers = { mcl: verifier, 'mcl, one thread': oneThread, 'former ffjavascript': former };
	for (const n of [64, 256]) {
		const batch = batchOf(n);
		const wall = new Map<string, number[]>();
		const cpu = new Map<string, number[]>();
		for (let run = 0; run < RUNS; run++)
			for (const [label, v] of Object.entries(verifiers)) {
				const [start, t] = [cpuMs(), performance.now()];
				if (!(await v.verifyAll(batch)).every(Boolean)) throw new Error('a good batch failed');
				wall.set(label, [...(wall.get(label) ?? []), (performance.now() - t) / n]);
				cpu.set(label, [...(cpu.get(label) ?? []), (cpuMs() - start) / n]);
			}
		for (const label of Object.keys(verifiers))
			line(
				`batch verify ${n}, ${label} (median of ${RUNS})`,
				`${fmt(median(wall.get(label)!))}/proof (CPU ${fmt(median(cpu.get(label)!))}/proof)`
			);
		const [mcl, mclOne, old] = Object.keys(verifiers).map((label) => median(wall.get(label)!));
		const [mclCpu, , oldCpu] = Object.keys(verifiers).map((label) => median(cpu.get(label)!));
		line(`  ratio former ffjavascript / mcl per proof, n=${n}`, `${(old! / mcl!).toFixed(2)}×`);
		line(`  ratio former ffjavascript / mcl one thread, n=${n}`, `${(old! / mclOne!).toFixed(2)}×`);
		line(`  ratio former ffjavascript / mcl, CPU per proof, n=${n}`, `${(oldCpu! / mclCpu!).toFixed(2)}×`);
		line(`  ratio single (snarkjs) / batched per proof, n=${n}`, `${(single / mcl!).toFixed(1)}×`);
		line(`  ratio single (this verifier) / batched per proof, n=${n}`, `${(own / mcl!).toFixed(1)}×`);
	}
	const bad = batchOf(64);
	bad[17] = { ...bad[17]!, m: bad[17]!.m + 1n };
	const [badMs] = await time(() => verifier.verifyAll(bad), 1);
	line('batch verify 64 with one bad proof (bisection, mcl)', fmt(badMs!));
	await prover.close();
	return { proveWarm, verifyOne, statements };
}

/** The same relation, h − m·B = r·X, proven with Schnorr/Fiat–Shamir: no zero knowledge of a circuit. */
function schnorrBaseline(): { prove: number; verify: number } {
	const Point = babyjubjub.Point;
	const Fn = Point.Fn;
	const { X } = generateTrapdoor();
	const key = Point.fromBytes(X);
	const m = 12345n;
	const { h, r } = hashMessage(m, X);
	const H = Point.fromBytes(h);
	const challenge = (T: Uint8Array) => Fn.create(bytesToBigInt(sha256(concatBytes(X, h, T))));
	const prove = () => {
		const k = generateTrapdoor().x;
		const T = key.multiply(k).toBytes();
		return { T, s: Fn.add(k, Fn.mul(challenge(T), r)) };
	};
	const verify = (proof: { T: Uint8Array; s: bigint }) =>
		key
			.multiply(proof.s)
			.equals(Point.fromBytes(proof.T).add(H.subtract(Point.BASE.multiply(m)).multiply(challenge(proof.T))));
	const proofs = Array.from({ length: 50 }, prove);
	let t = performance.now();
	for (let i = 0; i < 200; i++) prove();
	const proveMs = (performance.now() - t) / 200;
	t = performance.now();
	for (const p of proofs) if (!verify(p)) throw new Error('Schnorr baseline failed');
	return { prove: proveMs, verify: (performance.now() - t) / proofs.length };
}

/**
 * Holds /tmp/browser.lock through a child `flock … cat`: the lock lasts until its stdin closes, which
 * `release` does, and which also happens if this process dies, so the lock is never left behind.
 */
async function browserLock(): Promise<{ release(): void }> {
	const holder = spawn('flock', ['/tmp/browser.lock', 'sh', '-c', 'echo locked; exec cat'], {
		stdio: ['pipe', 'pipe', 'inherit']
	});
	await new Promise<void>((resolve, reject) => {
		holder.stdout!.once('data', () => resolve());
		holder.once('exit', (code) => reject(new Error(`flock exited with ${code}`)));
	});
	return { release: () => holder.stdin!.end() };
}

/** Resident memory of a process in MiB: now (VmRSS) or its peak so far (VmHWM). */
function rss(pid: number, field: 'VmRSS' | 'VmHWM'): number {
	const status = readFileSync(`/proc/${pid}/status`, 'utf8');
	return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
}

async function rendererMemory(cdp: CDPSession, field: 'VmRSS' | 'VmHWM'): Promise<number> {
	const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as {
		processInfo: { type: string; id: number }[];
	};
	return Math.max(...processInfo.filter((p) => p.type === 'renderer').map((p) => rss(p.id, field)));
}

async function browser(warmRuns: number): Promise<{ proveWarm: number }> {
	const lock = await browserLock();
	let server: Server | undefined;
	try {
		if (!existsSync(`${root}build/diagnostics/prover.html`)) {
			console.log('(building ./build for the browser part)');
			spawnSync('npx', ['vite', 'build'], { cwd: root, stdio: 'ignore' });
		}
		const assets = sirv(`${root}build`, { single: '200.html' });
		server = createServer((req, res) => assets(req, res));
		await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
		const port = (server.address() as AddressInfo).port;
		const instance = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
		try {
			const page = await instance.newPage();
			const cdp = await instance.newBrowserCDPSession();
			await page.goto(`http://127.0.0.1:${port}/diagnostics/prover`);
			await page.getByLabel('Warm proofs after the first').fill(String(warmRuns));
			const before = await rendererMemory(cdp, 'VmRSS');
			await page.getByRole('button', { name: 'Run the prover check' }).click();
			await page.getByTestId('prover-status').waitFor({ timeout: 300_000 });
			const status = await page.getByTestId('prover-status').textContent();
			if (!status?.startsWith('verified')) throw new Error(`prover check: ${status}`);
			const rows = await page
				.locator('tr')
				.evaluateAll((trs) =>
					trs.map(
						(tr) =>
							[tr.querySelector('th')!.textContent!, Number(tr.querySelector('td')!.dataset.ms)] as const
					)
				);
			const ms = (label: RegExp) => rows.filter(([l]) => label.test(l)).map(([, v]) => v);
			line('Chromium Worker: loading artifacts (first use)', fmt(ms(/loading circuit/)[0]!));
			line('prove, Chromium Worker, cold (first proof)', fmt(ms(/first proof in the worker/)[0]!));
			const warm = ms(/warm proof/);
			const proveWarm = median(warm);
			line(`prove, Chromium Worker, warm (median of ${warm.length})`, fmt(proveWarm));
			line('verify one, Chromium main thread (first use of the curve)', fmt(ms(/verifying one proof/)[0]!));
			const peak = await rendererMemory(cdp, 'VmHWM');
			line('renderer RSS before the check (page loaded)', `${before.toFixed(0)} MiB`);
			line('renderer peak RSS (page + prover worker + snarkjs threads)', `${peak.toFixed(0)} MiB`);
			return { proveWarm };
		} finally {
			await instance.close();
		}
	} finally {
		server?.close();
		lock.release();
	}
}

/**
 * The verifier bundled for the browser by esbuild (the app's pages get it from Vite; the bench needs a
 * page that can call it): the entry exposes Groth16BatchVerifier and the mcl pool on `window`, and the
 * pool's worker, bundled on its own, is served where the verifier asks for it (./mcl.worker.ts).
 */
async function verifierBundle(): Promise<Map<string, string>> {
	const { build } = await import('esbuild');
	const common = {
		bundle: true,
		format: 'esm',
		platform: 'browser',
		target: 'es2022',
		write: false
	} as const;
	const entry = `import { Groth16BatchVerifier } from './src/lib/crypto/batch-verifier.ts';
		import { sharedMclPool } from './src/lib/crypto/mcl-pool.ts';
		Object.assign(window, { Groth16BatchVerifier, sharedMclPool });`;
	const main = await build({
		...common,
		stdin: { contents: entry, resolveDir: root, loader: 'ts' },
		splitting: true,
		outdir: '/bundle'
	});
	const worker = await build({
		...common,
		entryPoints: [`${root}src/lib/crypto/mcl.worker.ts`],
		outdir: '/bundle'
	});
	const files = new Map(main.outputFiles.map((f) => [f.path.replace('/bundle', ''), f.text]));
	files.set('/mcl.worker.ts', worker.outputFiles[0]!.text);
	files.set('/', '<!doctype html><script type="module" src="/stdin.js"></script>');
	return files;
}

/** Batch verification in a Chromium page (main thread, mcl's pool in Web Workers), per proof. */
async function browserBatch(statements: ChameleonStatement[]): Promise<void> {
	const files = await verifierBundle();
	const vkey = await loadVerificationKey();
	const lock = await browserLock();
	const server = createServer((req, res) => {
		const body = files.get(req.url ?? '/');
		res.writeHead(body === undefined ? 404 : 200, {
			'content-type': req.url === '/' ? 'text/html' : 'text/javascript'
		});
		res.end(body ?? '');
	});
	try {
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const port = (server.address() as AddressInfo).port;
		const instance = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
		try {
			const page = await instance.newPage();
			// tsx compiles this file with esbuild's keepNames: functions passed to page.evaluate call __name.
			await page.addInitScript({ content: 'window.__name = (f) => f;' });
			await page.goto(`http://127.0.0.1:${port}/`);
			await page.waitForFunction(() => 'Groth16BatchVerifier' in window);
			const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
			const wire = statements.map((s) => ({
				hk: hex(s.hk),
				m: String(s.m),
				h: hex(s.hash.h),
				proof: hex(s.hash.proof)
			}));
			const figures = await page.evaluate(
				async ({ vkey, wire, runsPerBatch }) => {
					type Verifier = { verifyAll(s: unknown[]): Promise<boolean[]> };
					const { Groth16BatchVerifier: V, sharedMclPool } = window as unknown as {
						Groth16BatchVerifier: { create(k: unknown, h?: string, o?: object): Promise<Verifier> };
						sharedMclPool(): { ready: number; size: number } | undefined;
					};
					const bytes = (h: string) => Uint8Array.from(h.match(/../g)!, (b) => parseInt(b, 16));
					const all = wire.map((w) => ({
						hk: bytes(w.hk),
						m: BigInt(w.m),
						hash: { h: bytes(w.h), proof: bytes(w.proof) }
					}));
					const batchOf = (n: number) => Array.from({ length: n }, (_, i) => all[i % all.length]!);
					const verifiers = {
						mcl: await V.create(vkey),
						'mcl, one thread': await V.create(vkey, undefined, { workers: false }),
						'former ffjavascript': await V.create(vkey, undefined, { library: 'ffjavascript' })
					};
					for (const v of Object.values(verifiers)) await v.verifyAll(batchOf(64));
					const pool = sharedMclPool();
					while (pool && pool.ready < pool.size) await new Promise((r) => setTimeout(r, 20));
					// The verifiers take turns, run by run, as in Node.
					const out: { label: string; n: number; ms: number }[] = [];
					for (const n of [1, 64, 256]) {
						const runs = new Map<string, number[]>();
						for (let i = 0; i < (n === 1 ? 9 : runsPerBatch); i++)
							for (const [label, v] of Object.entries(verifiers)) {
								const t = performance.now();
								if (!(await v.verifyAll(batchOf(n))).every(Boolean)) throw new Error('a good batch failed');
								runs.set(label, [...(runs.get(label) ?? []), (performance.now() - t) / n]);
							}
						for (const [label, ms] of runs)
							out.push({ label, n, ms: ms.sort((a, b) => a - b)[ms.length >> 1]! });
					}
					return { out, workers: pool?.ready ?? 0 };
				},
				{ vkey, wire, runsPerBatch: RUNS }
			);
			line('Chromium: mcl worker pool', `${figures.workers} workers`);
			for (const { label, n, ms } of figures.out)
				line(
					n === 1 ? `Chromium main thread: verify one, ${label}` : `Chromium: batch verify ${n}, ${label}`,
					n === 1 ? fmt(ms) : `${fmt(ms)}/proof`
				);
			const per = (label: string, n: number) => figures.out.find((f) => f.label === label && f.n === n)!.ms;
			for (const n of [64, 256])
				line(
					`  Chromium ratio former ffjavascript / mcl, n=${n}`,
					`${(per('former ffjavascript', n) / per('mcl', n)).toFixed(2)}×`
				);
		} finally {
			await instance.close();
		}
	} finally {
		server.close();
		lock.release();
	}
}

export default async function (): Promise<void> {
	const sizes = ['chameleon.wasm', 'chameleon.zkey', 'chameleon.vkey.json'].map(
		(name) => `${name} ${(statSync(`${root}static/snark/${name}`).size / 1024).toFixed(1)} KiB`
	);
	line('artifacts', sizes.join(', '));
	line('proof bytes (canonical, on chain)', '256 B');
	const n = await node();
	const b = await browser(5);
	await browserBatch(n.statements);
	const s = schnorrBaseline();
	line('Schnorr baseline prove (same relation, no SNARK)', fmt(s.prove));
	line('Schnorr baseline verify', fmt(s.verify));
	line('ratio Groth16 prove (Node warm) / Schnorr prove', `${(n.proveWarm / s.prove).toFixed(0)}×`);
	line('ratio Groth16 verify one / Schnorr verify', `${(n.verifyOne / s.verify).toFixed(1)}×`);
	line('ratio Chromium Worker warm / Node warm prove', `${(b.proveWarm / n.proveWarm).toFixed(2)}×`);
}
