/**
 * The key vault's errors, each with a stable `code` for the UI and tests and a message a patient or
 * clinician can act on. Kept apart so screens can tell "wrong passphrase, try again" from "this file
 * is damaged" without parsing messages.
 */
export class KeyVaultError extends Error {
	constructor(
		readonly code: string,
		message: string
	) {
		super(message);
	}
}

/** The passphrase does not open this vault or backup. */
export class WrongPassphraseError extends KeyVaultError {
	override readonly name = 'WrongPassphraseError';
	constructor(what = 'the key store') {
		super('wrong-passphrase', `That passphrase does not open ${what}. Check it and try again.`);
	}
}

/** A new passphrase too short to protect medical-record keys. */
export class WeakPassphraseError extends KeyVaultError {
	override readonly name = 'WeakPassphraseError';
	constructor(minimum: number) {
		super('weak-passphrase', `Choose a passphrase of at least ${minimum} characters.`);
	}
}

/** The file is not an SPChain key backup, or one of a version this app cannot read. */
export class BackupFormatError extends KeyVaultError {
	override readonly name = 'BackupFormatError';
	constructor(message: string) {
		super('backup-format', message);
	}
}

/** The backup file was changed or damaged after it was written (its authentication fails). */
export class BackupTamperedError extends KeyVaultError {
	override readonly name = 'BackupTamperedError';
	constructor(detail = '') {
		super(
			'backup-tampered',
			`This key backup has been damaged or altered since it was made, so it cannot be trusted${detail ? ` (${detail})` : ''}.`
		);
	}
}

/** The vault has no key of that name. */
export class KeyNotFoundError extends KeyVaultError {
	override readonly name = 'KeyNotFoundError';
	constructor(name: string) {
		super('key-not-found', `No key named "${name}" is stored on this device.`);
	}
}

/** The vault is missing, already exists, is locked, or its stored record is unreadable. */
export class VaultStateError extends KeyVaultError {
	override readonly name = 'VaultStateError';
	constructor(code: 'vault-missing' | 'vault-exists' | 'vault-locked' | 'vault-damaged', message: string) {
		super(code, message);
	}
}
