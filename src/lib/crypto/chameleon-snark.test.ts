// Real proofs of the committed circuit and ceremony (static/snark/): made once in beforeAll, reused below.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bn254 } from '@noble/curves/bn254.js';
import { babyjubjub } from '@noble/curves/misc.js';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigIntToBytes, bytesToBigInt, bytesToHex, equalBytes } from '../core/bytes.ts';
import {
	SUBGROUP_ORDER as L,
	decodeProof,
	encodeProof,
	generateTrapdoor,
	hashKeyOf,
	initialLeafHash,
	messageFromDigest,
	pointSignals,
	publicSignals,
	decodePoint,
	type ChameleonStatement,
	type Trapdoor
} from '../core/chameleon.ts';
import { CHAMELEON_VKEY_HASH } from '../core/chameleon-params.ts';
import { ValidationError } from '../core/errors.ts';
import { sha256 } from '../core/hash.ts';
import { loadVerificationKey } from './artifacts.node.ts';
import { Groth16BatchVerifier } from './batch-verifier.ts';
import { proveCollision, proveHash, type ChameleonProver } from './chameleon-prover.ts';
import { proofFromSnarkjs, proofToSnarkjs } from './groth16.ts';
import { sharedMclPool } from './mcl-pool.ts';
import { createNodeProver } from './prover.node.ts';
import { verificationKeyHash, type VerificationKey } from './verification-key.ts';

const Point = babyjubjub.Point;
let prover: ChameleonProver;
let verifier: Groth16BatchVerifier;
let vkey: VerificationKey;
let key: Trapdoor;
let other: Trapdoor;
/** Hash of a ciphertext, its collision to another message, a hash of m = 0, a hash of a reduced m ≥ L. */
let hashed: ChameleonStatement;
let collided: ChameleonStatement;
let zero: ChameleonStatement;
let reduced: ChameleonStatement;
let secrets: { r: bigint; r2: bigint };
const ciphertext = new TextEncoder().encode('double-encrypted record: patient key, then clinic key');
const allOnes = new Uint8Array(32).fill(0xff);

beforeAll(async () => {
	prover = await createNodeProver();
	vkey = await loadVerificationKey();
	verifier = await Groth16BatchVerifier.create(vkey);
	key = generateTrapdoor();
	other = generateTrapdoor();
	const m = messageFromDigest(sha256(ciphertext));
	const first = await proveHash(prover, m, key.X);
	hashed = { hk: key.X, m, hash: first.hash };
	const m2 = messageFromDigest(sha256(new TextEncoder().encode('the corrected record')));
	const second = await proveCollision(prover, { x: key.x, X: key.X, h: first.hash.h, m, r: first.r }, m2);
	collided = { hk: key.X, m: m2, hash: second.hash };
	secrets = { r: first.r, r2: second.r };
	zero = { hk: other.X, m: 0n, hash: (await proveHash(prover, 0n, other.X)).hash };
	const big = messageFromDigest(allOnes);
	reduced = { hk: other.X, m: big, hash: (await proveHash(prover, big, other.X)).hash };
});

afterAll(async () => {
	await prover?.close();
});

const verify = async (statement: ChameleonStatement) => (await verifier.verifyAll([statement]))[0];

