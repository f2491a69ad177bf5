/**
 * Generates the AssemblyScript source of the keyblock mining kernel (see ../kernel.ts for the API).
 *
 * Why generated: SHA-256 is fast in WASM only when the 64 rounds and the message schedule are fully
 * unrolled, every K constant is an immediate and all state lives in locals (no memory traffic in the
 * inner loop). Writing 2 × 128 unrolled rounds by hand for two lane widths invites typos; this file
 * writes them from one description of the round, and folds words that are constants (padding, length)
 * at generation time so the engine sees literals.
 *
 * Two flavours come out of one description:
 * - scalar (u32 locals): one nonce per iteration; present in both binaries;
 * - simd (v128 locals): four nonces per iteration, lane i = nonce base + i; only in the SIMD binary,
 *   because a browser without SIMD rejects a module that merely contains v128 code.
 *
 * Memory layout (byte offsets, shared with ../kernel.ts): 0 prefix words (16 × u32, the 64-byte
 * prev‖penu block), 64 miner key words (8), 96 target words (8), 128 found nonce (hi, lo),
 * 256 hash output (4 × 8 words). Words hold big-endian values as native u32s.
 */

const K = [
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
	0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
	0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
	0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2
];
const IV = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

const hex = (n) => '0x' + (n >>> 0).toString(16).padStart(8, '0');
const rotr32 = (x, n) => ((x >>> n) | (x << (32 - n))) >>> 0;
const sig0 = (x) => (rotr32(x, 7) ^ rotr32(x, 18) ^ (x >>> 3)) >>> 0;
const sig1 = (x) => (rotr32(x, 17) ^ rotr32(x, 19) ^ (x >>> 10)) >>> 0;

/** Operations of one lane width, as AssemblyScript expressions. */
const SCALAR = {
	type: 'u32',
	lit: (n) => `<u32>${hex(n)}`,
	add: (...xs) => `(${xs.join(' + ')})`,
	xor: (...xs) => `(${xs.join(' ^ ')})`,
	rotr: (x, n) => `rotr<u32>(${x}, ${n})`,
	shr: (x, n) => `(${x} >>> ${n})`,
	ch: (e, f, g) => `(${g} ^ (${e} & (${f} ^ ${g})))`,
	maj: (a, b, c) => `((${a} & ${b}) | (${c} & (${a} | ${b})))`
};
const SIMD = {
	type: 'v128',
	lit: (n) => `i32x4.splat(${hex(n)})`,
	add: (...xs) => xs.reduce((acc, x) => `i32x4.add(${acc}, ${x})`),
	xor: (...xs) => xs.reduce((acc, x) => `v128.xor(${acc}, ${x})`),
	rotr: (x, n) => `v128.or(i32x4.shr_u(${x}, ${n}), i32x4.shl(${x}, ${32 - n}))`,
	shr: (x, n) => `i32x4.shr_u(${x}, ${n})`,
	// bitselect(v1, v2, mask) = (v1 & mask) | (v2 & ~mask)
	ch: (e, f, g) => `v128.bitselect(${f}, ${g}, ${e})`,
	maj: (a, b, c) => `v128.bitselect(${c}, ${a}, v128.xor(${a}, ${b}))`
};

/**
 * Emits one SHA-256 compression: `input` is 8 state expressions, `words` 16 entries (a number = a
 * constant known now, a string = an expression). Declares `${out}0..7` with the resulting state.
 * Round variables are renamed each round instead of shifted, so a round is two assignments.
 */
