/**
 * The key vault: a profile's private keys (a patient's Schnorr secret and master record key; an
 * institution's signing, BLS and chameleon-trapdoor secrets), encrypted at rest in the store's `keys`
 * table and never in localStorage.
 *
 * Envelope encryption: each secret is sealed with AES-256-GCM under one random data key (associated
 * data: the secret's name, so rows cannot be swapped). The data key itself is stored wrapped by the
 * protector, and only ever unwrapped as a non-extractable CryptoKey, so its bytes are never in script
 * memory after creation. Two protectors:
 *  - a passphrase, through scrypt (kdf.ts): protects the keys even from someone holding a copy of the
 *    disk; the patient types it once per session.
 *  - a device key: a non-extractable AES-GCM CryptoKey the browser keeps in IndexedDB
 *    (device-key.browser.ts). No passphrase to type; page scripts can use it but never read it, so
 *    the key bytes cannot be lifted out through any web API (a dump of the store's rows is useless
 *    without the browser's key), though someone with this browser profile's files could.
 * The secrets themselves cannot be non-extractable WebCrypto keys: WebCrypto has no secp256k1 Schnorr,
 * BLS12-381 or Baby Jubjub, so the protocol code must hold their bytes while signing.
 * Changing the protector rewraps the data key only. Backups (backup.ts) are re-encrypted under a
 * passphrase of their own, so a backup is portable between devices and vault modes.
 */
import { decodeCanonical, encodeCanonical, type Canonical } from '../core/encoding.ts';
import type { Store, StoreWrite } from '../store/store.ts';
import { buffer, IV_BYTES, label, open, seal, type Sealed } from './aead.ts';
import { decodeBackup, encodeBackup, type BackupOptions, type Secrets } from './backup.ts';
import { KeyNotFoundError, VaultStateError, WrongPassphraseError } from './errors.ts';
import { checkNewPassphrase, deriveKey, newScryptParams, scryptParamsOk, type ScryptParams } from './kdf.ts';

export type VaultProtector =
	| {
			kind: 'passphrase';
			passphrase: string;
			/** scrypt cost for a new vault or passphrase (default N = 2^17, r = 8, p = 1). */
			cost?: Partial<Omit<ScryptParams, 'salt'>>;
			onProgress?: (fraction: number) => void;
	  }
	| { kind: 'device'; key: CryptoKey };

const VAULT_ROW = 'vault';
const SECRET_PREFIX = 'secret/';
const VAULT_VERSION = 1;
const DEK_AAD = label('spchain-vault-v1/data-key');
const secretAad = (name: string) => label(`spchain-vault-v1/secret/${name}`);

interface VaultRecord {
	version: number;
	protector: { kind: 'passphrase'; kdf: ScryptParams; check: Uint8Array } | { kind: 'device' };
	wrappedKey: Sealed;
}

export class KeyVault {
	private dataKey: CryptoKey | undefined;

	private constructor(
		private readonly store: Store,
		dataKey: CryptoKey,
		/** How the vault is protected now. */
		public protection: 'passphrase' | 'device'
	) {
		this.dataKey = dataKey;
	}

	static async exists(store: Store): Promise<boolean> {
		return (await store.get('keys', VAULT_ROW)) !== undefined;
	}

	/** Which protector opens the vault in this store, or null when there is none yet. */
	static async protection(store: Store): Promise<'passphrase' | 'device' | null> {
		const bytes = await store.get('keys', VAULT_ROW);
		return bytes ? readRecord(bytes).protector.kind : null;
	}

