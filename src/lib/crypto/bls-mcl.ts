/**
 * BLS12-381 signing, verification and aggregation on herumi's mcl in WASM, installed as
 * core/consensus/bls.ts's back end: a vote's check costs one multi-Miller loop and final exponentiation
 * in WASM instead of @noble/curves' pure-TypeScript pairing (docs/consensus.md, Throughput).
 *
 * Its own mcl instance: mcl-wasm keeps one curve per WASM instance and the Groth16 verifier holds the
 * package's instance on BN254 (crypto/mcl.ts), so this file calls the package's module factory
 * (dist/mcl_c.js) for a second instance and initialises it on BLS12-381 with Ethereum's (ZCash) point
 * encoding, the one noble uses. Only the raw C API is used, with values kept as their internal bytes.
 *
 * Hash-to-curve is mcl's `hashAndMapToWithDst` (RFC 9380 with the caller's tag; the global `setDst`
 * is not used, so the tag travels with each call), its points kept for the checks that follow.
 * Equivalence with noble, both ways, hashing included, and on malformed input, is tested beside
 * this file.
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToBigInt, bytesToHex, type Bytes } from '../core/bytes.ts';
import { ValidationError } from '../core/errors.ts';
import { useBlsBackend, type BlsBackend } from '../core/consensus/bls.ts';

/** Sizes of mcl's internal values on BLS12-381 (6 × 64-bit limbs per Fp, 4 per Fr). */
const FP = 48;
const G1_SIZE = 3 * FP;
const G2_SIZE = 6 * FP;
const GT_SIZE = 12 * FP;
const FR_SIZE = 32;
const BLS12_381 = 5;
/** MCLBN_FR_UNIT_SIZE * 10 + MCLBN_FP_UNIT_SIZE: the ABI check mcl's init makes. */
const COMPILED_TIME_VAR = 4 * 10 + 6;

interface Raw {
	HEAP8: Int8Array;
	stackSave(): number;
	stackAlloc(size: number): number;
	stackRestore(position: number): void;
	_mclBn_init(curve: number, compiledTimeVar: number): number;
	_mclBn_setETHserialization(on: number): void;
	_mclBn_verifyOrderG1(on: number): void;
	_mclBn_verifyOrderG2(on: number): void;
	_mclBnG1_deserialize(out: number, buffer: number, size: number): number;
	_mclBnG2_deserialize(out: number, buffer: number, size: number): number;
	_mclBnG2_serialize(buffer: number, max: number, value: number): number;
	_mclBnG2_hashAndMapToWithDst(
		out: number,
		message: number,
		size: number,
		dst: number,
		dstSize: number
	): number;
	_mclBnG1_isZero(value: number): number;
	_mclBnG1_add(out: number, x: number, y: number): void;
	_mclBnG1_neg(out: number, x: number): void;
	_mclBnG2_add(out: number, x: number, y: number): void;
	_mclBnG2_mul(out: number, x: number, scalar: number): void;
	_mclBnFr_setBigEndianMod(out: number, buffer: number, size: number): number;
	_mclBn_millerLoopVec(out: number, g1s: number, g2s: number, n: number): void;
	_mclBn_finalExp(out: number, x: number): void;
	_mclBnGT_isOne(value: number): number;
}

/** Keeps at most `limit` entries; cleared when full (the working sets are small and repeat). */
class Bounded<V> extends Map<string, V> {
	constructor(private readonly limit: number) {
		super();
	}
	override set(key: string, value: V): this {
		if (this.size >= this.limit) this.clear();
		return super.set(key, value);
	}
}

