import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devInstitution, DEV_INSTITUTION_NAMES } from '../../../tests/fixtures/genesis-dev.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { openStore } from '../store/store.node.ts';
import { KeyNotFoundError, VaultStateError, WeakPassphraseError, WrongPassphraseError } from './errors.ts';
import {
	loadInstitutionSecrets,
	loadPatientSecrets,
	saveInstitutionSecrets,
	savePatientSecrets
} from './secrets.ts';
import { KeyVault, type VaultProtector } from './vault.ts';

const cost = { N: 2 ** 10 };
const PASS = 'a long enough passphrase';
const passphrase = (p = PASS): VaultProtector => ({ kind: 'passphrase', passphrase: p, cost });
const newDeviceKey = () =>
	crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['wrapKey', 'unwrapKey']);
const secret = (fill: number) => new Uint8Array(32).fill(fill);

describe('KeyVault', () => {
	it('keeps secrets encrypted in the keys table and opens them with the passphrase', async () => {
		const store = new MemoryStore();
		const vault = await KeyVault.create(store, passphrase());
		await vault.putAll({ a: secret(0xa1), b: secret(0xb2) });
		expect(await vault.names()).toEqual(['a', 'b']);
		for (const [, row] of await store.list('keys')) {
			const raw = Buffer.from(row);
			expect(raw.includes(Buffer.from(secret(0xa1)))).toBe(false);
			expect(raw.includes(Buffer.from(secret(0xb2)))).toBe(false);
		}
		const again = await KeyVault.unlock(store, passphrase());
		expect(await again.get('a')).toEqual(secret(0xa1));
		expect(await again.find('missing')).toBeUndefined();
		await expect(again.get('missing')).rejects.toBeInstanceOf(KeyNotFoundError);
		await expect(KeyVault.unlock(store, passphrase('not the passphrase'))).rejects.toBeInstanceOf(
			WrongPassphraseError
		);
		await expect(KeyVault.create(store, passphrase())).rejects.toMatchObject({ code: 'vault-exists' });
		await again.delete('b');
		expect(await again.names()).toEqual(['a']);
	});

	it('refuses a row moved under another name and a locked vault', async () => {
		const store = new MemoryStore();
		const vault = await KeyVault.create(store, passphrase());
		await vault.putAll({ a: secret(1), b: secret(2) });
		const rowA = await store.get('keys', 'secret/a');
		await store.write([{ table: 'keys', key: 'secret/b', value: rowA! }]);
		await expect(vault.get('b')).rejects.toMatchObject({ code: 'vault-damaged' });
		vault.lock();
		await expect(vault.get('a')).rejects.toMatchObject({ code: 'vault-locked' });
		await expect(vault.put('c', secret(3))).rejects.toBeInstanceOf(VaultStateError);
	});

	it('opens with a non-extractable device key instead of a passphrase', async () => {
		const store = new MemoryStore();
		const key = await newDeviceKey();
		expect(key.extractable).toBe(false);
		const vault = await KeyVault.create(store, { kind: 'device', key });
		await vault.put('a', secret(7));
		expect(await KeyVault.protection(store)).toBe('device');
		expect(await (await KeyVault.unlock(store, { kind: 'device', key })).get('a')).toEqual(secret(7));
		await expect(
			KeyVault.unlock(store, { kind: 'device', key: await newDeviceKey() })
		).rejects.toBeInstanceOf(WrongPassphraseError);
		await expect(KeyVault.unlock(store, passphrase())).rejects.toMatchObject({ code: 'vault-locked' });
	});

	it('changes its protector and keeps every secret', async () => {
		const store = new MemoryStore();
		const vault = await KeyVault.create(store, { kind: 'device', key: await newDeviceKey() });
		await vault.putAll({ a: secret(1), b: secret(2) });
		await expect(vault.changeProtector(passphrase('short'))).rejects.toBeInstanceOf(WeakPassphraseError);
		await vault.changeProtector(passphrase('the new passphrase'));
		expect(vault.protection).toBe('passphrase');
		expect(await vault.get('b')).toEqual(secret(2));
		const reopened = await KeyVault.unlock(store, passphrase('the new passphrase'));
		expect(await reopened.get('a')).toEqual(secret(1));
		await reopened.changeProtector(passphrase('another passphrase'));
		await expect(KeyVault.unlock(store, passphrase('the new passphrase'))).rejects.toBeInstanceOf(
			WrongPassphraseError
		);
		expect(await (await KeyVault.unlock(store, passphrase('another passphrase'))).get('b')).toEqual(
			secret(2)
		);
	});

	it('exports a backup that another device imports under its own protection', async () => {
		const from = await KeyVault.create(new MemoryStore(), passphrase());
		await savePatientSecrets(from, { signingKey: secret(5), masterKey: secret(6) });
		const file = await from.exportBackup('backup passphrase', { cost });
		const to = await KeyVault.create(new MemoryStore(), { kind: 'device', key: await newDeviceKey() });
		await expect(to.importBackup(file, 'wrong passphrase')).rejects.toBeInstanceOf(WrongPassphraseError);
		expect(await to.names()).toEqual([]);
		expect(await to.importBackup(file, 'backup passphrase')).toEqual(['patient/master', 'patient/signing']);
		expect(await loadPatientSecrets(to)).toEqual({ signingKey: secret(5), masterKey: secret(6) });
	});

	it('stores an institution secret set and survives a restart of the Node store', async () => {
		const dir = await mkdtemp(join(tmpdir(), 'spchain-vault-'));
		try {
			const { secrets } = devInstitution(DEV_INSTITUTION_NAMES[0]);
			let store = await openStore(dir);
			const vault = await KeyVault.create(store, passphrase());
			expect(await loadInstitutionSecrets(vault)).toBeUndefined();
			await saveInstitutionSecrets(vault, secrets);
			await store.close();
			store = await openStore(dir);
			expect(await loadInstitutionSecrets(await KeyVault.unlock(store, passphrase()))).toEqual(secrets);
			await store.close();
		} finally {
			await rm(dir, { recursive: true, force: true });
		}
	});

	it('restores a backup over a vault whose passphrase is lost, replacing it whole', async () => {
		const from = await KeyVault.create(new MemoryStore(), passphrase());
		await from.putAll({ a: secret(1), b: secret(2) });
		const file = await from.exportBackup('backup passphrase', { cost });
		const store = new MemoryStore();
		const lost = await KeyVault.create(store, passphrase('forgotten passphrase'));
		await lost.putAll({ stale: secret(9) });
		const before = await store.list('keys');
		const device = { kind: 'device' as const, key: await newDeviceKey() };
		await expect(KeyVault.restore(store, file, 'not it at all', device)).rejects.toBeInstanceOf(
			WrongPassphraseError
		);
		expect(await store.list('keys')).toEqual(before);
		const restored = await KeyVault.restore(store, file, 'backup passphrase', device);
		expect(await restored.names()).toEqual(['a', 'b']);
		expect(await (await KeyVault.unlock(store, device)).get('b')).toEqual(secret(2));
		await expect(KeyVault.unlock(store, passphrase('forgotten passphrase'))).rejects.toMatchObject({
			code: 'vault-locked'
		});
	});
});