function compress(ops, tag, input, words, out) {
	const lines = [];
	const v = (name) => `${tag}_${name}`;
	const names = 'abcdefgh'.split('').map(v);
	const expr = (x) => (typeof x === 'number' ? ops.lit(x) : x);
	input.forEach((x, i) => lines.push(`let ${names[i]}: ${ops.type} = ${expr(x)};`));
	// Message schedule, fully unrolled; w[t] for t ≥ 16 overwrites w[t mod 16].
	const w = words.map((word, i) => {
		if (typeof word === 'number') return word;
		lines.push(`let ${v('w' + i)}: ${ops.type} = ${word};`);
		return v('w' + i);
	});
	const declared = new Set(w.filter((x) => typeof x === 'string'));
	for (let t = 0; t < 64; t++) {
		const slot = t % 16;
		if (t >= 16) {
			const [w2, w7, w15, w16] = [w[(t - 2) % 16], w[(t - 7) % 16], w[(t - 15) % 16], w[slot]];
			if ([w2, w7, w15, w16].every((x) => typeof x === 'number')) {
				w[slot] = (sig1(w2) + w7 + sig0(w15) + w16) >>> 0;
			} else {
				const s1 =
					typeof w2 === 'number' ? sig1(w2) : ops.xor(ops.rotr(w2, 17), ops.rotr(w2, 19), ops.shr(w2, 10));
				const s0 =
					typeof w15 === 'number' ? sig0(w15) : ops.xor(ops.rotr(w15, 7), ops.rotr(w15, 18), ops.shr(w15, 3));
				// Constants summed now, one literal at most per addition.
				const terms = [s1, w7, s0, w16];
				const constant = terms.filter((x) => typeof x === 'number').reduce((s, x) => (s + x) >>> 0, 0);
				const exprs = terms.filter((x) => typeof x === 'string');
				if (constant !== 0) exprs.push(ops.lit(constant));
				const name = v('w' + slot);
				lines.push(
					`${declared.has(name) ? '' : `let `}${name}${declared.has(name) ? '' : `: ${ops.type}`} = ${ops.add(...exprs)};`
				);
				declared.add(name);
				w[slot] = name;
			}
		}
		// Rotated names: round t's (a..h) is names shifted right by t.
		const r = (i) => names[(i - t + 64 * 8) % 8];
		const [a, b, c, d, e, f, g, h] = [0, 1, 2, 3, 4, 5, 6, 7].map(r);
		const kw =
			typeof w[slot] === 'number' ? ops.lit((K[t] + w[slot]) >>> 0) : ops.add(w[slot], ops.lit(K[t]));
		const S1 = ops.xor(ops.rotr(e, 6), ops.rotr(e, 11), ops.rotr(e, 25));
		const S0 = ops.xor(ops.rotr(a, 2), ops.rotr(a, 13), ops.rotr(a, 22));
		lines.push(`${h} = ${ops.add(h, S1, ops.ch(e, f, g), kw)};`);
		lines.push(`${d} = ${ops.add(d, h)};`);
		lines.push(`${h} = ${ops.add(h, S0, ops.maj(a, b, c))};`);
	}
	// After 64 rounds (a multiple of 8) the names are back in place.
	input.forEach((x, i) => lines.push(`const ${out}${i}: ${ops.type} = ${ops.add(expr(x), names[i])};`));
	return lines.join('\n\t');
}

/** SHA-256d of (prefix ‖ nonce ‖ key) from the midstate: declares `h0..h7` (final hash words). */
function doubleHash(ops, nonceHi, nonceLo) {
	const mid = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => (ops === SIMD ? `i32x4.splat(mid${i})` : `mid${i}`));
	const key = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `pk${i}`);
	// Second block: nonce (2 words) ‖ key (8) ‖ 0x80 padding ‖ zeros ‖ length 832 bits.
	const inner = compress(ops, 'i', mid, [nonceHi, nonceLo, ...key, 0x80000000, 0, 0, 0, 0, 832], 'm');
	const ms = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => `m${i}`);
	// Outer hash of the 32-byte digest: one block, digest ‖ 0x80 ‖ zeros ‖ length 256 bits.
	const outer = compress(ops, 'o', IV, [...ms, 0x80000000, 0, 0, 0, 0, 0, 0, 256], 'h');
	return `${inner}\n\t${outer}`;
}

function loadKey(ops) {
	return [0, 1, 2, 3, 4, 5, 6, 7]
		.map(
			(i) =>
				`const pk${i}: ${ops.type} = ${ops === SIMD ? `i32x4.splat(load<u32>(${64 + 4 * i}))` : `load<u32>(${64 + 4 * i})`};`
		)
		.join('\n\t');
}

const storeHash = (base) =>
	[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `store<u32>(${base + 4 * i}, h${i});`).join('\n\t');

