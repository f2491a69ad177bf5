/**
 * Browser: the circuit artifacts served with the app under <base>/snark/ (static/snark/), fetched with
 * byte progress so the UI can show it; the service worker caches them with the rest of the app.
 */
import type { VerificationKey } from './verification-key.ts';
import type { OnProgress, SnarkArtifacts } from './chameleon-prover.ts';

async function fetchBytes(url: URL, onBytes: (n: number, total: number) => void): Promise<Uint8Array> {
	const response = await fetch(url);
	if (!response.ok || !response.body) throw new Error(`cannot load ${url.pathname}: HTTP ${response.status}`);
	const total = Number(response.headers.get('content-length') ?? 0);
	const chunks: Uint8Array[] = [];
	let loaded = 0;
	for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
		chunks.push(chunk);
		loaded += chunk.length;
		onBytes(loaded, total);
	}
	const out = new Uint8Array(loaded);
	let offset = 0;
	for (const chunk of chunks) {
		out.set(chunk, offset);
		offset += chunk.length;
	}
	return out;
}

/** `base` is the absolute URL of the snark directory, e.g. new URL('/snark/', location.href). */
export async function loadArtifacts(base: URL, onProgress: OnProgress = () => {}): Promise<SnarkArtifacts> {
	const loaded = { wasm: 0, zkey: 0 };
	const totals = { wasm: 0, zkey: 0 };
	const report = (file: 'wasm' | 'zkey') => (n: number, total: number) => {
		loaded[file] = n;
		totals[file] = total;
		onProgress({ stage: 'loading', done: loaded.wasm + loaded.zkey, total: totals.wasm + totals.zkey });
	};
	const [wasm, zkey] = await Promise.all([
		fetchBytes(new URL('chameleon.wasm', base), report('wasm')),
		fetchBytes(new URL('chameleon.zkey', base), report('zkey'))
	]);
	return { wasm, zkey };
}

export async function loadVerificationKey(base: URL): Promise<VerificationKey> {
	const response = await fetch(new URL('chameleon.vkey.json', base));
	if (!response.ok) throw new Error(`cannot load the verification key: HTTP ${response.status}`);
	return (await response.json()) as VerificationKey;
}
