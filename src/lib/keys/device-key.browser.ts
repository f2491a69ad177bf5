/**
 * The device protector for a key vault that has no passphrase: a non-extractable AES-256-GCM
 * CryptoKey, generated in the browser and kept in IndexedDB (database `spchain-device-keys`, one key
 * per profile). IndexedDB stores CryptoKey objects as they are, with their non-extractable flag, so
 * page scripts can wrap and unwrap the vault's data key with it but no web API can read its bytes.
 * It is never in localStorage and never leaves the device; a backup (backup.ts) is how keys move.
 */
import { openDB } from 'idb';

const DB_NAME = 'spchain-device-keys';
const STORE = 'keys';

async function database() {
	return openDB(DB_NAME, 1, {
		upgrade(db) {
			db.createObjectStore(STORE);
		}
	});
}

/** This device's key for `profile`, created on first use (two tabs racing get the same key). */
export async function deviceKey(profile: string): Promise<CryptoKey> {
	const db = await database();
	try {
		const existing = (await db.get(STORE, profile)) as CryptoKey | undefined;
		if (existing) return existing;
		// Generate outside the transaction (it would commit while waiting on WebCrypto), then keep the
		// first key written: get-then-add in one readwrite transaction cannot interleave with another.
		const fresh = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
			'wrapKey',
			'unwrapKey'
		]);
		const tx = db.transaction(STORE, 'readwrite', { durability: 'strict' });
		const raced = (await tx.store.get(profile)) as CryptoKey | undefined;
		if (!raced) await tx.store.add(fresh, profile);
		await tx.done;
		return raced ?? fresh;
	} finally {
		db.close();
	}
}

/** Deletes this device's key for `profile`: a vault it protected can no longer be opened. */
export async function forgetDeviceKey(profile: string): Promise<void> {
	const db = await database();
	try {
		await db.delete(STORE, profile);
	} finally {
		db.close();
	}
}
