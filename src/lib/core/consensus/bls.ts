/**
 * BLS12-381 signatures for the consensus group (@noble/curves), "min-pk" variant: 48-byte G1 public
 * keys, 96-byte G2 signatures. Min-pk keeps what is stored per institution and per certificate's
 * aggregate key small and makes aggregating public keys (one per signer) cheap G1 additions.
 *
 * Every member signs the same statement for a vote, so certificates aggregate same-message
 * signatures: one pairing check against the sum of the signers' public keys. Same-message aggregation
 * is only sound when every key is backed by a proof of possession (otherwise a rogue key
 * pk' = g^x − Σ pk_i forges a certificate), so registration must check `verifyPossession` once per key;
 * the two uses have distinct domain separation tags so a PoP can never be replayed as a vote.
 *
 * Pairings are the cost of a vote, so a faster back end (mcl in WASM, src/lib/crypto/bls-mcl.ts) can be
 * installed with `useBlsBackend`. It also hashes to G2 (RFC 9380 with our tags), about eight times
 * faster than noble: an outsider's forged vote, each under a statement of its own, costs a hash and a
 * pairing before it is refused. Hashed statements are cached here, so a statement all members sign is
 * hashed once per node; the back end's equivalence with this file's noble path, hashing included, is
 * tested beside it. Key generation stays on noble.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToBigInt, bytesToHex, type Bytes } from '../bytes.ts';
import { ValidationError } from '../errors.ts';

export const BLS_PUBLIC_KEY_LENGTH = 48;
export const BLS_SIGNATURE_LENGTH = 96;
export const BLS_SECRET_KEY_LENGTH = 32;

const scheme = bls12_381.longSignatures;
/** Ciphersuite tags (RFC 9380 / BLS draft style) with the application's prefix. */
const SIGNATURE_DST = 'SPCHAIN_BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';
const POSSESSION_DST = 'SPCHAIN_BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_';

/**
 * Who multiplies, adds and pairs. `hash` is H(m) as noble's 96-byte compressed G2 encoding.
 * Malformed keys and signatures throw a ValidationError ('bls-public-key', 'bls-signature'), exactly
 * where the noble path does; a well-formed wrong signature is `false`.
 */
export interface BlsBackend {
	readonly name: string;
	/** H(m) under the tag `dst` (RFC 9380, BLS12381G2_XMD:SHA-256_SSWU_RO_), compressed (96 bytes). */
	hash(message: Bytes, dst: string): Bytes;
	/** σ = sk·H, compressed (96 bytes). */
	sign(secretKey: Bytes, hash: Bytes): Bytes;
	/** e(g1, σ) = e(Σ pk_i, H); false when Σ pk_i is the identity. */
	verify(publicKeys: readonly Bytes[], hash: Bytes, signature: Bytes): boolean;
	/** Σ σ_i, compressed. */
	aggregate(signatures: readonly Bytes[]): Bytes;
	/** Throws unless the key is a G1 point of the prime-order subgroup other than the identity. */
	assertPublicKey(publicKey: Bytes): void;
}

let backend: BlsBackend | undefined;

/** Installs the back end every BLS operation uses from now on (undefined: back to @noble/curves). */
export function useBlsBackend(next: BlsBackend | undefined): void {
	backend = next;
	backendHashes.clear();
}

export function blsBackendName(): string {
	return backend?.name ?? '@noble/curves';
}

export interface BlsKeyPair {
	secretKey: Bytes;
	publicKey: Bytes;
}

/** Derives a key pair from 48 bytes of seed material (KeyGen of the BLS draft via @noble/curves). */
export function blsKeyPairFromSeed(seed: Bytes): BlsKeyPair {
	if (seed.length !== 48)
		throw new ValidationError('bls-seed', `BLS key seed must be 48 bytes, got ${seed.length}`);
	const { secretKey, publicKey } = scheme.keygen(seed);
	return { secretKey, publicKey: publicKey.toBytes(true) };
}

export function blsPublicKey(secretKey: Bytes): Bytes {
	return scheme.getPublicKey(secretKey).toBytes(true);
}

type G1 = ReturnType<typeof scheme.getPublicKey>;
type G2 = ReturnType<typeof scheme.hash>;

function decodePublicKey(publicKey: Bytes): G1 {
	if (publicKey.length !== BLS_PUBLIC_KEY_LENGTH)
		throw new ValidationError('bls-public-key', `BLS public key must be ${BLS_PUBLIC_KEY_LENGTH} bytes`);
	try {
		const point = bls12_381.G1.Point.fromBytes(publicKey);
		point.assertValidity();
		if (point.is0()) throw new Error('identity');
		return point;
	} catch (error) {
		throw new ValidationError('bls-public-key', `invalid BLS public key: ${(error as Error).message}`);
	}
}

/**
 * Decoding a signature includes the G2 subgroup check (~2 ms); a vote's signature is decoded to verify it
 * and again to aggregate it into the certificate, so recently decoded points are kept (bounded).
 */
const signatureCache = new Map<string, G2>();
function decodeSignature(signature: Bytes): G2 {
	const key = bytesToHex(signature);
	let point = signatureCache.get(key);
	if (!point) {
		point = decodeSignatureUncached(signature);
		if (signatureCache.size > 4096) signatureCache.clear();
		signatureCache.set(key, point);
	}
	return point;
}

