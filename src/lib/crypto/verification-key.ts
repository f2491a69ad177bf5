/**
 * The chameleon circuit's Groth16 verification key and its identity. A consortium fixes the key by its
 * hash in the genesis config (CHAMELEON_VKEY_HASH); a node refuses to verify under any other key, so a
 * proof made with another circuit or another ceremony's keys never counts.
 *
 * Canonical form: SHA-256 of the canonical CBOR (core encoding) of the fields Groth16 verification uses
 * (protocol, curve, nPublic, α₁, β₂, γ₂, δ₂, IC), coordinates as decimal strings exactly as snarkjs
 * exports them. Derived or cosmetic fields (vk_alphabeta_12) are left out, so they cannot change the hash.
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import { encodeCanonical } from '../core/encoding.ts';
import { ValidationError } from '../core/errors.ts';
import { sha256 } from '../core/hash.ts';

type G1 = [string, string, string];
type G2 = [[string, string], [string, string], [string, string]];

/** A snarkjs Groth16 verification key (JSON), as exported by the ceremony. */
export interface VerificationKey {
	protocol: 'groth16';
	curve: 'bn128';
	nPublic: number;
	vk_alpha_1: G1;
	vk_beta_2: G2;
	vk_gamma_2: G2;
	vk_delta_2: G2;
	IC: G1[];
	vk_alphabeta_12?: unknown;
}

/** Public signals of the chameleon circuit: hx, hy (outputs), then Xx, Xy, m. */
export const CHAMELEON_PUBLIC_SIGNALS = 5;

export function verificationKeyHash(vkey: VerificationKey): Bytes {
	const { protocol, curve, nPublic, vk_alpha_1, vk_beta_2, vk_gamma_2, vk_delta_2, IC } = vkey;
	return sha256(
		encodeCanonical({ protocol, curve, nPublic, vk_alpha_1, vk_beta_2, vk_gamma_2, vk_delta_2, IC })
	);
}

/** Returns the key unchanged if it is the consortium's (its hash is `expectedHashHex`), else throws. */
export function checkVerificationKey(vkey: VerificationKey, expectedHashHex: string): VerificationKey {
	if (vkey.protocol !== 'groth16' || vkey.curve !== 'bn128' || vkey.nPublic !== CHAMELEON_PUBLIC_SIGNALS)
		throw new ValidationError('vkey-shape', 'not a Groth16 BN254 verification key of the chameleon circuit');
	const actual = bytesToHex(verificationKeyHash(vkey));
	if (actual !== expectedHashHex)
		throw new ValidationError(
			'vkey-hash',
			`verification key ${actual.slice(0, 16)}… is not the consortium's (${expectedHashHex.slice(0, 16)}…)`
		);
	return vkey;
}
