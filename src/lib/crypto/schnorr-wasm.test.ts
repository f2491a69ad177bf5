/**
 * The WASM BIP-340 verifier must accept exactly what @noble/curves accepts: the standard vectors
 * (BIP-340's test-vectors.csv, 32-byte messages), random valid signatures, and every kind of mutation
 * (one flipped bit anywhere, random bytes, out-of-range R, s and keys). And once installed, the core's
 * verifySignature (what transaction, keyblock and consent checks call) answers through it.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex } from '../core/bytes.ts';
import {
	nobleSignatureVerifier,
	signatureVerifierName,
	useSignatureVerifier,
	verifySignature,
	type SignatureVerifier
} from '../core/identity.ts';
import { installSchnorrWasm, loadSchnorrWasmVerifier } from './schnorr-wasm.node.ts';

/** BIP-340 test vectors 0–14 (bitcoin/bips bip-0340/test-vectors.csv): key, message, signature, result. */
const VECTORS: [string, string, string, boolean][] = [
	[
		'F9308A019258C31049344F85F89D5229B531C845836F99B08601F113BCE036F9',
		'0000000000000000000000000000000000000000000000000000000000000000',
		'E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA821525F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0',
		true
	],
	[
		'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659',
		'243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89',
		'6896BD60EEAE296DB48A229FF71DFE071BDE413E6D43F917DC8DCF8C78DE33418906D11AC976ABCCB20B091292BFF4EA897EFCB639EA871CFA95F6DE339E4B0A',
		true
	],
	[
		'DD308AFEC5777E13121FA72B9CC1B7CC0139715309B086C960E18FD969774EB8',
		'7E2D58D8B3BCDF1ABADEC7829054F90DDA9805AAB56C77333024B9D0A508B75C',
		'5831AAEED7B44BB74E5EAB94BA9D4294C49BCF2A60728D8B4C200F50DD313C1BAB745879A5AD954A72C45A91C3A51D3C7ADEA98D82F8481E0E1E03674A6F3FB7',
		true
	],
	[
		'25D1DFF95105F5253C4022F628A996AD3A0D95FBF21D468A1B33F8C160D8F517',
		'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF',
		'7EB0509757E246F19449885651611CB965ECC1A187DD51B64FDA1EDC9637D5EC97582B9CB13DB3933705B32BA982AF5AF25FD78881EBB32771FC5922EFC66EA3',
		true
	],
	[
		'D69C3509BB99E412E68B0FE8544E72837DFA30746D8BE2AA65975F29D22DC7B9',
		'4DF3C3F68FCC83B27E9D42C90431A72499F17875C81A599B566C9889B9696703',
		'00000000000000000000003B78CE563F89A0ED9414F5AA28AD0D96D6795F9C6376AFB1548AF603B3EB45C9F8207DEE1060CB71C04E80F593060B07D28308D7F4',
		true
	],
	[
		'EEFDEA4CDB677750A420FEE807EACF21EB9898AE79B9768766E4FAA04A2D4A34',
		'243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89',
		'6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E17776969E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B',
		false
	],
	[
		'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659',
		'243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89',
		'FFF97BD5755EEEA420453A14355235D382F6472F8568A18B2F057A14602975563CC27944640AC607CD107AE10923D9EF7A73C643E166BE5EBEAFA34B1AC553E2',
		false
	],
	[
		'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659',
		'243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89',
		'1FA62E331EDBC21C394792D2AB1100A7B432B013DF3F6FF4F99FCB33E0E1515F28890B3EDB6E7189B630448B515CE4F8622A954CFE545735AAEA5134FCCDB2BD',
		false
	],
	[
		'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659',
		'243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89',
		'6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E177769961764B3AA9B2FFCB6EF947B6887A226E8D7C93E00C5ED0C1834FF0D0C2E6DA6',
		false
	],
	[
		'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659',
		'243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89',
		'0000000000000000000000000000000000000000000000000000000000000000123DDA8328AF9C23A94C1FEECFD123BA4FB73476F0D594DCB65C6425BD186051',
		false
	],
	[
		'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659',
		'243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89',
		'00000000000000000000000000000000000000000000000000000000000000017615FBAF5AE28864013C099742DEADB4DBA87F11AC6754F93780D5A1837CF197',
		false
	],
	[
		'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659',
		'243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89',
		'4A298DACAE57395A15D0795DDBFD1DCB564DA82B0F269BC70A74F8220429BA1D69E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B',
		false
	],
	[
		'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659',
		'243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89',
		'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F69E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B',
		false
	],
	[
		'DFF1D77F2A671C5F36183726DB2341BE58FEAE1DA2DECED843240F7B502BA659',
		'243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89',
		'6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E177769FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141',
		false
	],
	[
		'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC30',
		'243F6A8885A308D313198A2E03707344A4093822299F31D0082EFA98EC4E6C89',
		'6CFF5C3BA86C69EA4B7376F31A9BCB4F74C1976089B2D9963DA2E5543E17776969E89B4C5564D00349106B8497785DD7D1D713A8AE82B32FA79D5F7FC407D39B',
		false
	]
];

