/**
 * A full node in a real Chromium page joins the live demo network (relay and headless clinic nodes in
 * Node), syncs and verifies the chain from them, follows new pinned keyblocks, and keeps its chain in
 * IndexedDB across a reload.
 */
import { expect, test } from '@playwright/test';
import { startDemoNetwork, type DemoNetwork } from './demo-network.ts';

let network: DemoNetwork;

test.beforeAll(async () => {
	network = await startDemoNetwork();
});

test.afterAll(async () => {
	await network?.stop();
});

test('a page joins the consortium, syncs the chain and keeps it across a reload', async ({ page }) => {
	test.setTimeout(240_000);
	const url = `/diagnostics/node?relay=${encodeURIComponent(network.relay[0]!)}`;
	await page.goto(url);
	await expect(page.getByTestId('peers')).not.toHaveText('0', { timeout: 60_000 });
	await expect
		.poll(async () => Number(await page.getByTestId('height').textContent()), { timeout: 120_000 })
		.toBeGreaterThanOrEqual(2);
	const before = Number(await page.getByTestId('height').textContent());
	// New keyblocks keep arriving by gossip.
	await expect
		.poll(async () => Number(await page.getByTestId('height').textContent()), { timeout: 120_000 })
		.toBeGreaterThan(before);
	const pinned = await page.evaluate(() =>
		(
			window as unknown as { nodeDiagnostics: { keyblocks(): { pinned: boolean; pinSigners: number }[] } }
		).nodeDiagnostics
			.keyblocks()
			.every((k) => k.pinned && k.pinSigners >= 3)
	);
	expect(pinned).toBe(true);

	// Reload: the chain comes back from IndexedDB (re-verified), before any peer is asked.
	const height = Number(await page.getByTestId('height').textContent());
	await page.reload();
	await expect
		.poll(async () => Number((await page.getByTestId('height').textContent()) ?? 0), { timeout: 60_000 })
		.toBeGreaterThanOrEqual(height);
});
