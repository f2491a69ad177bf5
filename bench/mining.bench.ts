/**
 * Mining bench: the WASM keyblock kernel's rate (SIMD and scalar) in Node and in a Chromium Web Worker,
 * beside hash-wasm's SHA-256d in both places and the native rate (a C program with OpenSSL, SHA-NI where
 * the CPU has it, compiled now), with the ratios, all from one run.
 *
 * The Chromium part serves its own static page from a temp dir on a free loopback port (so it needs
 * neither ./build nor port 4173): the worker is kernel.ts + hash-wasm bundled by esbuild.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../scripts/chromium.mjs';

const SECONDS = 2;
const root = new URL('..', import.meta.url).pathname;

/** The measurement code, run in Node and (bundled) in the Chromium worker. */
const MEASURE = `
import { createSHA256 } from 'hash-wasm';
import { MiningKernel } from './src/lib/mining/kernel.ts';

const JOB = { prefix64: new Uint8Array(64).fill(7), minerKey: new Uint8Array(32).fill(9), target: new Uint8Array(32) };

/** Hashes per second of the kernel: chunked calls (as the miner does), after a warm-up. */
export async function kernelRate(simd, seconds) {
	const kernel = await MiningKernel.load({ simd });
	kernel.setJob(JOB);
	let nonce = 0n;
	const run = (ms) => {
		let hashes = 0;
		const start = performance.now();
		while (performance.now() - start < ms) {
			hashes += kernel.search(nonce, 65536).hashesDone;
			nonce += 65536n;
		}
		return hashes / ((performance.now() - start) / 1000);
	};
	run(300);
	return { rate: run(seconds * 1000), simd: kernel.simd };
}

/** Hashes per second of hash-wasm's SHA-256 doing SHA-256d of 80-byte headers (nonce in the last 4). */
export async function hashWasmRate(seconds) {
	const sha = await createSHA256();
	const header = new Uint8Array(80).fill(3);
	const view = new DataView(header.buffer);
	const run = (ms) => {
		let hashes = 0;
		const start = performance.now();
		while (performance.now() - start < ms) {
			for (let i = 0; i < 1000; i++, hashes++) {
				view.setUint32(76, hashes);
				sha.init().update(header);
				const inner = sha.digest('binary');
				sha.init().update(inner);
				sha.digest('binary');
			}
		}
		return hashes / ((performance.now() - start) / 1000);
	};
	run(300);
	return run(seconds * 1000);
}
`;

const NATIVE_C = `
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
/* The low-level calls: OpenSSL 3's one-shot SHA256() fetches an EVP implementation on every call. */
static void sha(const unsigned char *data, size_t n, unsigned char *out) {
	SHA256_CTX c; SHA256_Init(&c); SHA256_Update(&c, data, n); SHA256_Final(out, &c);
}
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
int main(int argc, char **argv) {
	double seconds = argc > 1 ? atof(argv[1]) : 2;
	unsigned char header[104], inner[32], outer[32], acc = 0;
	memset(header, 5, sizeof header);
	/* SHA-256d of 80-byte headers, as in Bitcoin. */
	unsigned long n = 0; double start = now();
	while (now() - start < seconds) for (int i = 0; i < 100000; i++, n++) {
		memcpy(header + 76, &n, 4); sha(header, 80, inner); sha(inner, 32, outer); acc ^= outer[0];
	}
	printf("%f\\n", n / (now() - start));
	/* Our puzzle: 104 bytes with the 64-byte prefix's midstate reused. */
	SHA256_CTX mid, ctx; SHA256_Init(&mid); SHA256_Update(&mid, header, 64);
	n = 0; start = now();
	while (now() - start < seconds) for (int i = 0; i < 100000; i++, n++) {
		memcpy(header + 64, &n, 8); ctx = mid; SHA256_Update(&ctx, header + 64, 40); SHA256_Final(inner, &ctx);
		sha(inner, 32, outer); acc ^= outer[0];
	}
	printf("%f\\n%d\\n", n / (now() - start), acc);
	return 0;
}
`;

const WORKER_ENTRY = `${MEASURE}
self.onmessage = async ({ data: seconds }) => {
	const simd = await kernelRate(true, seconds);
	const scalar = await kernelRate(false, seconds);
	const hashWasm = await hashWasmRate(seconds);
	self.postMessage({ simd, scalar, hashWasm });
};
`;

