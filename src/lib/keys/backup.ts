/**
 * The encrypted key backup file a patient or clinic downloads and later imports on another device.
 * Layout (version 1):
 *
 *   "SPCHAIN-KEYS" | version u8 | header length u32 BE | header (CBOR) | SHA-256 of all before it |
 *   AES-256-GCM ciphertext of CBOR { created, secrets: { name: bytes } }
 *
 * The header holds the scrypt parameters and salt, the GCM nonce and the passphrase check value; the
 * GCM associated data is every byte before the ciphertext, so no part of the file can change without
 * the import failing. Failures are typed: not a backup or a newer version (BackupFormatError), a
 * passphrase that does not match the check (WrongPassphraseError), a header digest or GCM tag that
 * fails (BackupTamperedError).
 */
import { concatBytes } from '@noble/hashes/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { IV_BYTES, open, seal } from './aead.ts';
import { BackupFormatError, BackupTamperedError, WrongPassphraseError } from './errors.ts';
import { checkNewPassphrase, deriveKey, newScryptParams, scryptParamsOk, type ScryptParams } from './kdf.ts';

export const BACKUP_MAGIC = new TextEncoder().encode('SPCHAIN-KEYS');
export const BACKUP_VERSION = 1;
export const BACKUP_MIME = 'application/vnd.spchain.key-backup';
const MAX_HEADER_BYTES = 1024;
const MAX_BACKUP_BYTES = 16 * 1024 * 1024;

export type Secrets = Record<string, Uint8Array>;

export interface BackupContents {
	/** When the backup was made (ms since the epoch). */
	created: number;
	secrets: Secrets;
}

export interface BackupOptions {
	/** scrypt cost (default N = 2^17, r = 8, p = 1); lower only in tests. */
	cost?: Partial<Omit<ScryptParams, 'salt'>>;
	onProgress?: (fraction: number) => void;
}

export async function encodeBackup(
	secrets: Secrets,
	passphrase: string,
	options: BackupOptions = {}
): Promise<Uint8Array> {
	checkNewPassphrase(passphrase);
	const kdf = newScryptParams(options.cost);
	const derived = await deriveKey(passphrase, kdf, options.onProgress);
	const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
	const header = encodeCanonical({
		kdf: 'scrypt',
		N: kdf.N,
		r: kdf.r,
		p: kdf.p,
		salt: kdf.salt,
		iv,
		check: derived.check
	});
	const prefix = concatBytes(BACKUP_MAGIC, new Uint8Array([BACKUP_VERSION]), u32(header.length), header);
	const authenticated = concatBytes(prefix, sha256(prefix));
	const payload = encodeCanonical({ created: Date.now(), secrets: { ...secrets } });
	const sealed = await seal(derived.key, payload, authenticated, iv);
	payload.fill(0);
	return concatBytes(authenticated, sealed.data);
}

export async function decodeBackup(
	file: Uint8Array,
	passphrase: string,
	onProgress?: (fraction: number) => void
): Promise<BackupContents> {
	if (!(file instanceof Uint8Array) || file.length > MAX_BACKUP_BYTES)
		throw new BackupFormatError('This file is too large to be an SPChain key backup.');
	const magicEnd = BACKUP_MAGIC.length;
	if (file.length < magicEnd + 5 || !BACKUP_MAGIC.every((b, i) => file[i] === b))
		throw new BackupFormatError('This file is not an SPChain key backup.');
	const version = file[magicEnd]!;
	if (version !== BACKUP_VERSION)
		throw new BackupFormatError(
			`This key backup is format version ${version}; this app reads version ${BACKUP_VERSION}. Update the app and try again.`
		);
	const headerLength = new DataView(file.buffer, file.byteOffset + magicEnd + 1, 4).getUint32(0);
	const headerStart = magicEnd + 5;
	const digestStart = headerStart + headerLength;
	if (headerLength > MAX_HEADER_BYTES || file.length < digestStart + 32 + 16)
		throw new BackupTamperedError('the file is cut short or its header is the wrong size');
	const prefix = file.subarray(0, digestStart);
	const authenticated = file.subarray(0, digestStart + 32);
	if (!sha256(prefix).every((b, i) => b === file[digestStart + i]))
		throw new BackupTamperedError('its header does not match its checksum');
	const { kdf, iv, check } = readHeader(file.subarray(headerStart, digestStart));
	const derived = await deriveKey(passphrase, kdf, onProgress);
	if (!derived.check.every((b, i) => b === check[i])) throw new WrongPassphraseError('this key backup');
	let payload: Uint8Array;
	try {
		payload = await open(derived.key, { iv, data: file.subarray(digestStart + 32) }, authenticated);
	} catch {
		throw new BackupTamperedError('its encrypted contents fail authentication');
	}
	return readPayload(payload);
}

function readHeader(bytes: Uint8Array): { kdf: ScryptParams; iv: Uint8Array; check: Uint8Array } {
	let header: Record<string, unknown>;
	try {
		header = decodeCanonical(bytes, MAX_HEADER_BYTES) as Record<string, unknown>;
	} catch {
		throw new BackupTamperedError('its header cannot be read');
	}
	const { kdf, N, r, p, salt, iv, check } = header ?? {};
	const params = { N, r, p, salt } as ScryptParams;
	if (kdf !== 'scrypt')
		throw new BackupFormatError(
			`This key backup uses a key derivation (${String(kdf)}) this app does not know.`
		);
	if (!scryptParamsOk(params) || !(iv instanceof Uint8Array) || iv.length !== IV_BYTES)
		throw new BackupTamperedError('its key derivation settings are out of range');
	if (!(check instanceof Uint8Array) || check.length !== 32)
		throw new BackupTamperedError('its passphrase check is missing');
	return { kdf: params, iv, check };
}

function readPayload(bytes: Uint8Array): BackupContents {
	const value = decodeCanonical(bytes, MAX_BACKUP_BYTES) as { created?: unknown; secrets?: unknown };
	const { created, secrets } = value ?? {};
	if (typeof created !== 'number' || typeof secrets !== 'object' || secrets === null)
		throw new BackupFormatError('This key backup decrypts but does not hold SPChain keys.');
	for (const [name, secret] of Object.entries(secrets))
		if (!(secret instanceof Uint8Array))
			throw new BackupFormatError(`Key "${name}" in this backup is not a key.`);
	return { created, secrets: secrets as Secrets };
}

function u32(value: number): Uint8Array {
	const out = new Uint8Array(4);
	new DataView(out.buffer).setUint32(0, value);
	return out;
}
