/**
 * Identities of patients and institutions (paper §5.3 Setup: "bitcoin public-private key pair and
 * address"). Signing keys are secp256k1 Schnorr (BIP-340, @noble/curves): 32-byte x-only public keys,
 * 64-byte signatures, strongly unforgeable, so a signature cannot be mauled into another valid one.
 *
 * An address is the public key itself in bech32m with a human-readable prefix, as Bitcoin's taproot
 * addresses are: it is typo-checked for QR codes and forms, and a clinic can recover the patient's key
 * from it without asking the network. Prefix `spp` marks a patient, `spi` an institution.
 *
 * An institution also carries the keys later parts of the protocol use: a BLS12-381 public key (48 bytes,
 * G1, for consensus votes) and its chameleon hash key hk = X (32-byte Baby Jubjub point).
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { bech32m } from '@scure/base';
import { bytesToBigInt, type Bytes } from './bytes.ts';
import { ValidationError } from './errors.ts';
import * as read from './schema.ts';

export const PUBLIC_KEY_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;
export const BLS_PUBLIC_KEY_LENGTH = 48;
export const CHAMELEON_KEY_LENGTH = 32;

export type PublicKey = Bytes;
export type Signature = Bytes;

export interface SigningKeyPair {
	secretKey: Bytes;
	publicKey: PublicKey;
}

/** A fresh key pair from the platform CSPRNG, or a deterministic one from a 48-byte seed (dev genesis, tests). */
export function generateSigningKey(seed?: Bytes): SigningKeyPair {
	const { secretKey, publicKey } = schnorr.keygen(seed);
	return { secretKey, publicKey };
}

/** The key pair of a known 32-byte secret key (restored from a backup). */
export function signingKeyFromSecret(secretKey: Bytes): SigningKeyPair {
	return { secretKey, publicKey: schnorr.getPublicKey(secretKey) };
}

export function publicKeyOf(secretKey: Bytes): PublicKey {
	return schnorr.getPublicKey(secretKey);
}

/** BIP-340 signature over a 32-byte message digest (every signed structure signs its tagged hash). */
export function sign(secretKey: Bytes, digest: Bytes): Signature {
	return schnorr.sign(digest, secretKey);
}

/**
 * Who checks BIP-340 signatures. Verification is the hot path of every node (each transaction, keyblock
 * and consent carries one), so a faster back end (libsecp256k1 in WASM, src/lib/crypto/schnorr-wasm.ts)
 * can be installed once it has loaded; it must accept exactly what @noble/curves accepts (equivalence
 * tests beside it). Injected rather than imported so the core stays free of WASM loading.
 */
export interface SignatureVerifier {
	readonly name: string;
	/** BIP-340 verification of a 32-byte digest; false for anything malformed, never throws. */
	verify(publicKey: PublicKey, digest: Bytes, signature: Signature): boolean;
}

/** The reference back end (@noble/curves, pure TypeScript). */
export const nobleSignatureVerifier: SignatureVerifier = {
	name: '@noble/curves',
	verify(publicKey, digest, signature) {
		try {
			return schnorr.verify(signature, digest, publicKey);
		} catch {
			return false;
		}
	}
};

let verifier: SignatureVerifier = nobleSignatureVerifier;

/** Installs the verifier every `verifySignature` uses from now on (undefined: back to @noble/curves). */
export function useSignatureVerifier(next: SignatureVerifier | undefined): void {
	verifier = next ?? nobleSignatureVerifier;
}

export function signatureVerifierName(): string {
	return verifier.name;
}

/**
 * Verifies a BIP-340 signature; false for any malformed key or signature, never throws. Digests are
 * 32 bytes everywhere in the protocol; any other length goes to @noble/curves, which defines BIP-340 for
 * all lengths, so the answer never depends on the installed back end.
 */
export function verifySignature(publicKey: PublicKey, digest: Bytes, signature: Signature): boolean {
	if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) return false;
	if (digest.length !== 32) return nobleSignatureVerifier.verify(publicKey, digest, signature);
	if (deferred) {
		deferred.push({ publicKey, digest, signature });
		return true;
	}
	return verifier.verify(publicKey, digest, signature);
}