describe('chameleon hash with Groth16 proofs', () => {
	it('hash → verify, and the same statement through snarkjs verify', async () => {
		expect(await verify(hashed)).toBe(true);
		expect(await verifier.verifySingle(hashed)).toBe(true);
	});

	it('collision → verify for the same h', async () => {
		expect(equalBytes(collided.hash.h, hashed.hash.h)).toBe(true);
		expect(collided.m).not.toBe(hashed.m);
		expect(await verify(collided)).toBe(true);
	});

	it("a patient block leaf: h₀ = m₀·B (r = 0, no proof), then the institution's append as a proven collision", async () => {
		const m0 = messageFromDigest(sha256(new TextEncoder().encode('empty leaf')));
		const h0 = initialLeafHash(m0);
		const m1 = messageFromDigest(sha256(new TextEncoder().encode('leaf with one record')));
		const append = await proveCollision(prover, { x: key.x, X: key.X, h: h0, m: m0, r: 0n }, m1);
		expect(append.hash.h).toEqual(h0);
		expect(await verify({ hk: key.X, m: m1, hash: append.hash })).toBe(true);
		// Anyone else's trapdoor cannot append: its proof is for another key.
		expect(await verify({ hk: other.X, m: m1, hash: append.hash })).toBe(false);
	});

	it('m = 0 works, and a digest ≥ L is reduced and verifies; m + L does not', async () => {
		expect(await verify(zero)).toBe(true);
		expect(bytesToBigInt(allOnes) >= L).toBe(true);
		expect(reduced.m).toBe(bytesToBigInt(allOnes) % L);
		expect(await verify(reduced)).toBe(true);
		expect(await verify({ ...reduced, m: reduced.m + L })).toBe(false);
	});

	it('key exposure: two published collisions do not give x by Krawczyk–Rabin', async () => {
		// What the chain publishes: h, m, m′ and the two proofs. r and r′ never leave the institution.
		const published = [hashed.hash.h, hashed.hash.proof, collided.hash.proof];
		const chunks = published.flatMap((bytes) =>
			Array.from({ length: bytes.length / 32 }, (_, i) => bytes.subarray(32 * i, 32 * i + 32))
		);
		const scalars = chunks.flatMap((c) => [bytesToBigInt(c) % L, bytesToBigInt(c.slice().reverse()) % L]);
		expect(scalars).not.toContain(secrets.r);
		expect(scalars).not.toContain(secrets.r2);
		// Krawczyk–Rabin, x = (m − m′)/(r′ − r), applied to every pair of numbers the publications contain:
		const Fn = Point.Fn;
		const dm = Fn.sub(hashed.m, collided.m);
		let found = false;
		for (const r of scalars)
			for (const r2 of scalars)
				if (r !== r2 && equalBytes(hashKeyOf(Fn.div(dm, Fn.sub(r2, r))), key.X)) found = true;
		expect(found).toBe(false);
		// The same formula with the two openings a plain (proof-less) chameleon hash would publish:
		expect(Fn.div(dm, Fn.sub(secrets.r2, secrets.r))).toBe(key.x);
	});

	it('rejects a wrong m, a wrong h, and a tampered ciphertext', async () => {
		expect(await verify({ ...hashed, m: collided.m })).toBe(false);
		const tampered = ciphertext.slice();
		tampered[0]! ^= 1;
		expect(await verify({ ...hashed, m: messageFromDigest(sha256(tampered)) })).toBe(false);
		expect(await verify({ ...hashed, hash: { ...hashed.hash, h: zero.hash.h } })).toBe(false);
	});

	it('rejects a proof for another key', async () => {
		expect(await verify({ ...zero, hk: key.X })).toBe(false);
		expect(await verify({ ...hashed, hk: other.X })).toBe(false);
		expect(await verify({ ...hashed, hash: { ...hashed.hash, proof: zero.hash.proof } })).toBe(false);
	});

	it('rejects malformed and non-canonical proofs and points', async () => {
		const proof = hashed.hash.proof;
		const withProof = (bytes: Uint8Array) => ({ ...hashed, hash: { ...hashed.hash, proof: bytes } });
		const p = bn254.fields.Fp.ORDER;
		const alias = proof.slice();
		alias.set(bigIntToBytes(bytesToBigInt(proof.subarray(0, 32)) + p, 32), 0);
		const offCurve = proof.slice();
		offCurve[63]! ^= 1;
		const offCurveB = proof.slice();
		offCurveB[191]! ^= 1;
		const offCurveC = proof.slice();
		offCurveC[255]! ^= 1;
		// B on the twist but outside the order-r subgroup: the curve point (x = 1, y = √(1 + b′)) if it exists.
		const cases = [
			proof.subarray(0, 200),
			new Uint8Array(256),
			alias,
			offCurve,
			offCurveB,
			offCurveC,
			outsideG2(proof)
		];
		for (const bytes of cases) expect(await verify(withProof(bytes))).toBe(false);
		// A non-canonical h (y + p) and hash keys that are the identity or outside the subgroup.
		const y = decodePoint(hashed.hash.h, 'h').toAffine().y;
		// y < p < 2^254, so y + p still fits the 255 bits of the encoding: a second encoding of the same h.
		const aliasH = bigIntToBytes(y + Point.Fp.ORDER, 32).reverse();
		aliasH[31]! |= hashed.hash.h[31]! & 0x80;
		expect(await verify({ ...hashed, hash: { ...hashed.hash, h: aliasH } })).toBe(false);
		expect(await verify({ ...hashed, hk: Point.ZERO.toBytes() })).toBe(false);
		expect(
			await verify({ ...hashed, hk: Point.fromAffine({ x: 0n, y: Point.Fp.ORDER - 1n }).toBytes() })
		).toBe(false);
	});

	it('refuses to prove a statement with bad inputs (before any proving work)', async () => {
		await expect(prover.prove({ m: L, r: 1n, X: key.X })).rejects.toBeInstanceOf(ValidationError);
		await expect(prover.prove({ m: 1n, r: 1n, X: Point.ZERO.toBytes() })).rejects.toBeInstanceOf(
			ValidationError
		);
		await expect(
			proveCollision(prover, { x: other.x, X: key.X, h: hashed.hash.h, m: hashed.m, r: secrets.r }, 1n)
		).rejects.toThrow(/trapdoor/);
	});

	it('batch verification: 64 proofs pass together; one bad proof among 64 fails the batch and is found', async () => {
		const good = [hashed, collided, zero, reduced];
		const batch = Array.from({ length: 64 }, (_, i) => good[i % good.length]!);
		expect((await verifier.verifyAll(batch)).every(Boolean)).toBe(true);
		const bad = 37;
		batch[bad] = { ...batch[bad]!, m: batch[bad]!.m + 1n };
		const results = await verifier.verifyAll(batch);
		expect(results.flatMap((ok, i) => (ok ? [] : [i]))).toEqual([bad]);
		// Several bad ones, including malformed bytes that never reach the pairing.
		batch[5] = { ...batch[5]!, hash: { ...batch[5]!.hash, proof: new Uint8Array(3) } };
		batch[63] = { ...batch[63]!, hk: key.X === batch[63]!.hk ? other.X : key.X };
		const again = await verifier.verifyAll(batch);
		expect(again.flatMap((ok, i) => (ok ? [] : [i]))).toEqual([5, bad, 63]);
		expect(await verifier.verifyAll([])).toEqual([]);
	});

	it('the mcl path agrees with snarkjs groth16.verify (the reference) and the ffjavascript path, good and bad', async () => {
		expect(verifier.library).toBe('mcl');
		const ffjs = await Groth16BatchVerifier.create(vkey, undefined, { library: 'ffjavascript' });
		const inThread = await Groth16BatchVerifier.create(vkey, undefined, { workers: false });
		const proof = hashed.hash.proof;
		const withProof = (statement: ChameleonStatement, bytes: Uint8Array) => ({
			...statement,
			hash: { ...statement.hash, proof: bytes }
		});
		// −A: a valid point, a wrong proof. Another proof's B: in G2, wrong. B outside G2.
		const negA = proof.slice();
		negA.set(bigIntToBytes(bn254.fields.Fp.ORDER - bytesToBigInt(proof.subarray(32, 64)), 32), 32);
		const swappedB = proof.slice();
		swappedB.set(collided.hash.proof.subarray(64, 192), 64);
		// −C and another proof's C: valid points, wrong proofs.
		const negC = proof.slice();
		negC.set(bigIntToBytes(bn254.fields.Fp.ORDER - bytesToBigInt(proof.subarray(224, 256)), 32), 224);
		const swappedC = proof.slice();
		swappedC.set(collided.hash.proof.subarray(192, 256), 192);
		const cases: [ChameleonStatement, boolean][] = [
			[hashed, true],
			[collided, true],
			[zero, true],
			[reduced, true],
			[{ ...hashed, m: collided.m }, false],
			[{ ...hashed, hk: other.X }, false],
			[{ ...hashed, hash: { ...hashed.hash, h: zero.hash.h } }, false],
			[withProof(hashed, negA), false],
			[withProof(hashed, swappedB), false],
			[withProof(hashed, negC), false],
			[withProof(hashed, swappedC), false],
			[withProof(hashed, outsideG2(proof)), false],
			[withProof(hashed, zero.hash.proof), false]
		];
		for (const [statement, expected] of cases) {
			const reference = await snarkjs.groth16.verify(
				vkey,
				publicSignals(statement).map(String),
				proofToSnarkjs(decodeProof(statement.hash.proof))
			);
			expect(reference).toBe(expected);
			expect(await verify(statement)).toBe(expected);
			expect(await verifier.verifySingle(statement)).toBe(expected);
			expect((await ffjs.verifyAll([statement]))[0]).toBe(expected);
		}
		// All cases in one batch of 52, through the worker pool (once up), this thread, and ffjavascript.
		const pool = sharedMclPool()!;
		for (let wait = 0; pool.ready < pool.size && wait < 3000; wait++)
			await new Promise((r) => setTimeout(r, 20));
		expect(pool.ready).toBeGreaterThan(0);
		const batch = Array.from({ length: 52 }, (_, i) => cases[(i * 5) % cases.length]!);
		const expected = batch.map(([, ok]) => ok);
		const statements = batch.map(([statement]) => statement);
		expect(await verifier.verifyAll(statements)).toEqual(expected);
		expect(await inThread.verifyAll(statements)).toEqual(expected);
		expect(await ffjs.verifyAll(statements)).toEqual(expected);
	}, 120_000);

	it("refuses a verification key other than the consortium's, and proofs of another circuit", async () => {
		expect(bytesToHex(verificationKeyHash(vkey))).toBe(CHAMELEON_VKEY_HASH);
		const tampered = { ...vkey, vk_delta_2: vkey.vk_gamma_2 };
		await expect(Groth16BatchVerifier.create(tampered)).rejects.toMatchObject({ code: 'vkey-hash' });
		// A genesis that pins another key (another ceremony) refuses this one.
		await expect(Groth16BatchVerifier.create(vkey, 'ab'.repeat(32))).rejects.toMatchObject({
			code: 'vkey-hash'
		});

		// A forger's circuit with the same public signals and no constraint linking them: its own setup
		// makes a valid Groth16 proof for any statement. It must not count under the consortium's key.
		const forged = await forgedCircuitProof(hashed);
		expect(await snarkjs.groth16.verify(forged.vkey, forged.publicSignals, forged.proof)).toBe(true);
		const bytes = encodeProof(proofFromSnarkjs(forged.proof));
		expect(decodeProof(bytes)).toBeTruthy();
		expect(await verify({ ...hashed, hash: { ...hashed.hash, proof: bytes } })).toBe(false);
		await expect(Groth16BatchVerifier.create(forged.vkey as VerificationKey)).rejects.toMatchObject({
			code: 'vkey-hash'
		});
	}, 60_000);
});