async function measureInNode() {
	const dir = mkdtempSync(join(tmpdir(), 'spchain-mining-bench-'));
	try {
		// The same measurement source as the browser's, bundled once for Node too.
		const file = join(dir, 'measure.mjs');
		await build({
			stdin: { contents: MEASURE, resolveDir: root, loader: 'ts' },
			bundle: true,
			format: 'esm',
			platform: 'node',
			outfile: file,
			logLevel: 'error'
		});
		const measure = (await import(file)) as {
			kernelRate(simd: boolean, s: number): Promise<{ rate: number; simd: boolean }>;
			hashWasmRate(s: number): Promise<number>;
		};
		return {
			simd: await measure.kernelRate(true, SECONDS),
			scalar: await measure.kernelRate(false, SECONDS),
			hashWasm: await measure.hashWasmRate(SECONDS)
		};
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

async function measureInChromium() {
	const bundle = await build({
		stdin: { contents: WORKER_ENTRY, resolveDir: root, loader: 'ts' },
		bundle: true,
		format: 'esm',
		write: false,
		logLevel: 'error'
	});
	const files: Record<string, [string, string]> = {
		'/': ['text/html', '<!doctype html><title>mining bench</title>'],
		'/worker.js': ['text/javascript', bundle.outputFiles[0]!.text]
	};
	const server = createServer((req, res) => {
		const file = files[req.url ?? ''];
		res.writeHead(file ? 200 : 404, { 'content-type': file?.[0] ?? 'text/plain' }).end(file?.[1] ?? '');
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as { port: number };
	const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
	try {
		const page = await browser.newPage();
		await page.goto(`http://127.0.0.1:${port}/`);
		return await page.evaluate(
			(seconds) =>
				new Promise<{ simd: { rate: number; simd: boolean }; scalar: { rate: number }; hashWasm: number }>(
					(resolve, reject) => {
						const worker = new Worker('/worker.js', { type: 'module' });
						worker.onmessage = (event) => resolve(event.data);
						worker.onerror = (event) => reject(new Error(event.message));
						worker.postMessage(seconds);
					}
				),
			SECONDS
		);
	} finally {
		await browser.close();
		server.close();
	}
}

function measureNative() {
	const dir = mkdtempSync(join(tmpdir(), 'spchain-native-sha-'));
	try {
		writeFileSync(join(dir, 'sha.c'), NATIVE_C);
		const binary = join(dir, 'sha');
		execFileSync('gcc', [
			'-O2',
			'-Wno-deprecated-declarations',
			'-o',
			binary,
			join(dir, 'sha.c'),
			'-lcrypto'
		]);
		const [header80, puzzle] = execFileSync(binary, [String(SECONDS)], { encoding: 'utf8' })
			.split('\n')
			.map(Number);
		return { header80: header80!, puzzle: puzzle! };
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

const m = (rate: number) => `${(rate / 1e6).toFixed(2)} M/s`;
const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

export default async function (): Promise<void> {
	// Sequential: the machine's cores are shared, and each figure is one thread.
	const node = await measureInNode();
	const native = measureNative();
	const browser = await measureInChromium();
	console.log(`SHA-256d hashes per second, one thread each, ${SECONDS} s per figure after a warm-up:`);
	console.table({
		'kernel SIMD (Node)': { rate: m(node.simd.rate), 'vs native': x(node.simd.rate, native.header80) },
		'kernel scalar (Node)': { rate: m(node.scalar.rate), 'vs native': x(node.scalar.rate, native.header80) },
		'hash-wasm (Node)': { rate: m(node.hashWasm), 'vs native': x(node.hashWasm, native.header80) },
		'kernel SIMD (Chromium worker)': {
			rate: m(browser.simd.rate),
			'vs native': x(browser.simd.rate, native.header80)
		},
		'kernel scalar (Chromium worker)': {
			rate: m(browser.scalar.rate),
			'vs native': x(browser.scalar.rate, native.header80)
		},
		'hash-wasm (Chromium worker)': {
			rate: m(browser.hashWasm),
			'vs native': x(browser.hashWasm, native.header80)
		},
		'native OpenSSL, 80-byte header': { rate: m(native.header80), 'vs native': '1.00×' },
		'native OpenSSL, 104-byte puzzle, midstate': {
			rate: m(native.puzzle),
			'vs native': x(native.puzzle, native.header80)
		}
	});
	console.log(`Chromium worker SIMD kernel: ${m(browser.simd.rate)} (goal ≥ 3 M/s)`);
	console.log(`  kernel/native (80-byte header) = ${x(browser.simd.rate, native.header80)} (goal ≥ 0.40×)`);
	console.log(`  kernel/native (same puzzle, midstate) = ${x(browser.simd.rate, native.puzzle)}`);
	console.log(`  kernel/hash-wasm in Chromium = ${x(browser.simd.rate, browser.hashWasm)} (goal ≥ 4×)`);
	console.log(
		`Node SIMD kernel/hash-wasm = ${x(node.simd.rate, node.hashWasm)}, SIMD/scalar = ${x(node.simd.rate, node.scalar.rate)}`
	);
}
