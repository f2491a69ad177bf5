/**
 * Browser: fetches libsecp256k1's WASM module as a separate asset (Vite's `?url`; tiny-secp256k1's
 * exports map hides the file, hence the path through node_modules), compiles it and installs it as the
 * page's BIP-340 verifier. Until it has loaded, @noble/curves verifies.
 */
import wasmUrl from '../../../node_modules/tiny-secp256k1/lib/secp256k1.wasm?url';
import { useSignatureVerifier, type SignatureVerifier } from '../core/identity.ts';
import { createSchnorrWasmVerifier } from './schnorr-wasm.ts';

let loading: Promise<SignatureVerifier> | undefined;

export function loadSchnorrWasmVerifier(): Promise<SignatureVerifier> {
	loading ??= (async () => {
		const response = await fetch(wasmUrl);
		if (!response.ok) throw new Error(`cannot load ${wasmUrl}: HTTP ${response.status}`);
		// Bytes, not compileStreaming: that one needs the host to send application/wasm.
		return createSchnorrWasmVerifier(await response.arrayBuffer());
	})();
	loading.catch(() => (loading = undefined));
	return loading;
}

/** Loads the WASM verifier and makes every `verifySignature` in this page use it. */
export async function installSchnorrWasm(): Promise<SignatureVerifier> {
	const verifier = await loadSchnorrWasmVerifier();
	useSignatureVerifier(verifier);
	return verifier;
}
