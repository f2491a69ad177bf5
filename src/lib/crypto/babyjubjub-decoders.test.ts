/**
 * The verifiers' Baby Jubjub point decoders (ffjavascript's WASM field and mcl's) against the core
 * decoder: the same coordinates for every valid encoding, the same ValidationError code for every bad one.
 */
import { babyjubjub } from '@noble/curves/misc.js';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigIntToBytes } from '../core/bytes.ts';
import { decodePoint } from '../core/chameleon.ts';
import { ValidationError } from '../core/errors.ts';
import { createMclPointDecoder } from './babyjubjub-mcl.ts';
import { createPointDecoder } from './babyjubjub-wasm.ts';
import { loadMcl } from './mcl.ts';
import { terminateCurve } from './snark.node.ts';

type Decoder = (bytes: Uint8Array, what: string) => [bigint, bigint];
const Point = babyjubjub.Point;
const decoders: Record<string, Decoder> = {};

beforeAll(async () => {
	decoders.wasm = createPointDecoder(await snarkjs.curves.getCurveFromName('bn128'));
	decoders.mcl = createMclPointDecoder(await loadMcl());
});
afterAll(terminateCurve);

/** Outcome of a decoder: the affine coordinates or the ValidationError code. */
function outcome(fn: () => { x: bigint; y: bigint } | [bigint, bigint]): string {
	try {
		const r = fn();
		return Array.isArray(r) ? `${r[0]},${r[1]}` : `${r.x},${r.y}`;
	} catch (error) {
		expect(error).toBeInstanceOf(ValidationError);
		return (error as ValidationError).code;
	}
}

function inputs(): Uint8Array[] {
	const all: Uint8Array[] = [];
	for (let k = 1n; k < 60n; k++) {
		const point = Point.BASE.multiply(k * 987654321n);
		all.push(point.toBytes(), point.negate().toBytes());
	}
	all.push(Point.ZERO.toBytes(), Point.fromAffine({ x: 0n, y: Point.Fp.ORDER - 1n }).toBytes());
	for (let y = 0n; y < 40n; y++) {
		const bytes = bigIntToBytes(y, 32).reverse();
		all.push(
			bytes,
			Uint8Array.from(bytes, (b, i) => (i === 31 ? b | 0x80 : b))
		);
	}
	all.push(bigIntToBytes(5n + Point.Fp.ORDER, 32).reverse(), new Uint8Array(31));
	return all;
}

describe.each(['wasm', 'mcl'])('%s Baby Jubjub decoder', (name) => {
	it('agrees with the core decoder on points, their negations, and bad encodings', () => {
		for (const bytes of inputs())
			expect(outcome(() => decoders[name]!(bytes, 'h'))).toBe(
				outcome(() => decodePoint(bytes, 'h', false).toAffine())
			);
	});
});
