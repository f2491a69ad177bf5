import { expect, test, type BrowserContext, type Page } from '@playwright/test';

type Checks = typeof import('../../src/routes/diagnostics/store/checks.ts');
type VaultChecks = typeof import('../../src/routes/diagnostics/store/vault-checks.ts');
declare global {
	interface Window {
		storeDiagnostics: Pick<
			Checks,
			| 'runStoreContract'
			| 'quotaCheck'
			| 'quotaRecovered'
			| 'writeMarker'
			| 'readMarker'
			| 'storageStatus'
			| 'writeSpeed'
			| 'crashWriter'
			| 'crashSurvivors'
			| 'crashProgress'
		> &
			Pick<VaultChecks, 'runVaultChecks' | 'vaultBeforeReload' | 'vaultAfterReload'>;
		tabsDiagnostics: {
			tabId(): string | undefined;
			role(): string;
			call(method: string, args?: unknown[], timeoutMs?: number): Promise<Record<string, unknown>>;
			events(): string[];
			leaderExists(): Promise<boolean>;
		};
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
	for (const [durability, perBatch, rows] of [
		['relaxed', 1, 500],
		['strict', 1, 500],
		['relaxed', 100, 20_000]
	] as const) {
		const rate = await page.evaluate(([d, b, n]) => window.storeDiagnostics.writeSpeed(n, d, b), [
			durability,
			perBatch,
			rows
		] as const);
		console.log(`IndexedDB ${durability}, ${perBatch} row(s) per batch: ${rate.toFixed(0)} rows/s`);
		expect(rate).toBeGreaterThan(0);
	}
	expect(errors).toEqual([]);
});

