/**
 * Key vault checks the store diagnostics page runs in the browser, where the parts Node cannot show
 * live: the device key as a non-extractable CryptoKey kept in real IndexedDB (and across a reload),
 * a passphrase vault in the IndexedDB store, and a backup exported and imported with the default
 * scrypt cost (its time is reported). Nothing may appear in localStorage.
 */
import { bytesToHex } from '$lib/core/bytes.ts';
import { deviceKey, forgetDeviceKey } from '$lib/keys/device-key.browser.ts';
import { BackupTamperedError, WrongPassphraseError } from '$lib/keys/errors.ts';
import { KeyVault } from '$lib/keys/vault.ts';
import { deleteStore, openStore } from '$lib/store/store.browser.ts';
import { timed, type CheckResult } from './checks.ts';

function ensure(condition: unknown, message: string): asserts condition {
	if (!condition) throw new Error(message);
}

async function rejectsWith(promise: Promise<unknown>, type: new (...args: never[]) => Error): Promise<void> {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e
	);
	ensure(error instanceof type, `expected ${type.name}, got ${String(error)}`);
}

const secret = (fill: number) => new Uint8Array(32).fill(fill);

async function withProfile<T>(body: (profile: string) => Promise<T>): Promise<T> {
	const profile = `vault-check-${crypto.randomUUID()}`;
	try {
		return await body(profile);
	} finally {
		await forgetDeviceKey(profile);
		await deleteStore(profile);
	}
}

export async function runVaultChecks(): Promise<CheckResult[]> {
	const results: CheckResult[] = [];
	results.push(
		await timed('the device key is a non-extractable CryptoKey kept in IndexedDB', () =>
			withProfile(async (profile) => {
				const key = await deviceKey(profile);
				ensure(key.extractable === false, 'the device key is extractable');
				await rejectsWith(crypto.subtle.exportKey('raw', key), DOMException);
				const store = await openStore(profile);
				const vault = await KeyVault.create(store, { kind: 'device', key });
				await vault.put('patient/signing', secret(0x5a));
				await store.close();
				const reopened = await openStore(profile);
				const again = await KeyVault.unlock(reopened, { kind: 'device', key: await deviceKey(profile) });
				ensure(
					(await again.get('patient/signing')).every((b) => b === 0x5a),
					'secret changed'
				);
				await reopened.close();
			})
		)
	);
	results.push(
		await timed('a passphrase vault in IndexedDB reopens only with its passphrase', () =>
			withProfile(async (profile) => {
				const store = await openStore(profile);
				const cost = { N: 2 ** 14 };
				const vault = await KeyVault.create(store, {
					kind: 'passphrase',
					passphrase: 'browser passphrase',
					cost
				});
				await vault.put('institution/bls', secret(0x33));
				await store.close();
				const reopened = await openStore(profile);
				await rejectsWith(
					KeyVault.unlock(reopened, { kind: 'passphrase', passphrase: 'wrong passphrase' }),
					WrongPassphraseError
				);
				const again = await KeyVault.unlock(reopened, {
					kind: 'passphrase',
					passphrase: 'browser passphrase'
				});
				ensure(
					(await again.get('institution/bls')).every((b) => b === 0x33),
					'secret changed'
				);
				await reopened.close();
			})
		)
	);
	results.push(
		await timed('a backup made with the default scrypt cost imports on another profile', () =>
			withProfile((from) =>
				withProfile(async (to) => {
					const source = await openStore(from);
					const vault = await KeyVault.create(source, { kind: 'device', key: await deviceKey(from) });
					await vault.putAll({ 'patient/signing': secret(1), 'patient/master': secret(2) });
					let started = performance.now();
					const file = await vault.exportBackup('backup passphrase');
					const exportMs = performance.now() - started;
					await source.close();
					const target = await openStore(to);
					const other = await KeyVault.create(target, { kind: 'device', key: await deviceKey(to) });
					await rejectsWith(other.importBackup(file, 'not the passphrase'), WrongPassphraseError);
					const tampered = file.slice();
					tampered[tampered.length - 3]! ^= 1;
					await rejectsWith(other.importBackup(tampered, 'backup passphrase'), BackupTamperedError);
					started = performance.now();
					const names = await other.importBackup(file, 'backup passphrase');
					const importMs = performance.now() - started;
					ensure(names.join() === 'patient/master,patient/signing', `imported ${names.join()}`);
					ensure(
						(await other.get('patient/master')).every((b) => b === 2),
						'secret changed'
					);
					await target.close();
					return `export ${exportMs.toFixed(0)} ms, import ${importMs.toFixed(0)} ms (scrypt N=2^17, r=8, p=1)`;
				})
			)
		)
	);
	results.push(
		await timed('nothing is kept in localStorage', async () => {
			ensure(localStorage.length === 0, `localStorage holds ${localStorage.length} entries`);
		})
	);
	return results;
}

/** For the reload check: a device-protected vault with one secret, left in place. */
export async function vaultBeforeReload(profile: string, fill: number): Promise<void> {
	const store = await openStore(profile);
	const vault = await KeyVault.create(store, { kind: 'device', key: await deviceKey(profile) });
	await vault.put('patient/signing', secret(fill));
	await store.close();
}

export async function vaultAfterReload(profile: string): Promise<string> {
	const store = await openStore(profile);
	try {
		const vault = await KeyVault.unlock(store, { kind: 'device', key: await deviceKey(profile) });
		return bytesToHex(await vault.get('patient/signing'));
	} finally {
		await store.close();
		await forgetDeviceKey(profile);
		await deleteStore(profile);
	}
}
