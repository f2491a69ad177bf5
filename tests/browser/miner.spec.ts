import { expect, test } from '@playwright/test';

test('the mining check runs the WASM kernel in Web Workers and mines a keyblock the chain accepts', async ({
	page
}) => {
	const workers: string[] = [];
	page.on('worker', (worker) => workers.push(worker.url()));
	const errors: string[] = [];
	page.on('pageerror', (error) => errors.push(error.message));

	await page.goto('/diagnostics/miner');
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mining check');
	await expect(page.getByTestId('simd-support')).toContainText('available (4 nonces per step)');

	await page.getByLabel('Workers').fill('2');
	await page.getByLabel('Seconds').fill('1');
	await page.getByRole('button', { name: 'Measure the mining rate' }).click();
	const rows = page.locator('tr[data-rate]');
	await expect(rows).toHaveCount(2, { timeout: 30_000 });
	for (const row of await rows.all()) {
		expect(Number(await row.getAttribute('data-rate'))).toBeGreaterThan(0);
		await expect(row).toContainText('SIMD');
	}

	await page.getByRole('button', { name: 'Mine a test keyblock' }).click();
	await expect(page.getByTestId('miner-status')).toHaveText(
		/^mined keyblock 1 with nonce \d+ .* the chain rules accepted it/,
		{ timeout: 60_000 }
	);
	expect(workers.filter((url) => /miner\.worker/.test(url)).length).toBeGreaterThanOrEqual(2);
	expect(errors).toEqual([]);
});
