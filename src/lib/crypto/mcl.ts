/**
 * herumi's mcl (npm mcl-wasm) on BN254 (`BN_SNARK1`, the alt_bn128 curve snarkjs uses), loaded on first
 * use, and conversions from the affine coordinates the verifier decodes (core decodeProof: BigInt,
 * Fp2 = c0 + c1·u) to mcl's values. mcl's Miller loop costs about half of ffjavascript's, which is why the
 * batch verifier uses it (docs/chameleon-hash.md, Measured).
 *
 * `loadMcl()` imports mcl-wasm dynamically, so its ~600 KB module (WASM inlined as base64) is a chunk of
 * its own in the browser, fetched only when a verifier is created, and initialises it once per realm
 * (mcl-wasm keeps its WASM instance in module state). It runs on the calling thread and starts no
 * workers, so nothing keeps a Node process alive.
 *
 * Conversions: mcl's Fp2 is a + b·u, so c0 → a, c1 → b; values enter as little-endian bytes through
 * `deserialize`, which refuses anything ≥ the modulus (the decoders already checked; this is a second
 * guard). Points are set in Jacobian form with Z = 1. No conversion checks curve membership: callers pass
 * points decodeProof has checked.
 */
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type * as McL from 'mcl-wasm';

export type Mcl = typeof McL;
export type { Fp, Fp2, Fr, G1, G2, GT } from 'mcl-wasm';

/** Words of mcl's internal buffers; raw WASM exports used by mcl-multi-pairing.ts and mcl-g2-subgroup.ts. */
export interface McLRaw {
	stackSave(): number;
	stackRestore(position: number): void;
	salloc(words: Uint32Array): number;
	sallocArray(words: Uint32Array[]): number;
	copyFromHeap32(words: Uint32Array, position: number): void;
	_mclBn_millerLoopVec(gt: number, g1s: number, g2s: number, n: number): void;
	/** Heap memory that outlives a call (mcl-g2-subgroup.ts keeps one scratch area per realm). */
	_malloc(bytes: number): number;
	HEAP32: Int32Array;
	_mclBnFp_neg(out: number, x: number): void;
	_mclBnFp2_mul(out: number, x: number, y: number): void;
	_mclBnG2_mul(out: number, point: number, scalar: number): void;
	_mclBnG2_add(out: number, x: number, y: number): void;
	_mclBnG2_dbl(out: number, x: number): void;
	_mclBnG2_isZero(point: number): number;
	_mclBnG2_isEqual(x: number, y: number): number;
}

/** BN254's group order r (= Baby Jubjub's base field) and base field p. */
export const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
export const P = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

let loading: Promise<Mcl> | undefined;

export function loadMcl(): Promise<Mcl> {
	loading ??= (async () => {
		const module = await import('mcl-wasm');
		// A CommonJS package: its live exports object is the default export (`mod` is set by init).
		const mcl = ((module as { default?: Mcl }).default ?? module) as Mcl;
		await mcl.init(mcl.BN_SNARK1);
		return mcl;
	})();
	loading.catch(() => (loading = undefined));
	return loading;
}

/** mcl-wasm's raw module (exported as `mod`, absent from its typings): valid once loadMcl resolved. */
export function rawMcl(mcl: Mcl): McLRaw {
	return (mcl as unknown as { mod: McLRaw }).mod;
}

/** The words of an mcl value (its internal `a_`, copied to the WASM stack by every mcl call). */
export function words(value: McL.G1 | McL.G2 | McL.GT | McL.Fp2 | McL.Fr): Uint32Array {
	return (value as unknown as { a_: Uint32Array }).a_;
}

/**
 * `value` (0 ≤ value < 2^(8·length)) as little-endian bytes. Through hex: a byte-by-byte loop of BigInt
 * shifts allocated a BigInt per byte and was a visible part of the verifier's cost per proof.
 */
export function littleEndian(value: bigint, length = 32): Uint8Array {
	return hexToBytes(value.toString(16).padStart(2 * length, '0')).reverse();
}

export function fromLittleEndian(bytes: Uint8Array): bigint {
	return bytes.length === 0 ? 0n : BigInt('0x' + bytesToHex(bytes.slice().reverse()));
}

export function fp(mcl: Mcl, value: bigint): McL.Fp {
	const out = new mcl.Fp();
	out.deserialize(littleEndian(value));
	return out;
}

/** An element of Fr (BN254's scalar field); `value` in [0, r). */
export function fr(mcl: Mcl, value: bigint): McL.Fr {
	const out = new mcl.Fr();
	out.deserialize(littleEndian(value));
	return out;
}

export function frToBigInt(value: McL.Fr): bigint {
	return fromLittleEndian(value.serialize());
}

export function fp2(mcl: Mcl, [c0, c1]: readonly [bigint, bigint]): McL.Fp2 {
	const out = new mcl.Fp2();
	out.set_a(fp(mcl, c0));
	out.set_b(fp(mcl, c1));
	return out;
}

export function g1(mcl: Mcl, [x, y]: readonly [bigint, bigint]): McL.G1 {
	const out = new mcl.G1();
	out.setX(fp(mcl, x));
	out.setY(fp(mcl, y));
	out.setZ(fp(mcl, 1n));
	return out;
}

export function g2(
	mcl: Mcl,
	[x, y]: readonly [readonly [bigint, bigint], readonly [bigint, bigint]]
): McL.G2 {
	const out = new mcl.G2();
	out.setX(fp2(mcl, x));
	out.setY(fp2(mcl, y));
	out.setZ(fp2(mcl, [1n, 0n]));
	return out;
}

/** Affine coordinates of a G2 point (the identity has none: undefined), as [[x.c0, x.c1], [y.c0, y.c1]]. */
export function g2Affine(mcl: Mcl, point: McL.G2): [[bigint, bigint], [bigint, bigint]] | undefined {
	if (point.isZero()) return undefined;
	const n = mcl.normalize(point);
	const pair = (v: McL.Fp2): [bigint, bigint] => [
		fromLittleEndian(v.get_a().serialize()),
		fromLittleEndian(v.get_b().serialize())
	];
	return [pair(n.getX()), pair(n.getY())];
}
