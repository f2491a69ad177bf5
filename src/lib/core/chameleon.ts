/**
 * Key-exposure-free chameleon hash (paper §3.1, §5.1.2, §5.3; Khalili, Dakhilalian, Susilo 2020), realised
 * on Baby Jubjub so its proof is cheap in a SNARK (docs/chameleon-hash.md):
 *
 *   trapdoor x ∈ [1, L), hash key X = x·B           B = Base8, generator of the order-L subgroup
 *   h = m·B + r·X                                   m, r ∈ [0, L); r stays secret
 *   π: Groth16 proof of knowledge of r with h = m·B + r·X, public signals (hx, hy, Xx, Xy, m)
 *   collision (trapdoor holder only): r' = r + (m − m')·x⁻¹ mod L, and a fresh proof for (h, X, m')
 *
 * Only h and π are published, never r, so two collisions do not give x (Krawczyk–Rabin needs r and r').
 * This file is the pure part: scalars, points, messages, collisions and the canonical byte encodings of
 * points and proofs. Making and checking proofs is the snarkjs adapter's job (src/lib/crypto/), injected
 * into validation as a ChameleonVerifier.
 *
 * Encodings: a point is 32 bytes, Baby Jubjub's compressed form (y little-endian, sign of x in the top
 * bit), and only the canonical encoding of a valid point is accepted. A proof is 256 bytes: A (x, y),
 * B (x.c0, x.c1, y.c0, y.c1), C (x, y), each a 32-byte big-endian BN254 base-field element < p, every
 * point on its curve (B's G2 subgroup membership is checked by the verifier, where it is batched).
 */
import { bn254 } from '@noble/curves/bn254.js';
import { babyjubjub } from '@noble/curves/misc.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bigIntToBytes, bytesToBigInt, concatBytes, equalBytes, type Bytes } from './bytes.ts';
import { ValidationError, ensure } from './errors.ts';

/** A chameleon hash value with its proof of well-formedness, as carried in transactions and blocks. */
export interface ChameleonHash {
	/** h = m·G + r·X, a compressed Baby Jubjub point (32 bytes). */
	h: Bytes;
	/** Groth16 proof of knowledge of r (canonical bytes; never used as an identifier: proofs are re-randomisable). */
	proof: Bytes;
}

/** One statement to verify: hash key X, message m (a field element < L), and the hash with its proof. */
export interface ChameleonStatement {
	hk: Bytes;
	m: bigint;
	hash: ChameleonHash;
}

/** Injected into validation: real SNARK verification lives outside the core (snarkjs adapter). */
export interface ChameleonVerifier {
	/** Returns one boolean per statement; never throws for a bad proof. */
	verifyAll(statements: readonly ChameleonStatement[]): Promise<boolean[]>;
}

type Point = InstanceType<typeof babyjubjub.Point>;
const Point = babyjubjub.Point;

/** Order of Baby Jubjub's prime-order subgroup (≈ 2^251.6): the modulus of m, r and x. */
export const SUBGROUP_ORDER = Point.Fn.ORDER;
export const POINT_LENGTH = 32;
export const PROOF_LENGTH = 256;
const L = SUBGROUP_ORDER;

// ---------------------------------------------------------------- scalars and messages

function scalar(value: bigint, what: string): bigint {
	ensure(value >= 0n && value < L, 'chameleon-scalar', `${what} must be an integer in [0, L)`);
	return value;
}

/** A uniform scalar in [1, L): 64 random bytes reduced, so the bias is below 2^-250. */
function randomScalar(): bigint {
	return (bytesToBigInt(randomBytes(64)) % (L - 1n)) + 1n;
}

/**
 * The message of a 32-byte SHA-256 digest: the digest as a big-endian integer, reduced mod L. The circuit
 * requires m < L, so every digest has exactly one message (m and m + L would otherwise both open h).
 */
export function messageFromDigest(digest: Bytes): bigint {
	ensure(
		digest.length === 32,
		'chameleon-digest',
		`a chameleon message comes from a 32-byte digest, got ${digest.length}`
	);
	return bytesToBigInt(digest) % L;
}

// ---------------------------------------------------------------- points

function times(point: Point, k: bigint): Point {
	return k === 0n ? Point.ZERO : point.multiply(k);
}

export function encodePoint(point: Point): Bytes {
	return point.toBytes();
}

/** Decodes a canonical point encoding; `subgroup` also requires it to lie in the order-L subgroup. */
export function decodePoint(bytes: Bytes, what: string, subgroup = true): Point {
	ensure(
		bytes.length === POINT_LENGTH,
		'chameleon-point',
		`${what} must be ${POINT_LENGTH} bytes, got ${bytes.length}`
	);
	let point: Point;
	try {
		point = Point.fromBytes(bytes);
	} catch (error) {
		throw new ValidationError(
			'chameleon-point',
			`${what} is not a Baby Jubjub point: ${(error as Error).message}`
		);
	}
	ensure(equalBytes(point.toBytes(), bytes), 'chameleon-point', `${what} is not canonically encoded`);
	if (subgroup)
		ensure(point.isTorsionFree(), 'chameleon-point', `${what} is not in the prime-order subgroup`);
	return point;
}

/** A hash key: a canonical subgroup point other than the identity (the circuit's EscalarMulAny needs both). */
export function decodeHashKey(hk: Bytes): Point {
	const X = decodePoint(hk, 'hash key');
	ensure(!X.is0(), 'chameleon-key', 'the hash key is the identity point');
	return X;
}

