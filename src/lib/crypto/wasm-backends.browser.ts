/**
 * The WASM back ends a full node runs its hot-path signature checks on (pages and workers): BIP-340 on
 * libsecp256k1 (its verdicts remembered, runtime/verdict-cache.ts) and BLS12-381 on mcl. Installed once
 * at start-up; until then the core verifies with @noble/curves, which accepts exactly the same inputs.
 * A module that fails to load is thrown to the caller: a node never runs half-configured unnoticed.
 * Also the native SHA-256 the verified journal is hashed with on every open (not WASM, but installed
 * at the same moment for the same reason: the core's default is the slower pure one).
 */
import { installMclBls } from './bls-mcl.ts';
import { useSignatureVerifier } from '../core/identity.ts';
import { rememberSignatureVerdicts } from '../runtime/verdict-cache.ts';
import { useJournalSha256 } from '../runtime/verified-journal.ts';
import { webBulkSha256 } from './sha256.browser.ts';
import { loadSchnorrWasmVerifier } from './schnorr-wasm.browser.ts';

export interface WasmBackends {
	signatures: string;
	bls: string;
}

export async function installWasmBackends(): Promise<WasmBackends> {
	const [schnorr, bls] = await Promise.all([loadSchnorrWasmVerifier(), installMclBls()]);
	// A node checks a transaction's signature at admission, vote and apply: the later ones are lookups.
	const signatures = rememberSignatureVerdicts(schnorr);
	useSignatureVerifier(signatures);
	// The verified journal is hashed whole on every open (runtime/verified-journal.ts): natively.
	useJournalSha256(webBulkSha256);
	return { signatures: signatures.name, bls: bls.name };
}