function decodeSignatureUncached(signature: Bytes): G2 {
	if (signature.length !== BLS_SIGNATURE_LENGTH)
		throw new ValidationError('bls-signature', `BLS signature must be ${BLS_SIGNATURE_LENGTH} bytes`);
	try {
		// fromBytes checks the point is on the curve and in the G2 subgroup.
		return scheme.Signature.fromBytes(signature);
	} catch (error) {
		throw new ValidationError('bls-signature', `invalid BLS signature encoding: ${(error as Error).message}`);
	}
}

/** Decoding a public key checks subgroup membership (~1 ms); keys repeat, so decoded points are kept. */
const publicKeyCache = new Map<string, G1>();
function publicKeyPoint(publicKey: Bytes): G1 {
	const key = bytesToHex(publicKey);
	let point = publicKeyCache.get(key);
	if (!point) {
		point = decodePublicKey(publicKey);
		if (publicKeyCache.size > 4096) publicKeyCache.clear();
		publicKeyCache.set(key, point);
	}
	return point;
}

/**
 * Hash-to-curve costs about as much as a signature; every member signs and checks the SAME statement
 * for a vote, so hashed statements are kept (bounded) and each is hashed once per node.
 */
const hashedMessages = new Map<string, G2>();
function hashToG2(message: Bytes): G2 {
	const key = bytesToHex(message);
	let point = hashedMessages.get(key);
	if (!point) {
		point = scheme.hash(message, SIGNATURE_DST);
		if (hashedMessages.size > 4096) hashedMessages.clear();
		hashedMessages.set(key, point);
	}
	return point;
}

/** H(m) as the installed back end computes and takes it, kept as hashToG2's points are. */
const backendHashes = new Map<string, Bytes>();
function backendHash(active: BlsBackend, message: Bytes): Bytes {
	const key = bytesToHex(message);
	let hash = backendHashes.get(key);
	if (!hash) {
		hash = active.hash(message, SIGNATURE_DST);
		if (backendHashes.size > 4096) backendHashes.clear();
		backendHashes.set(key, hash);
	}
	return hash;
}

/** Checked before a back end is asked, in the noble path's order (signature first, then keys). */
function checkSignatureLength(signature: Bytes): void {
	if (signature.length !== BLS_SIGNATURE_LENGTH)
		throw new ValidationError('bls-signature', `BLS signature must be ${BLS_SIGNATURE_LENGTH} bytes`);
}

/** Signs `message`; the secret key must be 32 big-endian bytes of a scalar in [1, r) (never reduced). */
export function blsSign(secretKey: Bytes, message: Bytes): Bytes {
	const scalar = secretKey.length === BLS_SECRET_KEY_LENGTH ? bytesToBigInt(secretKey) : 0n;
	if (scalar === 0n || scalar >= bls12_381.fields.Fr.ORDER)
		throw new ValidationError('bls-secret-key', 'a BLS secret key is a 32-byte scalar in [1, r)');
	if (backend) return backend.sign(secretKey, backendHash(backend, message));
	return scheme.sign(hashToG2(message), secretKey).toBytes(true);
}

/** Verifies one signature; malformed keys or signatures are a ValidationError, a wrong one is `false`. */
export function blsVerify(publicKey: Bytes, message: Bytes, signature: Bytes): boolean {
	if (backend) {
		checkSignatureLength(signature);
		return backend.verify([publicKey], backendHash(backend, message), signature);
	}
	const sig = decodeSignature(signature);
	return scheme.verify(sig, hashToG2(message), publicKeyPoint(publicKey));
}

/** Adds signatures of the same message into one 96-byte aggregate. */
export function blsAggregateSignatures(signatures: readonly Bytes[]): Bytes {
	if (signatures.length === 0) throw new ValidationError('bls-aggregate', 'nothing to aggregate');
	if (backend) {
		signatures.forEach(checkSignatureLength);
		return backend.aggregate(signatures);
	}
	return scheme.aggregateSignatures(signatures.map(decodeSignature)).toBytes(true);
}

/**
 * One aggregate check: e(g1, σ) = e(Σ pk_i, H(m)). Keys must be registered with a proof of possession.
 */
export function blsVerifyAggregate(publicKeys: readonly Bytes[], message: Bytes, signature: Bytes): boolean {
	if (publicKeys.length === 0) throw new ValidationError('bls-aggregate', 'no public keys');
	if (backend) {
		checkSignatureLength(signature);
		return backend.verify(publicKeys, backendHash(backend, message), signature);
	}
	const sig = decodeSignature(signature);
	const aggregateKey = scheme.aggregatePublicKeys(publicKeys.map(publicKeyPoint));
	if (aggregateKey.is0()) return false;
	return scheme.verify(sig, hashToG2(message), aggregateKey);
}

/** Proof of possession: the key's signature over its own encoding under a separate tag. */
export function blsProvePossession(secretKey: Bytes): Bytes {
	const publicKey = blsPublicKey(secretKey);
	return scheme.sign(scheme.hash(publicKey, POSSESSION_DST), secretKey).toBytes(true);
}

/** Checked once per key at registration; its own tag, so never confused with a vote. */
export function blsVerifyPossession(publicKey: Bytes, proof: Bytes): boolean {
	if (backend) {
		checkSignatureLength(proof);
		return backend.verify([publicKey], backend.hash(publicKey, POSSESSION_DST), proof);
	}
	const sig = decodeSignature(proof);
	return scheme.verify(sig, scheme.hash(publicKey, POSSESSION_DST), publicKeyPoint(publicKey));
}

/** Throws unless `publicKey` is a valid G1 point in the prime-order subgroup (and not the identity). */
export function assertBlsPublicKey(publicKey: Bytes): void {
	if (backend) {
		backend.assertPublicKey(publicKey);
		return;
	}
	publicKeyPoint(publicKey);
}
