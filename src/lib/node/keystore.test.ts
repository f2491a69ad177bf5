import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bigIntToBytes } from '../core/bytes.ts';
import { WrongPassphraseError } from '../keys/errors.ts';
import { KeyVault } from '../keys/vault.ts';
import { NodeStore } from '../store/store.node.ts';
import { KeyFileError, loadOrCreateInstitution, openKeystore } from './keystore.ts';

const dirs: string[] = [];
const tempDir = async () => {
	const dir = await mkdtemp(join(tmpdir(), 'spchain-keystore-'));
	dirs.push(dir);
	return dir;
};
afterEach(async () => {
	for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<Buffer[]> {
	const out: Buffer[] = [];
	for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }))
		if (entry.isFile()) out.push(await readFile(join(entry.parentPath, entry.name)));
	return out;
}

describe('Node keystore', () => {
	it('creates an institution with a key file on first open, keeps it, and stores no secret in clear', async () => {
		const dir = await tempDir();
		const first = await openKeystore({ dir });
		const created = await loadOrCreateInstitution(first.vault, 'Aster Clinic');
		await first.close();
		expect((await stat(join(dir, 'vault.key'))).mode & 0o777).toBe(0o600);

		const again = await openKeystore({ dir });
		const loaded = await loadOrCreateInstitution(again.vault, 'another name is ignored');
		await again.close();
		expect(loaded.institution).toEqual(created.institution);
		expect(loaded.secrets).toEqual(created.secrets);

		const secrets = [
			created.secrets.signingKey,
			created.secrets.blsKey,
			bigIntToBytes(created.secrets.trapdoor, 32)
		];
		for (const file of await filesUnder(join(dir, 'keys')))
			for (const secret of secrets) expect(file.includes(Buffer.from(secret))).toBe(false);
	});

	it('gives two data directories different keys', async () => {
		const a = await openKeystore({ dir: await tempDir() });
		const b = await openKeystore({ dir: await tempDir() });
		const [ia, ib] = [
			await loadOrCreateInstitution(a.vault, 'Same'),
			await loadOrCreateInstitution(b.vault, 'Same')
		];
		await a.close();
		await b.close();
		expect(ia.institution.id).not.toEqual(ib.institution.id);
		expect(ia.institution.blsKey).not.toEqual(ib.institution.blsKey);
		expect(ia.institution.chameleonKey).not.toEqual(ib.institution.chameleonKey);
	});

	it('refuses another key file and a damaged one', async () => {
		const dir = await tempDir();
		const keystore = await openKeystore({ dir });
		await loadOrCreateInstitution(keystore.vault, 'Birch Hospital');
		await keystore.close();
		const other = join(dir, 'other.key');
		await writeFile(other, crypto.getRandomValues(new Uint8Array(32)));
		await expect(openKeystore({ dir, keyFile: other })).rejects.toBeInstanceOf(WrongPassphraseError);
		await writeFile(other, new Uint8Array(7));
		await expect(openKeystore({ dir, keyFile: other })).rejects.toBeInstanceOf(KeyFileError);
	});

	it('opens a passphrase vault only with its passphrase, and restores from an encrypted backup', async () => {
		const dir = await tempDir();
		const passphrase = 'correct horse battery staple';
		const keystore = await openKeystore({ dir, passphrase, cost: { N: 2 ** 10 } });
		const created = await loadOrCreateInstitution(keystore.vault, 'Cedar Health');
		const backup = await keystore.vault.exportBackup('a backup passphrase', { cost: { N: 2 ** 10 } });
		await keystore.close();
		await expect(openKeystore({ dir, passphrase: 'not the passphrase' })).rejects.toBeInstanceOf(
			WrongPassphraseError
		);

		// A new machine: the backup restores the whole identity into a fresh store.
		const fresh = await tempDir();
		const store = await NodeStore.open(join(fresh, 'keys'));
		const protector = { kind: 'passphrase' as const, passphrase: 'a new passphrase', cost: { N: 2 ** 10 } };
		await expect(
			KeyVault.restore(store, backup, 'wrong backup passphrase', protector)
		).rejects.toBeInstanceOf(WrongPassphraseError);
		await KeyVault.restore(store, backup, 'a backup passphrase', protector);
		await store.close();
		const restored = await openKeystore({ dir: fresh, passphrase: 'a new passphrase' });
		const identity = await loadOrCreateInstitution(restored.vault, 'ignored');
		await restored.close();
		expect(identity.institution).toEqual(created.institution);
	});
});