	/** Creates an empty vault; fails if the store already has one. */
	static async create(store: Store, protector: VaultProtector): Promise<KeyVault> {
		if (await KeyVault.exists(store))
			throw new VaultStateError('vault-exists', 'This profile already has a key store; unlock it instead.');
		const extractable = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, [
			'encrypt',
			'decrypt'
		]);
		const { record, dataKey } = await protect(extractable, protector);
		await store.write([{ table: 'keys', key: VAULT_ROW, value: encodeRecord(record) }]);
		return new KeyVault(store, dataKey, protector.kind);
	}

	/** Opens the vault; WrongPassphraseError when the passphrase (or device key) does not match. */
	static async unlock(store: Store, protector: VaultProtector): Promise<KeyVault> {
		const bytes = await store.get('keys', VAULT_ROW);
		if (!bytes) throw new VaultStateError('vault-missing', 'This profile has no key store yet.');
		const record = readRecord(bytes);
		if (record.protector.kind !== protector.kind)
			throw new VaultStateError(
				'vault-locked',
				record.protector.kind === 'passphrase'
					? 'This key store is protected by a passphrase: enter it to unlock.'
					: 'This key store is protected by this device, not by a passphrase.'
			);
		const wrappingKey = await unwrappingKey(record, protector);
		try {
			const dataKey = await crypto.subtle.unwrapKey(
				'raw',
				buffer(record.wrappedKey.data),
				wrappingKey,
				{ name: 'AES-GCM', iv: buffer(record.wrappedKey.iv), additionalData: DEK_AAD },
				{ name: 'AES-GCM', length: 256 },
				false,
				['encrypt', 'decrypt']
			);
			return new KeyVault(store, dataKey, record.protector.kind);
		} catch {
			throw new WrongPassphraseError(
				protector.kind === 'device' ? "this device's key store" : 'the key store'
			);
		}
	}

	/**
	 * Restores a profile from a backup file: on a new device, or over a vault whose passphrase is
	 * lost. The file is decrypted first (WrongPassphraseError, BackupFormatError, BackupTamperedError
	 * leave the store untouched); then, in one batch, any existing vault and its secrets are replaced
	 * by a new vault under `protector` holding exactly the backup's secrets.
	 */
	static async restore(
		store: Store,
		file: Uint8Array,
		backupPassphrase: string,
		protector: VaultProtector,
		onProgress?: (fraction: number) => void
	): Promise<KeyVault> {
		const { secrets } = await decodeBackup(file, backupPassphrase, onProgress);
		const extractable = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, [
			'encrypt',
			'decrypt'
		]);
		const { record, dataKey } = await protect(extractable, protector);
		const writes: StoreWrite[] = (await store.list('keys')).map(([key]) => ({
			table: 'keys',
			key,
			value: null
		}));
		writes.push({ table: 'keys', key: VAULT_ROW, value: encodeRecord(record) });
		writes.push(...(await sealAll(dataKey, secrets)));
		await store.write(writes);
		return new KeyVault(store, dataKey, protector.kind);
	}

	get unlocked(): boolean {
		return this.dataKey !== undefined;
	}

	/** Forgets the data key; the vault must be unlocked again. */
	lock(): void {
		this.dataKey = undefined;
	}

	async put(name: string, secret: Uint8Array): Promise<void> {
		await this.putAll({ [name]: secret });
	}

	/** Stores several secrets in one atomic batch. */
	async putAll(secrets: Secrets): Promise<void> {
		await this.store.write(await sealAll(this.key(), secrets));
	}

	/** The secret's bytes; KeyNotFoundError when absent. */
	async get(name: string): Promise<Uint8Array> {
		const secret = await this.find(name);
		if (!secret) throw new KeyNotFoundError(name);
		return secret;
	}

	async find(name: string): Promise<Uint8Array | undefined> {
		checkName(name);
		const key = this.key();
		const bytes = await this.store.get('keys', SECRET_PREFIX + name);
		if (!bytes) return undefined;
		try {
			return await open(key, readSealed(bytes), secretAad(name));
		} catch {
			throw new VaultStateError(
				'vault-damaged',
				`The stored key "${name}" cannot be decrypted: it was altered or damaged.`
			);
		}
	}

	async names(): Promise<string[]> {
		this.key();
		const rows = await this.store.list('keys', { from: SECRET_PREFIX, to: SECRET_PREFIX.slice(0, -1) + '0' });
		return rows.map(([key]) => key.slice(SECRET_PREFIX.length));
	}

	async delete(name: string): Promise<void> {
		checkName(name);
		this.key();
		await this.store.write([{ table: 'keys', key: SECRET_PREFIX + name, value: null }]);
	}

	/** Rewraps the data key under a new protector (e.g. adds or changes a passphrase). */
	async changeProtector(protector: VaultProtector): Promise<void> {
		// The data key is non-extractable, so rewrapping goes through a fresh data key: every secret is
		// re-sealed under it and the new record written, all in one batch.
		const secrets: Secrets = {};
		for (const name of await this.names()) secrets[name] = await this.get(name);
		const extractable = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, true, [
			'encrypt',
			'decrypt'
		]);
		const { record, dataKey } = await protect(extractable, protector);
		const writes: StoreWrite[] = [
			{ table: 'keys', key: VAULT_ROW, value: encodeRecord(record) },
			...(await sealAll(dataKey, secrets))
		];
		for (const secret of Object.values(secrets)) secret.fill(0);
		await this.store.write(writes);
		this.dataKey = dataKey;
		this.protection = protector.kind;
	}

	/** Every secret, encrypted under `passphrase` as a versioned backup file (backup.ts). */
	async exportBackup(passphrase: string, options?: BackupOptions): Promise<Uint8Array> {
		checkNewPassphrase(passphrase);
		const secrets: Secrets = {};
		for (const name of await this.names()) secrets[name] = await this.get(name);
		try {
			return await encodeBackup(secrets, passphrase, options);
		} finally {
			for (const secret of Object.values(secrets)) secret.fill(0);
		}
	}

	/**
	 * Reads a backup file and stores its secrets (one batch), replacing keys of the same name. Returns
	 * the names imported. Throws WrongPassphraseError, BackupFormatError or BackupTamperedError.
	 */
	async importBackup(
		file: Uint8Array,
		passphrase: string,
		onProgress?: (fraction: number) => void
	): Promise<string[]> {
		this.key();
		const { secrets } = await decodeBackup(file, passphrase, onProgress);
		await this.putAll(secrets);
		return Object.keys(secrets).sort();
	}

	private key(): CryptoKey {
		if (!this.dataKey) throw new VaultStateError('vault-locked', 'The key store is locked: unlock it first.');
		return this.dataKey;
	}
}