test('a batch past the origin quota fails whole with StorageFullError', async ({ page, context }) => {
	// A real quota, lowered before the page first touches storage (Chromium samples an origin's quota
	// when it opens its IndexedDB backing store): 3 MB, a few times what the page itself uses.
	const cdp = await context.newCDPSession(page);
	const origin = new URL(test.info().project.use.baseURL!).origin;
	await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 3_000_000 });
	await openChecks(page);
	try {
		const { usage } = await page.evaluate(() => window.storeDiagnostics.storageStatus());
		expect(usage).toBeLessThan(1_000_000);
		const outcome = await page.evaluate(() => window.storeDiagnostics.quotaCheck(8_000_000));
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

test('a tab that crashes mid-write leaves every committed batch whole and no partial one', async ({
	context
}) => {
	const page = await context.newPage();
	await openChecks(page);
	const profile = `crash-${Date.now()}`;
	void page.evaluate((p) => window.storeDiagnostics.crashWriter(p), profile).catch(() => undefined);
	await page.waitForFunction(() => window.storeDiagnostics.crashProgress.committed >= 30);
	const reported = await page.evaluate(() => window.storeDiagnostics.crashProgress.committed);
	const cdp = await context.newCDPSession(page);
	const crashed = page.waitForEvent('crash');
	void cdp.send('Page.crash').catch(() => undefined); // the renderer dies mid-loop; no reply comes
	await crashed;
	const after = await context.newPage();
	await openChecks(after);
	const survivors = await after.evaluate((p) => window.storeDiagnostics.crashSurvivors(p), profile);
	console.log(`crash: ${reported + 1} batches reported committed, ${survivors.batches} in the store`);
	expect(survivors.whole).toBe(true);
	expect(survivors.batches).toBeGreaterThanOrEqual(reported + 1);
	expect(survivors.tip).toBe(survivors.batches - 1);
});

const tabErrors: string[] = [];
async function tab(context: BrowserContext, query: string) {
	const page = await context.newPage();
	page.on('pageerror', (error) => tabErrors.push(error.message));
	await page.goto(`/diagnostics/store/tabs?${query}`);
	await page.waitForFunction(() => 'tabsDiagnostics' in window);
	return page;
}
const role = (page: Page) => page.evaluate(() => window.tabsDiagnostics.role());
const call = (page: Page, method: string, args: unknown[] = []) =>
	page.evaluate(([m, a]) => window.tabsDiagnostics.call(m, a), [method, args] as const);

test('one tab per profile leads, the others call it, and closing it promotes the next', async ({
	context
}) => {
	const group = `group=tabs-${Date.now()}`;
	const a = await tab(context, group);
	await expect(a.getByTestId('role')).toHaveText(/^This tab: leader/);
	const b = await tab(context, group);
	const c = await tab(context, group);
	await expect(b.getByTestId('role')).toContainText('follower');
	await expect(c.getByTestId('role')).toContainText('follower');
	const aId = await a.evaluate(() => window.tabsDiagnostics.tabId());

	// Every tab's calls, the leader's own included, are answered by the leader, which holds the state.
	for (const page of [a, b, c]) expect(await call(page, 'whoami')).toEqual({ ok: true, value: aId });
	await c.getByRole('button', { name: 'Ask the leader who it is' }).click(); // the typed leaderClient
	await expect(c.getByTestId('answered-by')).toHaveText(`Answered by ${aId!.slice(0, 8)}`);
	expect(await call(b, 'increment')).toEqual({ ok: true, value: 1 });
	expect(await call(c, 'increment')).toEqual({ ok: true, value: 2 });
	expect(await call(c, 'add', [2, 3])).toEqual({ ok: true, value: 5 });
	expect(await call(b, 'fail')).toEqual({
		ok: false,
		name: 'RemoteCallError',
		remoteName: 'DemoError',
		code: 'demo-failure'
	});
	expect(await call(b, 'nonexistent')).toMatchObject({ ok: false, remoteName: 'UnknownMethodError' });
	await call(c, 'announce', ['hello']);
	await expect.poll(() => b.evaluate(() => window.tabsDiagnostics.events())).toEqual(['note: hello']);
	expect(await role(b)).toBe('waiting');
	expect(await role(c)).toBe('waiting');

	// A call the leader took when it closes fails with LeaderLostError; the next tab in line leads.
	const inFlight = call(b, 'slow', [10_000]);
	await b.waitForTimeout(300);
	await a.close();
	expect(await inFlight).toMatchObject({ ok: false, name: 'LeaderLostError' });
	await expect(b.getByTestId('role')).toHaveText(/^This tab: leader/);
	const bId = await b.evaluate(() => window.tabsDiagnostics.tabId());
	expect(bId).not.toBe(aId);
	expect(await call(c, 'whoami')).toEqual({ ok: true, value: bId });
	expect(await call(c, 'increment')).toEqual({ ok: true, value: 1 }); // a new node: state from its store only
	expect(await role(c)).toBe('waiting');
	await b.close();
	await expect(c.getByTestId('role')).toHaveText(/^This tab: leader/);
	expect(tabErrors).toEqual([]);
	expect(await call(c, 'whoami')).toEqual({
		ok: true,
		value: await c.evaluate(() => window.tabsDiagnostics.tabId())
	});
});

test('a call made while no tab leads waits for one to be elected', async ({ context }) => {
	const group = `group=tabs-wait-${Date.now()}`;
	const observer = await tab(context, `${group}&lead=0`);
	expect(await role(observer)).toBe('observer');
	expect(await observer.evaluate(() => window.tabsDiagnostics.leaderExists())).toBe(false);
	const pending = call(observer, 'whoami');
	await observer.waitForTimeout(500);
	const leader = await tab(context, group);
	await expect(leader.getByTestId('role')).toHaveText(/^This tab: leader/);
	expect(await pending).toEqual({
		ok: true,
		value: await leader.evaluate(() => window.tabsDiagnostics.tabId())
	});
	expect(await observer.evaluate(() => window.tabsDiagnostics.leaderExists())).toBe(true);
});
