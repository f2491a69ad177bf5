/**
 * The one error type the protocol core throws for bad input. Every rejection of untrusted data
 * (bytes from a peer, a form, a file) is a ValidationError with a stable machine-readable `code`
 * (for peer scoring and tests) and a sentence a person can read. Codes come from the one table in
 * error-codes.ts, so a misspelt code fails to compile.
 */
import type { ValidationCode } from './error-codes.ts';

export type { ValidationCode } from './error-codes.ts';

/** Bad untrusted input: its code (from the table) and a sentence a person can read. */
export class ValidationError extends Error {
	override readonly name = 'ValidationError';
	constructor(
		readonly code: ValidationCode,
		message: string
	) {
		super(message);
	}
}

/** Throws a ValidationError unless `condition` holds. */
export function ensure(condition: unknown, code: ValidationCode, message: string): asserts condition {
	if (!condition) throw new ValidationError(code, message);
}

/** Runs `fn`, turning any non-ValidationError it throws into one with `code`. */
export function asValidation<T>(code: ValidationCode, message: string, fn: () => T): T {
	try {
		return fn();
	} catch (error) {
		if (error instanceof ValidationError) throw error;
		const detail = error instanceof Error ? error.message : String(error);
		throw new ValidationError(code, `${message}: ${detail}`);
	}
}