/** The store rows holding `secrets` sealed under the data key. */
async function sealAll(dataKey: CryptoKey, secrets: Secrets): Promise<StoreWrite[]> {
	const writes: StoreWrite[] = [];
	for (const [name, secret] of Object.entries(secrets)) {
		checkName(name);
		if (!(secret instanceof Uint8Array)) throw new TypeError(`secret "${name}" must be a Uint8Array`);
		const sealed = await seal(dataKey, secret, secretAad(name));
		writes.push({ table: 'keys', key: SECRET_PREFIX + name, value: encodeCanonical({ ...sealed }) });
	}
	return writes;
}

/** Wraps a fresh extractable data key under the protector; returns the record and a usable copy. */
async function protect(
	extractable: CryptoKey,
	protector: VaultProtector
): Promise<{ record: VaultRecord; dataKey: CryptoKey }> {
	let wrappingKey: CryptoKey;
	let recordProtector: VaultRecord['protector'];
	if (protector.kind === 'passphrase') {
		checkNewPassphrase(protector.passphrase);
		const kdf = newScryptParams(protector.cost);
		const derived = await deriveKey(protector.passphrase, kdf, protector.onProgress);
		wrappingKey = derived.key;
		recordProtector = { kind: 'passphrase', kdf, check: derived.check };
	} else {
		wrappingKey = protector.key;
		recordProtector = { kind: 'device' };
	}
	const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
	const wrapped = await crypto.subtle.wrapKey('raw', extractable, wrappingKey, {
		name: 'AES-GCM',
		iv,
		additionalData: DEK_AAD
	});
	const dataKey = await crypto.subtle.unwrapKey(
		'raw',
		wrapped,
		wrappingKey,
		{ name: 'AES-GCM', iv, additionalData: DEK_AAD },
		{ name: 'AES-GCM', length: 256 },
		false,
		['encrypt', 'decrypt']
	);
	return {
		record: {
			version: VAULT_VERSION,
			protector: recordProtector,
			wrappedKey: { iv, data: new Uint8Array(wrapped) }
		},
		dataKey
	};
}

async function unwrappingKey(record: VaultRecord, protector: VaultProtector): Promise<CryptoKey> {
	if (protector.kind === 'device') return protector.key;
	if (record.protector.kind !== 'passphrase') throw new Error('unreachable');
	const derived = await deriveKey(protector.passphrase, record.protector.kdf, protector.onProgress);
	if (!derived.check.every((b, i) => b === (record.protector as { check: Uint8Array }).check[i]))
		throw new WrongPassphraseError('the key store');
	return derived.key;
}

function encodeRecord(record: VaultRecord): Uint8Array {
	const protector: Canonical =
		record.protector.kind === 'passphrase'
			? {
					kind: 'passphrase',
					N: record.protector.kdf.N,
					r: record.protector.kdf.r,
					p: record.protector.kdf.p,
					salt: record.protector.kdf.salt,
					check: record.protector.check
				}
			: { kind: 'device' };
	return encodeCanonical({ version: record.version, protector, wrappedKey: { ...record.wrappedKey } });
}

function readRecord(bytes: Uint8Array): VaultRecord {
	const damaged = () =>
		new VaultStateError(
			'vault-damaged',
			'The key store record on this device is damaged and cannot be read.'
		);
	let value: { version?: unknown; protector?: Record<string, unknown>; wrappedKey?: unknown };
	try {
		value = decodeCanonical(bytes) as typeof value;
	} catch {
		throw damaged();
	}
	if (value?.version !== VAULT_VERSION || typeof value.protector !== 'object') throw damaged();
	const p = value.protector;
	const wrappedKey = readSealed(value.wrappedKey, damaged);
	if (p.kind === 'device') return { version: VAULT_VERSION, protector: { kind: 'device' }, wrappedKey };
	const kdf = { N: p.N, r: p.r, p: p.p, salt: p.salt } as ScryptParams;
	if (p.kind !== 'passphrase' || !scryptParamsOk(kdf) || !(p.check instanceof Uint8Array)) throw damaged();
	return { version: VAULT_VERSION, protector: { kind: 'passphrase', kdf, check: p.check }, wrappedKey };
}

function readSealed(
	value: unknown,
	damaged = () => new VaultStateError('vault-damaged', 'A stored key record is damaged and cannot be read.')
): Sealed {
	let sealed: unknown = value;
	if (value instanceof Uint8Array) {
		try {
			sealed = decodeCanonical(value);
		} catch {
			throw damaged();
		}
	}
	const { iv, data } = (sealed ?? {}) as Partial<Sealed>;
	if (!(iv instanceof Uint8Array) || iv.length !== IV_BYTES || !(data instanceof Uint8Array)) throw damaged();
	return { iv, data };
}

function checkName(name: string): void {
	if (typeof name !== 'string' || name.length === 0 || name.length > 200)
		throw new TypeError('a key name must be a non-empty string of at most 200 characters');
}