export async function createMclBlsBackend(): Promise<BlsBackend> {
	// Imported when a node starts, not with the page: the module is ~600 KB (its WASM inlined).
	const { default: createModule } = await import('mcl-wasm/dist/mcl_c.js');
	const raw = (await createModule({
		cryptoGetRandomValues: (a: Uint8Array) => crypto.getRandomValues(a)
	})) as Raw;
	const code = raw._mclBn_init(BLS12_381, COMPILED_TIME_VAR);
	if (code !== 0) throw new Error(`mcl could not start on BLS12-381 (error ${code})`);
	raw._mclBn_setETHserialization(1);
	// Untrusted points are decoded with the prime-order subgroup check on.
	raw._mclBn_verifyOrderG1(1);
	raw._mclBn_verifyOrderG2(1);

	const heap = () => new Uint8Array(raw.HEAP8.buffer);
	/** Runs `fn` with mcl's stack restored afterwards, whatever happens. */
	const onStack = <T>(fn: () => T): T => {
		const saved = raw.stackSave();
		try {
			return fn();
		} finally {
			raw.stackRestore(saved);
		}
	};
	const put = (bytes: Uint8Array): number => {
		const at = raw.stackAlloc(bytes.length);
		heap().set(bytes, at);
		return at;
	};
	const read = (at: number, length: number): Uint8Array => heap().slice(at, at + length);

	const decodeG1 = (publicKey: Bytes): Uint8Array =>
		onStack(() => {
			const input = put(publicKey);
			const out = raw.stackAlloc(G1_SIZE);
			if (raw._mclBnG1_deserialize(out, input, publicKey.length) !== publicKey.length)
				throw new ValidationError('bls-public-key', 'invalid BLS public key: not a point of G1');
			if (raw._mclBnG1_isZero(out))
				throw new ValidationError('bls-public-key', 'invalid BLS public key: identity');
			return read(out, G1_SIZE);
		});
	const decodeG2 = (signature: Bytes): Uint8Array =>
		onStack(() => {
			const input = put(signature);
			const out = raw.stackAlloc(G2_SIZE);
			if (raw._mclBnG2_deserialize(out, input, signature.length) !== signature.length)
				throw new ValidationError('bls-signature', 'invalid BLS signature encoding: not a point of G2');
			return read(out, G2_SIZE);
		});
	const publicKeys = new Bounded<Uint8Array>(4096);
	const publicKeyPoint = (publicKey: Bytes): Uint8Array => {
		if (publicKey.length !== 48)
			throw new ValidationError('bls-public-key', 'BLS public key must be 48 bytes');
		const key = bytesToHex(publicKey);
		let point = publicKeys.get(key);
		if (!point) publicKeys.set(key, (point = decodeG1(publicKey)));
		return point;
	};
	const signaturePoint = (signature: Bytes): Uint8Array => {
		if (signature.length !== 96) throw new ValidationError('bls-signature', 'BLS signature must be 96 bytes');
		return decodeG2(signature);
	};
	/** H(m) (compressed, 96 bytes) from `hash` below: our own hash-to-curve output, so no subgroup check. */
	const hashes = new Bounded<Uint8Array>(4096);
	const hashPoint = (hash: Bytes): Uint8Array => {
		const key = bytesToHex(hash);
		let point = hashes.get(key);
		if (!point) {
			raw._mclBn_verifyOrderG2(0);
			try {
				point = onStack(() => {
					const input = put(hash);
					const out = raw.stackAlloc(G2_SIZE);
					if (raw._mclBnG2_deserialize(out, input, hash.length) !== hash.length)
						throw new Error('mcl refused a hashed message (96-byte compressed G2 expected)');
					return read(out, G2_SIZE);
				});
			} finally {
				raw._mclBn_verifyOrderG2(1);
			}
			hashes.set(key, point);
		}
		return point;
	};
	// The standard generator (noble's G1.BASE): mcl's own base point on BLS12-381 is another one.
	const generator = decodeG1(bls12_381.G1.Point.BASE.toBytes(true));
	const serializeG2 = (at: number): Bytes => {
		const out = raw.stackAlloc(96);
		if (raw._mclBnG2_serialize(out, 96, at) !== 96) throw new Error('mcl could not encode a G2 point');
		return read(out, 96);
	};

	const tags = new Map<string, Uint8Array>();
	const tagBytes = (dst: string): Uint8Array => {
		let bytes = tags.get(dst);
		if (!bytes) tags.set(dst, (bytes = new TextEncoder().encode(dst)));
		return bytes;
	};

	return {
		name: 'mcl (WASM)',
		hash(message, dst) {
			return onStack(() => {
				const tag = tagBytes(dst);
				const out = raw.stackAlloc(G2_SIZE);
				const input = put(message);
				if (raw._mclBnG2_hashAndMapToWithDst(out, input, message.length, put(tag), tag.length) !== 0)
					throw new Error('mcl could not hash a message to G2');
				const hash = serializeG2(out);
				// The check that follows finds the point without decoding it again.
				hashes.set(bytesToHex(hash), read(out, G2_SIZE));
				return hash;
			});
		},
		sign(secretKey, hash) {
			// As noble: a secret key is 32 big-endian bytes of a scalar in [1, r), never reduced.
			const scalarValue = secretKey.length === FR_SIZE ? bytesToBigInt(secretKey) : 0n;
			if (scalarValue === 0n || scalarValue >= bls12_381.fields.Fr.ORDER)
				throw new ValidationError('bls-secret-key', 'a BLS secret key is a 32-byte scalar in [1, r)');
			return onStack(() => {
				const scalar = raw.stackAlloc(FR_SIZE);
				const key = put(secretKey);
				if (raw._mclBnFr_setBigEndianMod(scalar, key, secretKey.length) !== 0)
					throw new ValidationError('bls-secret-key', 'invalid BLS secret key');
				heap().fill(0, key, key + secretKey.length);
				const h = put(hashPoint(hash));
				const out = raw.stackAlloc(G2_SIZE);
				raw._mclBnG2_mul(out, h, scalar);
				heap().fill(0, scalar, scalar + FR_SIZE);
				return serializeG2(out);
			});
		},
		verify(keys, hash, signature) {
			const sig = signaturePoint(signature);
			const points = keys.map(publicKeyPoint);
			const h = hashPoint(hash);
			return onStack(() => {
				// e(g1, σ) · e(−Σ pk, H) = 1, as one multi-Miller loop and one final exponentiation.
				const g1s = raw.stackAlloc(2 * G1_SIZE);
				const g2s = raw.stackAlloc(2 * G2_SIZE);
				heap().set(generator, g1s);
				const sum = put(points[0]!);
				for (const point of points.slice(1)) raw._mclBnG1_add(sum, sum, put(point));
				if (raw._mclBnG1_isZero(sum)) return false;
				raw._mclBnG1_neg(g1s + G1_SIZE, sum);
				heap().set(sig, g2s);
				heap().set(h, g2s + G2_SIZE);
				const miller = raw.stackAlloc(GT_SIZE);
				raw._mclBn_millerLoopVec(miller, g1s, g2s, 2);
				raw._mclBn_finalExp(miller, miller);
				return raw._mclBnGT_isOne(miller) === 1;
			});
		},
		aggregate(signatures) {
			const points = signatures.map(signaturePoint);
			return onStack(() => {
				const sum = put(points[0]!);
				for (const point of points.slice(1)) raw._mclBnG2_add(sum, sum, put(point));
				return serializeG2(sum);
			});
		},
		assertPublicKey(publicKey) {
			publicKeyPoint(publicKey);
		}
	};
}

let loading: Promise<BlsBackend> | undefined;

/** Starts the mcl back end once per realm and makes every BLS operation in it use that back end. */
export async function installMclBls(): Promise<BlsBackend> {
	loading ??= createMclBlsBackend();
	loading.catch(() => (loading = undefined));
	const backend = await loading;
	useBlsBackend(backend);
	return backend;
}
