/**
 * The WASM back ends a full node runs its hot-path signature checks on (pages and workers): BIP-340 on libsecp256k1
 * and BLS12-381 on mcl. Installed once at start-up; until then (or if loading fails, which is thrown)
 * the core verifies with @noble/curves, which accepts exactly the same inputs.
 */
import { installMclBls } from './bls-mcl.ts';
import { installSchnorrWasm } from './schnorr-wasm.browser.ts';

export interface WasmBackends {
	signatures: string;
	bls: string;
}

export async function installWasmBackends(): Promise<WasmBackends> {
	const [signatures, bls] = await Promise.all([installSchnorrWasm(), installMclBls()]);
	return { signatures: signatures.name, bls: bls.name };
}
