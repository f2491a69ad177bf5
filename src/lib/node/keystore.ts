/**
 * A headless institution's keys at rest: the same KeyVault as the browser (envelope encryption, each
 * secret sealed with AES-256-GCM under a data key), over a Node store in `<dir>/keys/`. What wraps the
 * data key is the operator's choice:
 *  - a passphrase (scrypt), when one is given: the disk alone never reveals the keys;
 *  - otherwise a 32-byte key file (created from the CSPRNG with mode 0600 on first start, imported as
 *    a non-extractable AES key). Keep it on another disk or a token to get protection at rest; next to
 *    the data it only spares an unattended demo node from asking for a passphrase.
 * The first open creates the institution (keys from the CSPRNG); later opens load it. Backups are the
 * vault's passphrase-encrypted files, portable to a browser clinic and back.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInstitutionIdentity, institutionOf, type InstitutionIdentity } from '../keys/institution.ts';
import { loadInstitutionIdentity, saveInstitutionIdentity } from '../keys/secrets.ts';
import { KeyVault, type VaultProtector } from '../keys/vault.ts';
import { NodeStore } from '../store/store.node.ts';

export interface KeystoreOptions {
	/** The institution's data directory; the vault lives in `<dir>/keys/`. */
	dir: string;
	/** Protect the vault with this passphrase (scrypt) instead of a key file. */
	passphrase?: string;
	/** The key file (default `<dir>/vault.key`); created when missing and no passphrase is given. */
	keyFile?: string;
	/** scrypt cost for a new passphrase vault (tests lower it). */
	cost?: { N?: number };
}

/** The key file exists but is not a 32-byte key. */
export class KeyFileError extends Error {
	override readonly name = 'KeyFileError';
	readonly code = 'key-file';
}

export interface NodeKeystore {
	vault: KeyVault;
	close(): Promise<void>;
}

const KEY_FILE_BYTES = 32;

async function keyFileProtector(path: string): Promise<VaultProtector> {
	let raw: Uint8Array<ArrayBuffer>;
	try {
		raw = new Uint8Array(await readFile(path));
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
		raw = crypto.getRandomValues(new Uint8Array(KEY_FILE_BYTES));
		await writeFile(path, raw, { mode: 0o600, flag: 'wx' });
		await chmod(path, 0o600);
	}
	if (raw.length !== KEY_FILE_BYTES)
		throw new KeyFileError(`${path} is not a key file (${raw.length} bytes, expected ${KEY_FILE_BYTES})`);
	const key = await crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, ['wrapKey', 'unwrapKey']);
	raw.fill(0);
	return { kind: 'device', key };
}

/** Opens (or creates) the vault of the institution in `options.dir`. */
export async function openKeystore(options: KeystoreOptions): Promise<NodeKeystore> {
	const store = await NodeStore.open(join(options.dir, 'keys'));
	try {
		const protector: VaultProtector =
			options.passphrase !== undefined
				? { kind: 'passphrase', passphrase: options.passphrase, cost: options.cost }
				: await keyFileProtector(options.keyFile ?? join(options.dir, 'vault.key'));
		const vault = (await KeyVault.exists(store))
			? await KeyVault.unlock(store, protector)
			: await KeyVault.create(store, protector);
		return { vault, close: () => store.close() };
	} catch (error) {
		await store.close();
		throw error;
	}
}

/** The vault's institution; on first use, a new one named `name` with keys from the CSPRNG. */
export async function loadOrCreateInstitution(vault: KeyVault, name: string): Promise<InstitutionIdentity> {
	const stored = await loadInstitutionIdentity(vault);
	if (stored) return { institution: institutionOf(stored.name, stored.secrets), secrets: stored.secrets };
	const created = createInstitutionIdentity(name);
	await saveInstitutionIdentity(vault, created.institution.name, created.secrets);
	return created;
}
