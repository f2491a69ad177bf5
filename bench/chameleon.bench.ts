/**
 * Chameleon hash with Groth16 proofs (issue 3): prove in Node and in a Chromium Web Worker, verify one,
 * batch-verify 64 and 256, artifact sizes, the renderer's peak memory while the worker proves, and a
 * Schnorr (Fiat–Shamir) proof of the same relation as a baseline. Figures and ratios only.
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
import { createNodeProver } from '../src/lib/crypto/prover.node.ts';

const root = new URL('..', import.meta.url).pathname;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
const line = (label: string, value: string) => console.log(`${label.padEnd(52)} ${value}`);

async function time(fn: () => Promise<unknown>, runs: number): Promise<number[]> {
	const out: number[] = [];
	for (let i = 0; i < runs; i++) {
		const t = performance.now();
		await fn();
		out.push(performance.now() - t);
	}
	return out;
}

/** Proving and verifying in Node; returns the figures the ratios need. */
async function node(): Promise<{ proveWarm: number; verifyOne: number }> {
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

	const verifier = await Groth16BatchVerifier.create(await loadVerificationKey());
	await verifier.verifySingle(first!);
	const single = median(await time(() => verifier.verifySingle(first!), 20));
	line('verify one, snarkjs groth16.verify (median of 20)', fmt(single));
	const own = median(await time(() => verifier.verifyAll([first!]), 20));
	line('verify one, this verifier (batch of 1, median of 20)', fmt(own));
	const verifyOne = Math.min(single, own);
	for (const n of [64, 256]) {
		const batch = Array.from({ length: n }, (_, i) => statements[i % statements.length]!);
		const runs = await time(async () => {
			const ok = await verifier.verifyAll(batch);
			if (!ok.every(Boolean)) throw new Error('a good batch failed');
		}, 3);
		const perProof = median(runs) / n;
		line(`batch verify ${n} (median of 3)`, `${fmt(median(runs))} total, ${fmt(perProof)}/proof`);
		line(`  ratio single (snarkjs) / batched per proof, n=${n}`, `${(single / perProof).toFixed(1)}×`);
		line(`  ratio single (this verifier) / batched per proof, n=${n}`, `${(own / perProof).toFixed(1)}×`);
	}
	const bad = Array.from({ length: 64 }, (_, i) => statements[i % statements.length]!);
	bad[17] = { ...bad[17]!, m: bad[17]!.m + 1n };
	const [badMs] = await time(() => verifier.verifyAll(bad), 1);
	line('batch verify 64 with one bad proof (bisection)', fmt(badMs!));
	await prover.close();
	return { proveWarm, verifyOne };
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

export default async function (): Promise<void> {
	const sizes = ['chameleon.wasm', 'chameleon.zkey', 'chameleon.vkey.json'].map(
		(name) => `${name} ${(statSync(`${root}static/snark/${name}`).size / 1024).toFixed(1)} KiB`
	);
	line('artifacts', sizes.join(', '));
	line('proof bytes (canonical, on chain)', '256 B');
	const n = await node();
	const b = await browser(5);
	const s = schnorrBaseline();
	line('Schnorr baseline prove (same relation, no SNARK)', fmt(s.prove));
	line('Schnorr baseline verify', fmt(s.verify));
	line('ratio Groth16 prove (Node warm) / Schnorr prove', `${(n.proveWarm / s.prove).toFixed(0)}×`);
	line('ratio Groth16 verify one / Schnorr verify', `${(n.verifyOne / s.verify).toFixed(1)}×`);
	line('ratio Chromium Worker warm / Node warm prove', `${(b.proveWarm / n.proveWarm).toFixed(2)}×`);
}