/** A BIP-340 check left for later by `withDeferredSignatures`. */
export interface DeferredSignature {
	publicKey: PublicKey;
	digest: Bytes;
	signature: Signature;
}

let deferred: DeferredSignature[] | undefined;

/**
 * Runs `run` with its well-formed BIP-340 checks recorded and answered true, for the caller to verify
 * later (a syncing node applies certified facts first and checks their signatures in the background,
 * runtime/certified-sync.ts). Only the synchronous part of `run` is covered: nothing else can run
 * meanwhile, so no other check is answered true; checks after an await in `run` are made at once.
 */
export function withDeferredSignatures<T>(run: () => T): { result: T; signatures: DeferredSignature[] } {
	const signatures: DeferredSignature[] = [];
	const outer = deferred;
	deferred = signatures;
	try {
		return { result: run(), signatures };
	} finally {
		deferred = outer;
	}
}

/** A public key is valid iff it is the x-coordinate of a point on secp256k1 (BIP-340 lift_x). */
export function isValidPublicKey(publicKey: Bytes): boolean {
	if (publicKey.length !== PUBLIC_KEY_LENGTH) return false;
	try {
		schnorr.utils.lift_x(bytesToBigInt(publicKey));
		return true;
	} catch {
		return false;
	}
}

export type Role = 'patient' | 'institution';
const PREFIX: Record<Role, string> = { patient: 'spp', institution: 'spi' };

export function addressOf(publicKey: PublicKey, role: Role): string {
	return bech32m.encode(PREFIX[role], bech32m.toWords(publicKey));
}

/** Parses an address back into its public key; the role must match the prefix. */
export function parseAddress(address: string, role: Role): PublicKey {
	let decoded: { prefix: string; words: number[] };
	try {
		decoded = bech32m.decode(address.trim().toLowerCase() as `${string}1${string}`);
	} catch {
		throw new ValidationError('address', 'this is not an SPChain address (checksum or format is wrong)');
	}
	if (decoded.prefix !== PREFIX[role])
		throw new ValidationError(
			'address',
			`expected a ${role} address (${PREFIX[role]}1…), got ${decoded.prefix}1…`
		);
	const publicKey = Uint8Array.from(bech32m.fromWords(decoded.words));
	if (!isValidPublicKey(publicKey))
		throw new ValidationError('address', 'the address does not hold a valid public key');
	return publicKey;
}

/** A consortium institution as published in genesis: who it is and the public keys it signs with. */
export interface Institution {
	/** Signing public key; also the institution's id everywhere in the protocol. */
	id: PublicKey;
	name: string;
	/** BLS12-381 G1 public key for consensus votes. */
	blsKey: Bytes;
	/**
	 * The BLS key's proof of possession (its signature over itself): aggregate certificates are verified
	 * against the sum of signers' keys, so without it a member could register a rogue key crafted to
	 * cancel the others' and forge a certificate alone.
	 */
	blsPossession: Bytes;
	/** Chameleon hash key hk = X = x·Base8 on Baby Jubjub. */
	chameleonKey: Bytes;
}

export const INSTITUTION_FIELDS = ['id', 'name', 'blsKey', 'blsPossession', 'chameleonKey'] as const;
export const BLS_POSSESSION_LENGTH = 96;

export function readInstitution(value: unknown, where: string): Institution {
	const o = read.object(value, where, INSTITUTION_FIELDS);
	const institution: Institution = {
		id: read.bytes(o.id, `${where}.id`, PUBLIC_KEY_LENGTH),
		name: read.string(o.name, `${where}.name`, 120),
		blsKey: read.bytes(o.blsKey, `${where}.blsKey`, BLS_PUBLIC_KEY_LENGTH),
		blsPossession: read.bytes(o.blsPossession, `${where}.blsPossession`, BLS_POSSESSION_LENGTH),
		chameleonKey: read.bytes(o.chameleonKey, `${where}.chameleonKey`, CHAMELEON_KEY_LENGTH)
	};
	if (!isValidPublicKey(institution.id))
		throw new ValidationError('institution', `${where}.id is not a valid public key`);
	if (institution.name.trim() === '') throw new ValidationError('institution', `${where}.name is empty`);
	return institution;
}
