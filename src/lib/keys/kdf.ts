/**
 * Passphrase to key: scrypt (RFC 7914, @noble/hashes) with per-vault/per-backup random salt. The
 * derived 64 bytes split into a 256-bit AES key (imported non-extractable) and a check value stored
 * next to the ciphertext, so a wrong passphrase is told apart from a damaged file. Parameters travel
 * with the data and are bounded when read, so a hostile file cannot ask for gigabytes of memory.
 * Default N = 2^17, r = 8, p = 1 (128 MiB, about a second in a browser): the OWASP-recommended scrypt
 * setting for interactive logins.
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { buffer } from './aead.ts';
import { WeakPassphraseError } from './errors.ts';

export interface ScryptParams {
	N: number;
	r: number;
	p: number;
	salt: Uint8Array;
}

export const DEFAULT_SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const;
export const MIN_PASSPHRASE_CHARS = 8;
const SALT_BYTES = 16;
const LIMITS = { minLogN: 10, maxLogN: 20, maxR: 16, maxP: 4, maxMem: 512 * 1024 * 1024 };

export function newScryptParams(cost: Partial<Omit<ScryptParams, 'salt'>> = {}): ScryptParams {
	const params = { ...DEFAULT_SCRYPT, ...cost, salt: crypto.getRandomValues(new Uint8Array(SALT_BYTES)) };
	if (!scryptParamsOk(params))
		throw new RangeError(`scrypt parameters out of bounds: N=${params.N} r=${params.r} p=${params.p}`);
	return params;
}

/** Whether parameters read from a file or the store are within what this app will compute. */
export function scryptParamsOk(params: ScryptParams): boolean {
	const { N, r, p, salt } = params;
	return (
		Number.isInteger(N) &&
		Number.isInteger(r) &&
		Number.isInteger(p) &&
		N >= 2 ** LIMITS.minLogN &&
		N <= 2 ** LIMITS.maxLogN &&
		(N & (N - 1)) === 0 &&
		r >= 1 &&
		r <= LIMITS.maxR &&
		p >= 1 &&
		p <= LIMITS.maxP &&
		128 * N * r * p <= LIMITS.maxMem &&
		salt instanceof Uint8Array &&
		salt.length >= 16 &&
		salt.length <= 64
	);
}

/** Refuses passphrases too short to protect medical-record keys. */
export function checkNewPassphrase(passphrase: string): void {
	if (typeof passphrase !== 'string' || [...passphrase.normalize('NFKC')].length < MIN_PASSPHRASE_CHARS)
		throw new WeakPassphraseError(MIN_PASSPHRASE_CHARS);
}

export interface DerivedKey {
	/** AES-GCM key, non-extractable, for encrypt/decrypt and wrapKey/unwrapKey. */
	key: CryptoKey;
	/** SHA-256 of the second half of the scrypt output: compare to tell a wrong passphrase. */
	check: Uint8Array;
}

export async function deriveKey(
	passphrase: string,
	params: ScryptParams,
	onProgress?: (fraction: number) => void
): Promise<DerivedKey> {
	const password = new TextEncoder().encode(passphrase.normalize('NFKC'));
	const out = await scryptAsync(password, params.salt, {
		N: params.N,
		r: params.r,
		p: params.p,
		dkLen: 64,
		maxmem: LIMITS.maxMem + 4096,
		onProgress
	});
	const key = await crypto.subtle.importKey('raw', buffer(out.slice(0, 32)), 'AES-GCM', false, [
		'encrypt',
		'decrypt',
		'wrapKey',
		'unwrapKey'
	]);
	const check = sha256(out.subarray(32));
	out.fill(0);
	password.fill(0);
	return { key, check };
}
