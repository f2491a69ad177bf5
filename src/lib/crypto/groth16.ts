/**
 * Conversions between snarkjs's Groth16 JSON (projective coordinates as decimal strings) and the core's
 * affine Groth16Proof, whose canonical 256-byte encoding travels in transactions (core/chameleon.ts).
 */
import type { Groth16ProofJson } from 'snarkjs';
import { ValidationError } from '../core/errors.ts';
import type { Groth16Proof } from '../core/chameleon.ts';

const n = (value: string) => BigInt(value);

/** snarkjs emits affine points (z = 1); anything else is not a proof this project produced. */
export function proofFromSnarkjs(json: Groth16ProofJson): Groth16Proof {
	const { pi_a, pi_b, pi_c } = json;
	const affine = pi_a[2] === '1' && pi_c[2] === '1' && pi_b[2][0] === '1' && pi_b[2][1] === '0';
	if (!affine) throw new ValidationError('chameleon-proof', 'snarkjs proof is not in affine form');
	return {
		a: [n(pi_a[0]), n(pi_a[1])],
		b: [
			[n(pi_b[0][0]), n(pi_b[0][1])],
			[n(pi_b[1][0]), n(pi_b[1][1])]
		],
		c: [n(pi_c[0]), n(pi_c[1])]
	};
}

export function proofToSnarkjs(proof: Groth16Proof): Groth16ProofJson {
	const s = (value: bigint) => value.toString();
	return {
		pi_a: [s(proof.a[0]), s(proof.a[1]), '1'],
		pi_b: [
			[s(proof.b[0][0]), s(proof.b[0][1])],
			[s(proof.b[1][0]), s(proof.b[1][1])],
			['1', '0']
		],
		pi_c: [s(proof.c[0]), s(proof.c[1]), '1'],
		protocol: 'groth16',
		curve: 'bn128'
	};
}
