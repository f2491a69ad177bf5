import { expect, test, type Page } from '@playwright/test';

type Checks = typeof import('../../src/routes/diagnostics/store/checks.ts');
type VaultChecks = typeof import('../../src/routes/diagnostics/store/vault-checks.ts');
declare global {
	interface Window {
		storeDiagnostics: Pick<
			Checks,
			'runStoreContract' | 'quotaCheck' | 'quotaRecovered' | 'writeMarker' | 'readMarker' | 'storageStatus'
		> &
			Pick<VaultChecks, 'runVaultChecks' | 'vaultBeforeReload' | 'vaultAfterReload'>;
	}
}

async function openChecks(page: Page) {
	const errors: string[] = [];
	page.on('pageerror', (error) => errors.push(error.message));
	await page.goto('/diagnostics/store');
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('Store check');
	await page.waitForFunction(() => 'storeDiagnostics' in window);
	return errors;
}

test('IndexedDB store passes the shared Store contract and the key vault checks in Chromium', async ({
	page
}) => {
	const errors = await openChecks(page);
	await page.getByRole('button', { name: 'Run the store checks' }).click();
	await expect(page.getByTestId('store-status')).toBeVisible({ timeout: 60_000 });
	const rows = page.locator('tr[data-check]');
	expect(await rows.count()).toBeGreaterThanOrEqual(10);
	const backupRow = page.locator('tr[data-check*="backup"]');
	await expect(backupRow).toContainText('scrypt N=2^17');
	console.log(`key backup in Chromium: ${await backupRow.locator('td').first().innerText()}`);
	for (const row of await rows.all())
		await expect(row, await row.innerText()).toHaveAttribute('data-ok', 'true');
	await expect(page.getByTestId('store-status')).toHaveText('all store checks passed');
	await expect(page.getByTestId('storage-status')).toContainText('Persistent storage:');
	expect(errors).toEqual([]);
});

test('a batch past the origin quota fails whole with StorageFullError', async ({ page, context }) => {
	await openChecks(page);
	const origin = new URL(page.url()).origin;
	const cdp = await context.newCDPSession(page);
	const { usage } = await page.evaluate(() => window.storeDiagnostics.storageStatus());
	// A real quota: Chromium's quota manager enforces it on IndexedDB commits like any other quota.
	await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: usage + 1_000_000 });
	try {
		const outcome = await page.evaluate(() => window.storeDiagnostics.quotaCheck(4_000_000));
		expect(outcome).toEqual({
			storageFull: true,
			message: expect.stringContaining('no storage left'),
			keptOldValue: true,
			wroteNothingNew: true
		});
	} finally {
		await cdp.send('Storage.overrideQuotaForOrigin', { origin });
	}
	// With room again, the same store writes: the failure left it usable, not half-written.
	expect(await page.evaluate(() => window.storeDiagnostics.quotaRecovered())).toBe('written');
});

test('a page reload keeps what the store committed and the device-protected keys', async ({ page }) => {
	await openChecks(page);
	const text = `marker ${Date.now()}`;
	await page.evaluate((t) => window.storeDiagnostics.writeMarker('reload-check', t), text);
	await page.evaluate(() => window.storeDiagnostics.vaultBeforeReload('reload-vault', 0xab));
	await page.reload();
	await page.waitForFunction(() => 'storeDiagnostics' in window);
	expect(await page.evaluate(() => window.storeDiagnostics.readMarker('reload-check'))).toBe(text);
	expect(await page.evaluate(() => window.storeDiagnostics.vaultAfterReload('reload-vault'))).toBe(
		'ab'.repeat(32)
	);
});
