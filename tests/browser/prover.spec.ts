import { expect, test } from '@playwright/test';

test('the prover check makes chameleon-hash proofs in a Web Worker and verifies them', async ({ page }) => {
	const workers: string[] = [];
	page.on('worker', (worker) => workers.push(worker.url()));
	const errors: string[] = [];
	page.on('pageerror', (error) => errors.push(error.message));

	await page.goto('/diagnostics/prover');
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('Prover check');
	await page.getByLabel('Warm proofs after the first').fill('1');
	await page.getByRole('button', { name: 'Run the prover check' }).click();
	// Progress is shown while the worker proves.
	await expect(page.locator('progress')).toBeVisible();
	const status = page.getByTestId('prover-status');
	await expect(status).toBeVisible({ timeout: 90_000 });
	await expect(status).toHaveText(/^verified: 2 proofs for one hash, and a tampered statement was rejected$/);

	// The proofs were made off the main thread, in the prover worker.
	expect(workers.some((url) => /prover\.worker/.test(url))).toBe(true);
	await expect(page.getByRole('row', { name: /first proof in the worker/ })).toBeVisible();
	await expect(page.getByRole('row', { name: /verifying 2 proofs as one batch/ })).toBeVisible();
	expect(errors).toEqual([]);
});