/** Replaces B with a point on BN254's twist that is not in G2 (its order is not r). */
function outsideG2(proof: Uint8Array): Uint8Array {
	const Fp2 = bn254.fields.Fp2;
	const b = bn254.G2.Point.CURVE().b;
	for (let x0 = 1n; ; x0++) {
		const x = { c0: x0, c1: 0n };
		const rhs = Fp2.add(Fp2.mul(Fp2.sqr(x), x), b);
		let y;
		try {
			y = Fp2.sqrt(rhs);
		} catch {
			continue;
		}
		if (!y || !Fp2.eql(Fp2.sqr(y), rhs)) continue;
		if (bn254.G2.Point.fromAffine({ x, y }).isTorsionFree()) continue;
		const out = proof.slice();
		[x.c0, x.c1, y.c0, y.c1].forEach((v, i) => out.set(bigIntToBytes(v, 32), 64 + 32 * i));
		return out;
	}
}

async function forgedCircuitProof(statement: ChameleonStatement) {
	const dir = mkdtempSync(join(tmpdir(), 'spchain-forged-'));
	try {
		writeFileSync(
			join(dir, 'forged.circom'),
			`pragma circom 2.1.0;
template Forged() {
    signal input Xx; signal input Xy; signal input m; signal input fx; signal input fy;
    signal output hx; signal output hy;
    hx <== fx; hy <== fy;
}
component main { public [Xx, Xy, m] } = Forged();
`
		);
		const compiled = spawnSync(
			'npx',
			['circom2', join(dir, 'forged.circom'), '--r1cs', '--wasm', '-o', dir],
			{
				encoding: 'utf8'
			}
		);
		if (compiled.status !== 0) throw new Error(compiled.stderr);
		const curve = await snarkjs.curves.getCurveFromName('bn128');
		const f = (name: string) => join(dir, name);
		await snarkjs.powersOfTau.newAccumulator(curve, 4, f('0.ptau'));
		await snarkjs.powersOfTau.contribute(f('0.ptau'), f('1.ptau'), 'forger', 'forger entropy');
		await snarkjs.powersOfTau.preparePhase2(f('1.ptau'), f('final.ptau'));
		await snarkjs.zKey.newZKey(f('forged.r1cs'), f('final.ptau'), f('forged.zkey'));
		const [hx, hy] = pointSignals(decodePoint(statement.hash.h, 'h'));
		const [Xx, Xy] = pointSignals(decodePoint(statement.hk, 'X'));
		const { proof, publicSignals } = await snarkjs.groth16.fullProve(
			{ Xx, Xy, m: statement.m, fx: hx, fy: hy },
			f('forged_js/forged.wasm'),
			f('forged.zkey')
		);
		expect(publicSignals).toEqual([hx, hy, Xx, Xy, statement.m].map(String));
		return { proof, publicSignals, vkey: await snarkjs.zKey.exportVerificationKey(f('forged.zkey')) };
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}
