/** Helpers shared by the record layer's tests (real keys of the dev clinics; no mocks). */
import { ValidationError } from '../core/errors.ts';
import type { DevInstitution } from '../../../tests/fixtures/genesis-dev.ts';
import { deriveStorageKey } from './envelope.ts';
import type { HolderKeys } from './share.ts';

/** The ValidationError code `fn` throws, or 'no error'; any other exception is rethrown. */
export function codeOf(fn: () => unknown): string {
	try {
		fn();
	} catch (error) {
		if (error instanceof ValidationError) return error.code;
		throw error;
	}
	return 'no error';
}

/** The ValidationError code a promise rejects with, or 'no error'. */
export async function codeOfAsync(p: Promise<unknown>): Promise<string> {
	try {
		await p;
	} catch (error) {
		if (error instanceof ValidationError) return error.code;
		throw error;
	}
	return 'no error';
}

export function holderKeys(c: DevInstitution): HolderKeys {
	return {
		id: c.institution.id,
		secretKey: c.secrets.signingKey,
		storageKey: deriveStorageKey(c.secrets.signingKey)
	};
}

export function signerOf(c: DevInstitution): { id: Uint8Array; secretKey: Uint8Array } {
	return { id: c.institution.id, secretKey: c.secrets.signingKey };
}