/** Affine coordinates as the circuit's field elements. */
export function pointSignals(point: Point): [bigint, bigint] {
	const { x, y } = point.toAffine();
	return [x, y];
}

// ---------------------------------------------------------------- the scheme

export interface Trapdoor {
	/** Secret x ∈ [1, L). */
	x: bigint;
	/** Hash key X = x·B (compressed). */
	X: Bytes;
}

/** HGen: a fresh trapdoor and its hash key. */
export function generateTrapdoor(): Trapdoor {
	const x = randomScalar();
	return { x, X: hashKeyOf(x) };
}

export function hashKeyOf(x: bigint): Bytes {
	ensure(scalar(x, 'trapdoor') !== 0n, 'chameleon-scalar', 'the trapdoor must not be 0');
	return encodePoint(Point.BASE.multiply(x));
}

/** h = m·B + r·X (pure point arithmetic; no proof). */
export function hashWithRandomness(m: bigint, r: bigint, X: Bytes): Bytes {
	const key = decodeHashKey(X);
	return encodePoint(times(Point.BASE, scalar(m, 'm')).add(times(key, scalar(r, 'r'))));
}

/** Hash(m, hk) without the proof: a fresh secret r and h. The prover then proves knowledge of r. */
export function hashMessage(m: bigint, X: Bytes): { h: Bytes; r: bigint } {
	const r = randomScalar();
	return { h: hashWithRandomness(m, r, X), r };
}

/** Hcol: the randomness r' that opens the same h to m2, computable only with the trapdoor x. */
export function collide(x: bigint, m: bigint, r: bigint, m2: bigint): bigint {
	ensure(scalar(x, 'trapdoor') !== 0n, 'chameleon-scalar', 'the trapdoor must not be 0');
	const Fn = Point.Fn;
	return Fn.add(scalar(r, 'r'), Fn.mul(Fn.sub(scalar(m, 'm'), scalar(m2, 'm2')), Fn.inv(x)));
}

/**
 * h₀ of a patient block's institution leaf: r = 0, so h₀ = m₀·B is computable by anyone from the leaf's
 * initial content; each later append is a collision from (m₀, 0) made by the institution, with a proof.
 */
export function initialLeafHash(m0: bigint): Bytes {
	return encodePoint(times(Point.BASE, scalar(m0, 'm')));
}

/**
 * The circuit's public signals (hx, hy, Xx, Xy, m) for a statement, or a ValidationError. h need not be
 * checked for the subgroup: the circuit outputs h = m·B + r·X, which always lies in it, so a proof for an
 * h outside it cannot verify.
 */
export function publicSignals(statement: ChameleonStatement): bigint[] {
	const h = decodePoint(statement.hash.h, 'chameleon hash', false);
	const X = decodeHashKey(statement.hk);
	return [...pointSignals(h), ...pointSignals(X), scalar(statement.m, 'm')];
}

// ---------------------------------------------------------------- Groth16 proof bytes

/** A Groth16 proof as affine BN254 coordinates (G1 A and C, G2 B with Fp2 = c0 + c1·u). */
export interface Groth16Proof {
	a: [bigint, bigint];
	b: [[bigint, bigint], [bigint, bigint]];
	c: [bigint, bigint];
}

const Fp = bn254.fields.Fp;
const Fp2 = bn254.fields.Fp2;
const G2_B = bn254.G2.Point.CURVE().b;

function onG1([x, y]: [bigint, bigint]): boolean {
	return Fp.eql(Fp.sqr(y), Fp.add(Fp.mul(Fp.sqr(x), x), 3n));
}

function onG2([[x0, x1], [y0, y1]]: [[bigint, bigint], [bigint, bigint]]): boolean {
	const x = { c0: x0, c1: x1 };
	const y = { c0: y0, c1: y1 };
	return Fp2.eql(Fp2.sqr(y), Fp2.add(Fp2.mul(Fp2.sqr(x), x), G2_B));
}

export function encodeProof(proof: Groth16Proof): Bytes {
	const { a, b, c } = proof;
	const parts = [...a, ...b[0], ...b[1], ...c];
	ensure(
		parts.every((v) => v >= 0n && v < Fp.ORDER),
		'chameleon-proof',
		'a proof coordinate is not a field element'
	);
	return concatBytes(...parts.map((v) => bigIntToBytes(v, 32)));
}

/** Decodes canonical proof bytes: exactly 256 bytes, every coordinate < p, A and C on G1, B on G2's curve. */
export function decodeProof(bytes: Bytes): Groth16Proof {
	ensure(
		bytes.length === PROOF_LENGTH,
		'chameleon-proof',
		`a proof is ${PROOF_LENGTH} bytes, got ${bytes.length}`
	);
	const v = Array.from({ length: 8 }, (_, i) => bytesToBigInt(bytes.subarray(32 * i, 32 * i + 32)));
	ensure(
		v.every((c) => c < Fp.ORDER),
		'chameleon-proof',
		'a proof coordinate is not below the field modulus (non-canonical)'
	);
	const proof: Groth16Proof = {
		a: [v[0]!, v[1]!],
		b: [
			[v[2]!, v[3]!],
			[v[4]!, v[5]!]
		],
		c: [v[6]!, v[7]!]
	};
	ensure(onG1(proof.a), 'chameleon-proof', 'proof point A is not on the BN254 curve');
	ensure(onG2(proof.b), 'chameleon-proof', "proof point B is not on BN254's twist");
	ensure(onG1(proof.c), 'chameleon-proof', 'proof point C is not on the BN254 curve');
	return proof;
}
