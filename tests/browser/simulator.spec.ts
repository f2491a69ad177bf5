import { expect, test } from '@playwright/test';

test('the simulator page runs a seeded scenario in a worker and draws its charts and table', async ({
	page
}) => {
	await page.goto('/simulator');
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('Attack simulator');
	await page.getByRole('tab', { name: 'Selfish mining' }).click();
	await page.getByLabel('Seed').fill('7');
	await page.getByRole('button', { name: 'Run' }).click();
	const result = page.locator('section[aria-live="polite"]');
	await expect(result.getByText(/Seed 7, .* s in a worker/)).toBeVisible({ timeout: 60_000 });
	await expect(result.locator('figure svg').first()).toBeVisible();
	await expect(result.locator('table tbody tr').first()).toBeVisible();
	const firstRun = await result.locator('table').first().innerText();

	// Same seed → identical table: the scenario is deterministic in the browser too.
	// The first run's caption stays up during the second, so wait for the button: disabled while it runs.
	await page.getByRole('button', { name: 'Run' }).click();
	await expect(page.getByRole('button', { name: 'Run' })).toBeDisabled();
	await expect(page.getByRole('button', { name: 'Run' })).toBeEnabled({ timeout: 60_000 });
	await expect(result.getByText(/Seed 7, .* s in a worker/)).toBeVisible();
	expect(await result.locator('table').first().innerText()).toBe(firstRun);
});

test('the inhibition scenario runs Algorithm 2 in the worker and draws the share and wait charts', async ({
	page
}) => {
	await page.goto('/simulator');
	await page.getByRole('tab', { name: 'Starving transactions' }).click();
	await expect(page.getByRole('heading', { level: 2 })).toContainText('Inhibition attack');
	// A short horizon: the browser check is that the scenario runs here, the numbers are tested in vitest.
	await page.getByLabel('Rounds Δ').fill('60');
	await page.getByRole('button', { name: 'Run' }).click();
	const result = page.locator('section[aria-live="polite"]');
	await expect(result.getByText(/Seed 1, .* s in a worker/)).toBeVisible({ timeout: 60_000 });
	await expect(result.locator('figcaption')).toHaveText(['inhibition.svg', 'inhibition-latency.svg']);
	await expect(result.locator('table tbody tr', { hasText: 'spchain-squeeze' }).first()).toBeVisible();
	await expect(result.getByRole('button', { name: 'inhibition-summary.csv' })).toBeVisible();
});
