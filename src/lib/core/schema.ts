/**
 * Typed readers over decoded canonical values. Each structure's decoder walks its fields with these,
 * so every field has a type and a size limit, unknown fields are rejected, and every failure names
 * the structure and field (`keyblock.prev: expected 32 bytes, got 31`).
 */
import type { Bytes } from './bytes.ts';
import { ValidationError } from './errors.ts';

export type Record_ = { [key: string]: unknown };

function fail(where: string, message: string): never {
	throw new ValidationError('schema', `${where}: ${message}`);
}

/** A map with exactly the given keys (optional ones may be absent). */
export function object(
	value: unknown,
	where: string,
	keys: readonly string[],
	optional: readonly string[] = []
): Record_ {
	if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array)
		fail(where, 'expected a map');
	const record = value as Record_;
	for (const key of Object.keys(record))
		if (!keys.includes(key) && !optional.includes(key)) fail(where, `unknown field "${key}"`);
	for (const key of keys) if (!(key in record)) fail(where, `missing field "${key}"`);
	return record;
}

export function bytes(value: unknown, where: string, length: number | { max: number; min?: number }): Bytes {
	if (!(value instanceof Uint8Array)) fail(where, 'expected bytes');
	if (typeof length === 'number') {
		if (value.length !== length) fail(where, `expected ${length} bytes, got ${value.length}`);
	} else if (value.length > length.max || value.length < (length.min ?? 0)) {
		fail(where, `expected ${length.min ?? 0}..${length.max} bytes, got ${value.length}`);
	}
	return value;
}

/** A non-negative safe integer no larger than `max`. */
export function uint(value: unknown, where: string, max = Number.MAX_SAFE_INTEGER): number {
	if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
		fail(where, 'expected an unsigned integer');
	if (value > max) fail(where, `expected at most ${max}, got ${value}`);
	return value;
}

/** An unsigned big integer (amounts, targets) below 2^bits. */
export function biguint(value: unknown, where: string, bits = 256): bigint {
	const n = typeof value === 'number' && Number.isSafeInteger(value) ? BigInt(value) : value;
	if (typeof n !== 'bigint' || n < 0n) fail(where, 'expected an unsigned integer');
	if (n >= 1n << BigInt(bits)) fail(where, `expected fewer than ${bits} bits`);
	return n;
}

export function string(value: unknown, where: string, maxLength: number): string {
	if (typeof value !== 'string') fail(where, 'expected text');
	if (value.length > maxLength) fail(where, `text longer than ${maxLength} characters`);
	return value;
}

export function oneOf<T extends string>(value: unknown, where: string, options: readonly T[]): T {
	if (typeof value !== 'string' || !options.includes(value as T))
		fail(where, `expected one of ${options.join(', ')}`);
	return value as T;
}

export function array<T>(
	value: unknown,
	where: string,
	maxLength: number,
	item: (v: unknown, where: string) => T
): T[] {
	if (!Array.isArray(value)) fail(where, 'expected a list');
	if (value.length > maxLength) fail(where, `list longer than ${maxLength}`);
	return value.map((v, i) => item(v, `${where}[${i}]`));
}

export function optional<T>(value: unknown, read: (v: unknown) => T): T | undefined {
	return value === undefined ? undefined : read(value);
}
