import { babyjubjub } from '@noble/curves/misc.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { bigIntToBytes } from '../core/bytes.ts';
import { decodePoint } from '../core/chameleon.ts';
import { ValidationError } from '../core/errors.ts';
import { createMclPointDecoder } from './babyjubjub-mcl.ts';
import { loadMcl } from './mcl.ts';

const Point = babyjubjub.Point;
let decode: (bytes: Uint8Array, what: string) => [bigint, bigint];

beforeAll(async () => {
	decode = createMclPointDecoder(await loadMcl());
});

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

describe('mcl Baby Jubjub decoder', () => {
	it('agrees with the core decoder on points, their negations, and bad encodings', () => {
		const inputs: Uint8Array[] = [];
		for (let k = 1n; k < 60n; k++) {
			const point = Point.BASE.multiply(k * 987654321n);
			inputs.push(point.toBytes(), point.negate().toBytes());
		}
		inputs.push(Point.ZERO.toBytes(), Point.fromAffine({ x: 0n, y: Point.Fp.ORDER - 1n }).toBytes());
		for (let y = 0n; y < 40n; y++) {
			const bytes = bigIntToBytes(y, 32).reverse();
			inputs.push(
				bytes,
				Uint8Array.from(bytes, (b, i) => (i === 31 ? b | 0x80 : b))
			);
		}
		inputs.push(bigIntToBytes(5n + Point.Fp.ORDER, 32).reverse(), new Uint8Array(31));
		for (const bytes of inputs)
			expect(outcome(() => decode(bytes, 'h'))).toBe(
				outcome(() => decodePoint(bytes, 'h', false).toAffine())
			);
	});
});
