/**
 * The deterministic consortium of the browser tests (tests/fixtures/genesis-dev.ts), handed to the app
 * the way a real one is: the genesis as a file (a data: URL the pages get through `?genesis=`, so no
 * server of the test's own is needed), the headless clinics' keys in their keystores before they start,
 * and a browser clinic's keys as a key backup the test restores on the clinic screen. The app itself
 * never derives a key from a public seed.
 */
import { expect, type Page } from '@playwright/test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeGenesisFile } from '../../src/lib/core/genesis-file.ts';
import { bytesToHex } from '../../src/lib/core/bytes.ts';
import { KeyVault } from '../../src/lib/keys/vault.ts';
import { saveInstitutionIdentity } from '../../src/lib/keys/secrets.ts';
import { clinicDir } from '../../src/lib/node/local-consortium.ts';
import { openKeystore } from '../../src/lib/node/keystore.ts';
import { MemoryStore } from '../../src/lib/store/memory-store.ts';
import { devGenesis, devInstitution } from '../fixtures/genesis-dev.ts';

export const BACKUP_PASSPHRASE = 'test backup passphrase';

export function devGenesisFile(): string {
	return encodeGenesisFile({ genesis: devGenesis() });
}

/** `genesis=<data URL>` for a page's query. */
export function genesisQuery(): string {
	const url = `data:application/json;base64,${Buffer.from(devGenesisFile()).toString('base64')}`;
	return `genesis=${encodeURIComponent(url)}`;
}

/** Writes the genesis file and the headless clinics' keystores into a data directory (clinic-main reads them). */
export async function seedDevConsortium(dataDir: string, clinics: string[]): Promise<void> {
	writeFileSync(join(dataDir, 'genesis.json'), devGenesisFile());
	for (const name of clinics) {
		const dev = devInstitution(name);
		const keystore = await openKeystore({ dir: clinicDir(dataDir, name) });
		await saveInstitutionIdentity(keystore.vault, name, dev.secrets);
		await keystore.close();
	}
}

/** A dev institution's key backup, as its clinic would have exported it. */
export async function devKeyBackup(name: string): Promise<Uint8Array> {
	const vault = await KeyVault.create(new MemoryStore(), {
		kind: 'passphrase',
		passphrase: BACKUP_PASSPHRASE,
		cost: { N: 2 ** 10 }
	});
	await saveInstitutionIdentity(vault, name, devInstitution(name).secrets);
	return vault.exportBackup(BACKUP_PASSPHRASE, { cost: { N: 2 ** 10 } });
}

/** Restores a dev institution on the clinic screen and waits for its session (query: relay and genesis). */
export async function restoreDevClinic(page: Page, name: string, query: string): Promise<void> {
	await page.goto(`/clinic?${query}`);
	await page.getByLabel('Key backup file').setInputFiles({
		name: `${name}.spchain-keys`,
		mimeType: 'application/vnd.spchain.key-backup',
		buffer: Buffer.from(await devKeyBackup(name))
	});
	await page.getByLabel('Backup passphrase').fill(BACKUP_PASSPHRASE);
	await page.getByRole('button', { name: 'Restore and open' }).click();
	await expect(page.getByRole('heading', { level: 1, name })).toBeVisible({ timeout: 60_000 });
}

/** A dev institution's id and signing secret (hex), for window.nodeDiagnostics.fetchCiphertext. */
export function devRequester(name: string): { id: string; signingKey: string } {
	const dev = devInstitution(name);
	return { id: bytesToHex(dev.institution.id), signingKey: bytesToHex(dev.secrets.signingKey) };
}
