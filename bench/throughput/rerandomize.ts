/**
 * Fresh, equally valid Groth16 proofs from a valid one: (A, B, C) → (A, B + s·δ, C + s·A) for any s,
 * since e(A, B + s·δ) = e(A, B)·e(s·A, δ) and e(C + s·A, δ) = e(C, δ)·e(s·A, δ), so the verification
 * equation e(A, B) = e(α, β)·e(Lₓ, γ)·e(C, δ) still holds. A node keeps its proof verdicts by statement
 * (runtime/verdict-cache.ts), so transactions reusing the bench's 48 pooled proofs byte for byte would
 * be verified only 48 times per node in all; with s = 1, 2, 3… per pool entry, every transaction's proof
 * is a statement the node has not seen, as with proofs made one by one. Each step costs one point
 * addition in G1 and one in G2 (a full re-randomisation, r·B, would cost ~0.1 s here in @noble/curves).
 */
import { bn254 } from '@noble/curves/bn254.js';
import { bytesToHex } from '../../src/lib/core/bytes.ts';
import { decodeProof, encodeProof } from '../../src/lib/core/chameleon.ts';
import type { VerificationKey } from '../../src/lib/crypto/verification-key.ts';

const G1 = bn254.G1.Point;
const G2 = bn254.G2.Point;
type G1Point = InstanceType<typeof G1>;
type G2Point = InstanceType<typeof G2>;

export class ProofVariants {
	private readonly delta: G2Point;
	/** Per pooled proof: A, and the last variant's B and C. */
	private readonly last = new Map<string, { a: G1Point; b: G2Point; c: G1Point }>();

	constructor(vkey: VerificationKey) {
		const [[x0, x1], [y0, y1]] = vkey.vk_delta_2;
		this.delta = G2.fromAffine({
			x: { c0: BigInt(x0), c1: BigInt(x1) },
			y: { c0: BigInt(y0), c1: BigInt(y1) }
		});
	}

	/** The next variant of `proof` (never the same bytes twice, nor the proof itself). */
	next(proof: Uint8Array): Uint8Array {
		const key = bytesToHex(proof);
		let state = this.last.get(key);
		if (!state) {
			const { a, b, c } = decodeProof(proof);
			state = {
				a: G1.fromAffine({ x: a[0], y: a[1] }),
				b: G2.fromAffine({ x: { c0: b[0][0], c1: b[0][1] }, y: { c0: b[1][0], c1: b[1][1] } }),
				c: G1.fromAffine({ x: c[0], y: c[1] })
			};
			this.last.set(key, state);
		}
		state.b = state.b.add(this.delta);
		state.c = state.c.add(state.a);
		const A = state.a.toAffine();
		const B = state.b.toAffine();
		const C = state.c.toAffine();
		return encodeProof({
			a: [A.x, A.y],
			b: [
				[B.x.c0, B.x.c1],
				[B.y.c0, B.y.c1]
			],
			c: [C.x, C.y]
		});
	}
}