function scalarPart() {
	const midstate = compress(
		SCALAR,
		'p',
		IV,
		[...Array(16).keys()].map((i) => `load<u32>(${4 * i})`),
		's'
	);
	return `
let mid0: u32 = 0, mid1: u32 = 0, mid2: u32 = 0, mid3: u32 = 0, mid4: u32 = 0, mid5: u32 = 0, mid6: u32 = 0, mid7: u32 = 0;

/** Computes the midstate of the 64-byte prefix (memory 0..63) once per job. */
export function setJob(): void {
	${midstate}
	mid0 = s0; mid1 = s1; mid2 = s2; mid3 = s3; mid4 = s4; mid5 = s5; mid6 = s6; mid7 = s7;
}

/** Writes SHA-256d(prefix ‖ nonce ‖ key) to memory 256..287. */
export function hashScalar(nonceHi: u32, nonceLo: u32): void {
	${loadKey(SCALAR)}
	${doubleHash(SCALAR, 'nonceHi', 'nonceLo')}
	${storeHash(256)}
}

/** Full big-endian comparison of the hash at 256 with the target at 96. */
function belowTarget(): bool {
	for (let i = 0; i < 8; i++) {
		const h = load<u32>(256 + 4 * i);
		const t = load<u32>(96 + 4 * i);
		if (h != t) return h < t;
	}
	return false;
}

/** Confirms a candidate nonce exactly; on success records it at 128. */
function confirm(nonceHi: u32, nonceLo: u32): bool {
	hashScalar(nonceHi, nonceLo);
	if (!belowTarget()) return false;
	store<u32>(128, nonceHi);
	store<u32>(132, nonceLo);
	return true;
}

/**
 * Tries nonces (hi, lo) .. (hi, lo + count − 1), lo not wrapping (the caller splits ranges).
 * Returns the number of hashes done; 'found' (memory 128) is set when a nonce met the target.
 * The first hash word is compared with the target's inside the loop; only candidates are confirmed.
 */
export function searchScalar(nonceHi: u32, nonceLo: u32, count: u32): u32 {
	${loadKey(SCALAR)}
	const target0 = load<u32>(96);
	for (let n: u32 = 0; n < count; n++) {
		const lo = nonceLo + n;
		${doubleHash(SCALAR, 'nonceHi', 'lo').replace(/\n\t/g, '\n\t\t')}
		if (h0 <= target0 && confirm(nonceHi, lo)) return n + 1;
	}
	return count;
}
`;
}

function simdPart() {
	return `
/** Writes SHA-256d for nonces lo .. lo + 3 (lanes) to memory 256 + 32 × lane. */
export function hashSimd(nonceHi: u32, nonceLo: u32): void {
	${loadKey(SIMD)}
	const hi = i32x4.splat(nonceHi);
	const lo = i32x4.add(i32x4.splat(nonceLo), i32x4(0, 1, 2, 3));
	${doubleHash(SIMD, 'hi', 'lo')}
	const out: v128[] = [h0, h1, h2, h3, h4, h5, h6, h7];
	for (let lane = 0; lane < 4; lane++) {
		for (let word = 0; word < 8; word++) {
			const x = unchecked(out[word]);
			let value: u32 = 0;
			if (lane == 0) value = i32x4.extract_lane(x, 0);
			else if (lane == 1) value = i32x4.extract_lane(x, 1);
			else if (lane == 2) value = i32x4.extract_lane(x, 2);
			else value = i32x4.extract_lane(x, 3);
			store<u32>(256 + 32 * lane + 4 * word, value);
		}
	}
}

/** As searchScalar, four nonces per iteration; count must be a multiple of 4. */
export function searchSimd(nonceHi: u32, nonceLo: u32, count: u32): u32 {
	${loadKey(SIMD)}
	const hi = i32x4.splat(nonceHi);
	const target0 = i32x4.splat(load<u32>(96));
	let lo = i32x4.add(i32x4.splat(nonceLo), i32x4(0, 1, 2, 3));
	const four = i32x4.splat(4);
	for (let n: u32 = 0; n < count; n += 4) {
		${doubleHash(SIMD, 'hi', 'lo').replace(/\n\t/g, '\n\t\t')}
		if (v128.any_true(i32x4.le_u(h0, target0))) {
			for (let lane: u32 = 0; lane < 4; lane++) {
				if (confirm(nonceHi, nonceLo + n + lane)) return n + lane + 1;
			}
		}
		lo = i32x4.add(lo, four);
	}
	return count;
}
`;
}

/** Source of the scalar-only kernel and of the SIMD kernel (which also has the scalar functions). */
export function kernelSources() {
	const header = '// Generated by src/lib/mining/kernel/generate.mjs — do not edit.\n';
	return { scalar: header + scalarPart(), simd: header + scalarPart() + simdPart() };
}
