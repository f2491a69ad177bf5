/** Node: the circuit artifacts from static/snark/ (committed; written by `npm run consortium -- found-finish`). */
import { readFile } from 'node:fs/promises';
import type { VerificationKey } from './verification-key.ts';
import type { SnarkArtifacts } from './chameleon-prover.ts';

const dir = new URL('../../../static/snark/', import.meta.url);

export async function loadArtifacts(): Promise<SnarkArtifacts> {
	const [wasm, zkey] = await Promise.all([
		readFile(new URL('chameleon.wasm', dir)),
		readFile(new URL('chameleon.zkey', dir))
	]);
	return { wasm: new Uint8Array(wasm), zkey: new Uint8Array(zkey) };
}

export async function loadVerificationKey(): Promise<VerificationKey> {
	return JSON.parse(await readFile(new URL('chameleon.vkey.json', dir), 'utf8')) as VerificationKey;
}
