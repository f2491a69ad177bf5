/**
 * BIP-340 verification on libsecp256k1 compiled to WASM (the module npm `tiny-secp256k1` ships, built
 * from rust-secp256k1), about five times faster than @noble/curves per signature (docs/consensus.md,
 * Throughput). Signature checks are the largest share of a node's work per transaction, so the node
 * installs this as core/identity.ts's verifier once the module has loaded.
 *
 * We instantiate the module ourselves instead of importing tiny-secp256k1's wrapper: its browser entry
 * needs the bundler's ESM-WASM integration, which Vite does not have. The module's ABI is small: inputs
 * are written to fixed buffers it exports (their offsets are exported globals), `verifySchnorr()` returns
 * 1 or 0, and bad inputs call the imported `throwError`. Only verification is used; signing stays on
 * @noble/curves, where speed does not matter. How the bytes are fetched differs (schnorr-wasm.node.ts,
 * schnorr-wasm.browser.ts); this file runs in both.
 */
import type { Bytes } from '../core/bytes.ts';
import type { SignatureVerifier } from '../core/identity.ts';

/** The module refused an input (its `throwError` import); the verifier turns it into `false`. */
export class Secp256k1WasmError extends Error {
	override readonly name = 'Secp256k1WasmError';
	constructor(readonly code: number) {
		super(`libsecp256k1 (WASM) rejected an input (code ${code})`);
	}
}

interface SecpExports {
	memory: WebAssembly.Memory;
	HASH_INPUT: WebAssembly.Global;
	X_ONLY_PUBLIC_KEY_INPUT: WebAssembly.Global;
	SIGNATURE_INPUT: WebAssembly.Global;
	verifySchnorr(): number;
}

const IMPORTS = {
	// Only signing and context randomisation draw randomness; verification never does.
	'./rand.js': { generateInt32: () => crypto.getRandomValues(new Int32Array(1))[0]! },
	'./validate_error.js': {
		throwError: (code: number) => {
			throw new Secp256k1WasmError(code);
		}
	}
};

/** secp256k1's field prime p: an x-only key or R must be below it (checked before the module is asked). */
const FIELD_P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;

function belowP(bytes: Bytes): boolean {
	let value = 0n;
	for (const byte of bytes) value = (value << 8n) | BigInt(byte);
	return value < FIELD_P;
}

/** Compiles/instantiates the module from its bytes (or a compiled module) and returns a verifier. */
export async function createSchnorrWasmVerifier(
	source: BufferSource | WebAssembly.Module
): Promise<SignatureVerifier> {
	const instance =
		source instanceof WebAssembly.Module
			? await WebAssembly.instantiate(source, IMPORTS)
			: (await WebAssembly.instantiate(source, IMPORTS)).instance;
	const wasm = instance.exports as unknown as SecpExports;
	for (const name of ['HASH_INPUT', 'X_ONLY_PUBLIC_KEY_INPUT', 'SIGNATURE_INPUT', 'verifySchnorr'] as const)
		if (!(name in wasm)) throw new Error(`secp256k1 WASM module lacks the export ${name}`);
	// The memory never grows during verification, so views taken once stay valid; re-taken if it does.
	let memory = new Uint8Array(wasm.memory.buffer);
	const at = (global: WebAssembly.Global, length: number) => {
		if (memory.buffer !== wasm.memory.buffer) memory = new Uint8Array(wasm.memory.buffer);
		return memory.subarray(global.value as number, (global.value as number) + length);
	};
	return {
		name: 'libsecp256k1 (WASM)',
		verify(publicKey, digest, signature) {
			if (publicKey.length !== 32 || digest.length !== 32 || signature.length !== 64) return false;
			// tiny-secp256k1's wrapper checks this before the module; a key ≥ p is not an x-coordinate.
			if (!belowP(publicKey)) return false;
			const hash = at(wasm.HASH_INPUT, 32);
			const key = at(wasm.X_ONLY_PUBLIC_KEY_INPUT, 32);
			const sig = at(wasm.SIGNATURE_INPUT, 64);
			try {
				hash.set(digest);
				key.set(publicKey);
				sig.set(signature);
				return wasm.verifySchnorr() === 1;
			} catch (error) {
				if (error instanceof Secp256k1WasmError) return false;
				throw error;
			} finally {
				hash.fill(0);
				key.fill(0);
				sig.fill(0);
			}
		}
	};
}
