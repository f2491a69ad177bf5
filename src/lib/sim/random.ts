/**
 * Seeded randomness for the simulator: every scenario is a pure function of its parameters and a seed,
 * so the same seed gives the same CSV on every machine (Node CLI, page, tests).
 * Uniform bits come from pure-rand's xoroshiro128+; the few distributions the scenarios need are
 * built on it here. Independent streams (`fork`) keep one part of a run (e.g. race coin flips) from
 * shifting another (who mines the next block) when a parameter changes, so runs stay comparable.
 */
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export interface Random {
	/** Uniform in [0, 1). */
	float(): number;
	/** Index i with probability weights[i] / Σ weights (weights given as cumulative sums). */
	pick(cumulative: readonly number[]): number;
	/** Poisson(mean) count. */
	poisson(mean: number): number;
	/** An independent stream derived from this seed and `label`. */
	fork(label: number): Random;
}

/** Cumulative sums of `weights`, for `Random.pick`. */
export function cumulative(weights: readonly number[]): number[] {
	let sum = 0;
	return weights.map((w) => (sum += w));
}

/** murmur3's 32-bit finaliser: spreads nearby seeds (1, 2, 3…) over the whole state space. */
function scramble(seed: number): number {
	let h = (seed ^ (seed / 0x100000000)) | 0;
	h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
	h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
	return (h ^ (h >>> 16)) | 0;
}

export function seededRandom(seed: number): Random {
	if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
	const rng = xoroshiro128plus(scramble(seed));
	// Small seeds start xoroshiro in a low-entropy state; its first outputs are skipped.
	for (let i = 0; i < 20; i++) rng.next();
	const float = () => uniformFloat64(rng);
	return {
		float,
		pick(cum) {
			const u = float() * cum[cum.length - 1]!;
			// Binary search: pools and institutions are few, but keyblocks are many.
			let lo = 0;
			let hi = cum.length - 1;
			while (lo < hi) {
				const mid = (lo + hi) >> 1;
				if (u < cum[mid]!) hi = mid;
				else lo = mid + 1;
			}
			return lo;
		},
		poisson(mean) {
			if (!(mean >= 0) || !Number.isFinite(mean))
				throw new RangeError(`Poisson mean must be ≥ 0, got ${mean}`);
			if (mean === 0) return 0;
			if (mean > 50) {
				// Normal approximation (Box–Muller); exact enough for transaction volumes, and O(1).
				const z = Math.sqrt(-2 * Math.log(1 - float())) * Math.cos(2 * Math.PI * float());
				return Math.max(0, Math.round(mean + Math.sqrt(mean) * z));
			}
			// Knuth's product of uniforms.
			const limit = Math.exp(-mean);
			let k = 0;
			let p = float();
			while (p > limit) {
				k++;
				p *= float();
			}
			return k;
		},
		fork(label) {
			return seededRandom((scramble(seed) ^ scramble(label + 0x9e3779b9)) | 0);
		}
	};
}
