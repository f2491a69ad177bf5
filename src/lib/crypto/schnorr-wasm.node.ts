/**
 * Node: reads libsecp256k1's WASM module from the installed tiny-secp256k1 package (its exports map
 * hides the file, so it is found beside the package's entry point) and installs it as the node's
 * BIP-340 verifier.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { useSignatureVerifier, type SignatureVerifier } from '../core/identity.ts';
import { createSchnorrWasmVerifier } from './schnorr-wasm.ts';

let loading: Promise<SignatureVerifier> | undefined;

/** The WASM verifier, compiled once per process (or worker). */
export function loadSchnorrWasmVerifier(): Promise<SignatureVerifier> {
	loading ??= (async () => {
		// main: lib/cjs/index.cjs; the module sits in lib/.
		const entry = createRequire(import.meta.url).resolve('tiny-secp256k1');
		return createSchnorrWasmVerifier(await readFile(join(dirname(entry), '..', 'secp256k1.wasm')));
	})();
	loading.catch(() => (loading = undefined));
	return loading;
}

/** Loads the WASM verifier and makes every `verifySignature` in this realm use it. */
export async function installSchnorrWasm(): Promise<SignatureVerifier> {
	const verifier = await loadSchnorrWasmVerifier();
	useSignatureVerifier(verifier);
	return verifier;
}
