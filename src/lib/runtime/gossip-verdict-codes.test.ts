/**
 * The ignore-versus-penalise decision is typed by the one code table (core/error-codes.ts): every code
 * the state-dependent set names is a code some check throws, the table has no duplicate, and `judged`
 * ignores exactly the state-dependent codes and blames the sender for every other one. No network.
 */
import { describe, expect, it } from 'vitest';
import { APP_CODES, isValidationCode, VALIDATION_CODES } from '../core/error-codes.ts';
import { ValidationError, type ValidationCode } from '../core/errors.ts';
import { judged, STATE_DEPENDENT } from './gossip-verdict.ts';

async function verdictOf(code: ValidationCode): Promise<{ verdict: string; blamed: boolean | null }> {
	let blamed: boolean | null = null;
	const verdict = await judged(
		async () => {
			throw new ValidationError(code, 'refused');
		},
		(_error, b) => (blamed = b)
	);
	return { verdict, blamed };
}

describe('validation code table', () => {
	it('lists each code once across validation and app codes, in kebab case', () => {
		const all = [...VALIDATION_CODES, ...APP_CODES];
		expect(new Set(all).size).toBe(all.length);
		for (const code of all) expect(code).toMatch(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/);
	});

	it('covers every code the state-dependent set names', () => {
		expect(STATE_DEPENDENT.size).toBeGreaterThan(0);
		for (const code of STATE_DEPENDENT) expect(isValidationCode(code), code).toBe(true);
	});

	it('recognises only table codes arriving as strings', () => {
		expect(isValidationCode('keyblock-height')).toBe(true);
		expect(isValidationCode('keyblock-heigth')).toBe(false);
		expect(isValidationCode(undefined)).toBe(false);
	});

	it('ignores exactly the state-dependent codes and blames every other', async () => {
		for (const code of VALIDATION_CODES) {
			const expected = STATE_DEPENDENT.has(code) ? 'ignore' : 'reject';
			expect(await verdictOf(code), code).toEqual({ verdict: expected, blamed: expected === 'reject' });
		}
	});
});
