import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { encodeCanonical } from '../core/encoding.ts';
import { BACKUP_MAGIC, decodeBackup, encodeBackup } from './backup.ts';
import {
	BackupFormatError,
	BackupTamperedError,
	WeakPassphraseError,
	WrongPassphraseError
} from './errors.ts';

const cost = { N: 2 ** 10 };
const secrets = {
	'patient/signing': new Uint8Array(32).fill(1),
	'patient/master': new Uint8Array(32).fill(2)
};
const PASS = 'correct horse battery staple';

describe('key backup file', () => {
	it('round-trips the secrets under the passphrase', async () => {
		const before = Date.now();
		const file = await encodeBackup(secrets, PASS, { cost });
		expect(file.subarray(0, BACKUP_MAGIC.length)).toEqual(BACKUP_MAGIC);
		expect(Buffer.from(file).includes(Buffer.from(secrets['patient/signing']))).toBe(false);
		const { created, secrets: back } = await decodeBackup(file, PASS);
		expect(back).toEqual(secrets);
		expect(created).toBeGreaterThanOrEqual(before);
	});

	it('uses the default scrypt cost (N = 2^17) when none is given', async () => {
		const file = await encodeBackup(secrets, PASS);
		expect((await decodeBackup(file, PASS)).secrets).toEqual(secrets);
	});

	it('accepts the same passphrase typed in another Unicode normal form', async () => {
		const file = await encodeBackup(secrets, 'caf\u00e9 au lait 42', { cost });
		expect((await decodeBackup(file, 'cafe\u0301 au lait 42')).secrets).toEqual(secrets);
	});

	it('says WrongPassphraseError for the wrong passphrase', async () => {
		const file = await encodeBackup(secrets, PASS, { cost });
		await expect(decodeBackup(file, 'Correct horse battery staple')).rejects.toBeInstanceOf(
			WrongPassphraseError
		);
	});

	it('says BackupTamperedError when any byte of the header or contents changes or the file is cut', async () => {
		const file = await encodeBackup(secrets, PASS, { cost });
		for (const at of [BACKUP_MAGIC.length + 7, BACKUP_MAGIC.length + 40, file.length - 20, file.length - 1]) {
			const changed = file.slice();
			changed[at]! ^= 0x04;
			await expect(decodeBackup(changed, PASS), `byte ${at}`).rejects.toBeInstanceOf(BackupTamperedError);
		}
		await expect(decodeBackup(file.subarray(0, file.length - 30), PASS)).rejects.toBeInstanceOf(
			BackupTamperedError
		);
		await expect(decodeBackup(file.subarray(0, 40), PASS)).rejects.toBeInstanceOf(BackupTamperedError);
	});

	it('refuses a forged header asking for an unbounded key derivation, before deriving', async () => {
		const header = encodeCanonical({
			kdf: 'scrypt',
			N: 2 ** 30,
			r: 8,
			p: 1,
			salt: new Uint8Array(16),
			iv: new Uint8Array(12),
			check: new Uint8Array(32)
		});
		const length = new Uint8Array(4);
		new DataView(length.buffer).setUint32(0, header.length);
		const prefix = concatBytes(BACKUP_MAGIC, new Uint8Array([1]), length, header);
		const forged = concatBytes(prefix, sha256(prefix), new Uint8Array(64));
		await expect(decodeBackup(forged, PASS)).rejects.toThrow(/key derivation settings are out of range/);
	});

	it('says BackupFormatError for other files and other versions', async () => {
		await expect(decodeBackup(new TextEncoder().encode('{"keys": []}'), PASS)).rejects.toBeInstanceOf(
			BackupFormatError
		);
		const file = await encodeBackup(secrets, PASS, { cost });
		const newer = file.slice();
		newer[BACKUP_MAGIC.length] = 2;
		await expect(decodeBackup(newer, PASS)).rejects.toThrow(/format version 2; this app reads version 1/);
	});

	it('refuses a short passphrase for a new backup', async () => {
		await expect(encodeBackup(secrets, 'short', { cost })).rejects.toBeInstanceOf(WeakPassphraseError);
	});
});