const hex = (s: string) => fromHex(s.toLowerCase());
const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
/** Big-endian 32 bytes of a value (for out-of-range R, s and keys). */
const be32 = (value: bigint) => hex(value.toString(16).padStart(64, '0'));
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

let wasm: SignatureVerifier;
beforeAll(async () => {
	wasm = await loadSchnorrWasmVerifier();
});
afterAll(() => useSignatureVerifier(undefined));

function same(publicKey: Uint8Array, digest: Uint8Array, signature: Uint8Array): boolean {
	const reference = nobleSignatureVerifier.verify(publicKey, digest, signature);
	expect(wasm.verify(publicKey, digest, signature)).toBe(reference);
	return reference;
}

describe('libsecp256k1 (WASM) BIP-340 verification', () => {
	it('gives the expected result on every standard vector, as noble does', () => {
		for (const [publicKey, message, signature, expected] of VECTORS) {
			expect(wasm.verify(hex(publicKey), hex(message), hex(signature))).toBe(expected);
			expect(same(hex(publicKey), hex(message), hex(signature))).toBe(expected);
		}
	});

	it('accepts random valid signatures and rejects each one-bit mutation of key, digest or signature', () => {
		fc.assert(
			fc.property(bytes(32), bytes(32), bytes(32), fc.nat(1023), (seed, digest, aux, bit) => {
				const secretKey = schnorr.utils.randomSecretKey(new Uint8Array([...seed, ...seed.slice(0, 16)]));
				const publicKey = schnorr.getPublicKey(secretKey);
				const signature = schnorr.sign(digest, secretKey, aux);
				expect(same(publicKey, digest, signature)).toBe(true);
				// Flip one bit of the 128 bytes (key ‖ digest ‖ signature).
				const all = new Uint8Array([...publicKey, ...digest, ...signature]);
				all[bit >> 3]! ^= 1 << (bit & 7);
				expect(same(all.subarray(0, 32), all.subarray(32, 64), all.subarray(64, 128))).toBe(false);
			}),
			{ numRuns: 300 }
		);
	});

	it('agrees on arbitrary bytes and on out-of-range R, s and keys', () => {
		fc.assert(
			fc.property(bytes(32), bytes(32), bytes(64), (publicKey, digest, signature) => {
				same(publicKey, digest, signature);
			}),
			{ numRuns: 500 }
		);
		const secretKey = schnorr.utils.randomSecretKey();
		const publicKey = schnorr.getPublicKey(secretKey);
		const digest = new Uint8Array(32).fill(7);
		const signature = schnorr.sign(digest, secretKey);
		const r = signature.subarray(0, 32);
		const s = signature.subarray(32);
		for (const badR of [P, P + 1n, 2n ** 256n - 1n, 0n])
			expect(same(publicKey, digest, new Uint8Array([...be32(badR), ...s]))).toBe(false);
		for (const badS of [N, N + 1n, 2n ** 256n - 1n])
			expect(same(publicKey, digest, new Uint8Array([...r, ...be32(badS)]))).toBe(false);
		for (const badKey of [0n, P, P + 1n, 2n ** 256n - 1n])
			expect(same(be32(badKey), digest, signature)).toBe(false);
		// The untouched signature still verifies: each rejection above is the bad value's doing.
		expect(same(publicKey, digest, signature)).toBe(true);
	});

	it('answers wrong lengths with false, never an exception', () => {
		expect(wasm.verify(new Uint8Array(33), new Uint8Array(32), new Uint8Array(64))).toBe(false);
		expect(wasm.verify(new Uint8Array(32), new Uint8Array(31), new Uint8Array(64))).toBe(false);
		expect(wasm.verify(new Uint8Array(32), new Uint8Array(32), new Uint8Array(65))).toBe(false);
	});

	it('is what the core verifySignature uses once installed', async () => {
		const secretKey = schnorr.utils.randomSecretKey();
		const publicKey = schnorr.getPublicKey(secretKey);
		const digest = new Uint8Array(32).fill(1);
		const signature = schnorr.sign(digest, secretKey);
		await installSchnorrWasm();
		expect(signatureVerifierName()).toBe('libsecp256k1 (WASM)');
		expect(verifySignature(publicKey, digest, signature)).toBe(true);
		signature[5]! ^= 1;
		expect(verifySignature(publicKey, digest, signature)).toBe(false);
		// Other message lengths are BIP-340 too and go to noble, whichever back end is installed.
		const message = new Uint8Array(5).fill(3);
		expect(verifySignature(publicKey, message, schnorr.sign(message, secretKey))).toBe(true);
		useSignatureVerifier(undefined);
		expect(signatureVerifierName()).toBe('@noble/curves');
	});
});
