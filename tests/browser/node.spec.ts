/**
 * A full node in a real Chromium page joins the live demo network (relay and headless clinic nodes in
 * Node), syncs and verifies the chain from them, follows new pinned keyblocks, and keeps its chain in
 * IndexedDB across a reload; two pages pass a patient's transaction to each other over WebRTC alone.
 */
import { expect, test, type Page } from '@playwright/test';
import { startDemoNetwork, type DemoNetwork } from './demo-network.ts';
import { genesisQuery } from './dev-consortium.ts';
import { startNetFixture } from './relay-fixture.ts';

type NodeDiagnostics = import('../../src/routes/diagnostics/node/diagnostics.ts').NodeDiagnostics;
declare global {
	interface Window {
		nodeDiagnostics: NodeDiagnostics;
	}
}

let network: DemoNetwork;

test.beforeAll(async () => {
	network = await startDemoNetwork();
});

test.afterAll(async () => {
	await network?.stop();
});

test('a page rejects forged keyblocks from a peer and bans that peer', async ({ page }) => {
	test.setTimeout(180_000);
	await page.goto(`/diagnostics/node?${network.query}`);
	await expect(page.getByTestId('peers')).not.toHaveText('0', { timeout: 60_000 });
	const forger = await startNetFixture({ bootstrap: network.relay });
	try {
		// Wait until the forger has a real keyblock to forge from and the page is one of its peers.
		const pageId = await page.evaluate(
			() =>
				(window as unknown as { nodeDiagnostics: { view(): { peerId: string } } }).nodeDiagnostics.view()
					.peerId
		);
		// A direct connection: a relayed (limited) one carries no gossip.
		await expect
			.poll(
				async () =>
					(await forger.call<{ peer: string; direct: boolean }[]>('connections')).some(
						(c) => c.peer === pageId && c.direct
					),
				{ timeout: 90_000 }
			)
			.toBe(true);
		await expect.poll(() => forger.call<boolean>('forgeKeyblocks', 0), { timeout: 60_000 }).toBe(true);
		const heightBefore = Number(await page.getByTestId('height').textContent());
		await forger.call('forgeKeyblocks', 8);
		await expect
			.poll(async () => Number(await page.getByTestId('rejected').textContent()), { timeout: 30_000 })
			.toBeGreaterThan(0);
		await expect
			.poll(async () => Number(await page.getByTestId('banned').textContent()), { timeout: 30_000 })
			.toBeGreaterThan(0);
		// The chain only moved by real, pinned keyblocks.
		const kept = await page.evaluate(() =>
			(
				window as unknown as {
					nodeDiagnostics: { keyblocks(limit: number): { pinned: boolean; pinSigners: number }[] };
				}
			).nodeDiagnostics
				.keyblocks(1000)
				.every((k) => k.pinned && k.pinSigners >= 1)
		);
		expect(kept).toBe(true);
		expect(Number(await page.getByTestId('height').textContent())).toBeGreaterThanOrEqual(heightBefore);
	} finally {
		await forger.close();
	}
});

test('a page that joins later syncs the whole chain, the same chain as an earlier page', async ({
	page,
	browser
}) => {
	test.setTimeout(240_000);
	const url = `/diagnostics/node?${network.query}`;
	await page.goto(url);
	await expect
		.poll(async () => Number(await page.getByTestId('height').textContent()), { timeout: 120_000 })
		.toBeGreaterThanOrEqual(3);
	const later = await browser.newContext();
	try {
		const second = await later.newPage();
		await second.goto(url);
		const target = Number(await page.getByTestId('height').textContent());
		await expect
			.poll(async () => Number(await second.getByTestId('height').textContent()), { timeout: 120_000 })
			.toBeGreaterThanOrEqual(target);
		type Diagnostics = { nodeDiagnostics: { keyblocks(limit: number): { height: number; hash: string }[] } };
		const chainOf = (p: typeof page) =>
			p.evaluate(() =>
				(window as unknown as Diagnostics).nodeDiagnostics
					.keyblocks(1000)
					.map((k) => `${k.height}:${k.hash}`)
					.reverse()
			);
		const [a, b] = [await chainOf(page), await chainOf(second)];
		const common = Math.min(a.length, b.length);
		expect(common).toBeGreaterThanOrEqual(target);
		expect(b.slice(0, common)).toEqual(a.slice(0, common));
	} finally {
		await later.close();
	}
});

test('a transaction submitted on one page reaches the mempool of another over WebRTC alone', async ({
	browser
}) => {
	test.setTimeout(180_000);
	// A network of its own: a relay and the two pages, no clinic node that could carry the transaction.
	const fixture = await startNetFixture({ nodePeer: false });
	const contexts = [await browser.newContext(), await browser.newContext()];
	try {
		const [a, b] = await Promise.all(contexts.map((context) => context.newPage()));
		const open = async (page: Page) => {
			await page.goto(`/diagnostics/node?relay=${encodeURIComponent(fixture.relay[0]!)}&${genesisQuery()}`);
			await page.waitForFunction(() => 'nodeDiagnostics' in window, undefined, { timeout: 60_000 });
			return page.evaluate(() => window.nodeDiagnostics.view().peerId);
		};
		const [idA, idB] = [await open(a!), await open(b!)];
		const webrtcTo = (page: Page, other: string) =>
			page.evaluate(
				(peer) =>
					window.nodeDiagnostics
						.connections()
						.some((c) => c.peer === peer && c.direct && c.transport === 'webrtc'),
				other
			);
		await expect.poll(() => webrtcTo(a!, idB), { timeout: 90_000 }).toBe(true);
		await expect.poll(() => webrtcTo(b!, idA), { timeout: 15_000 }).toBe(true);

		await fixture.call('stopRelay');
		await expect
			.poll(() =>
				a!.evaluate(() => window.nodeDiagnostics.connections().filter((c) => c.transport !== 'webrtc').length)
			)
			.toBe(0);

		// A fresh patient's register transaction, signed in page A and submitted through its node. Until the
		// gossip mesh has formed over the new connection a publish can reach nobody, so each try is a new one.
		const submitted: string[] = [];
		await expect
			.poll(
				async () => {
					submitted.push(await a!.evaluate(() => window.nodeDiagnostics.submitRegister()));
					const reached = await b!.evaluate(
						(ids) => ids.filter((id) => window.nodeDiagnostics.transaction(id).inMempool),
						submitted
					);
					return reached.length;
				},
				{ timeout: 60_000, intervals: [1000] }
			)
			.toBeGreaterThan(0);
		// Page A's own node admitted every one it built (signature, fees), so they are real transactions.
		for (const id of submitted)
			expect(await a!.evaluate((tx) => window.nodeDiagnostics.transaction(tx).inMempool, id)).toBe(true);
	} finally {
		for (const context of contexts) await context.close();
		await fixture.close();
	}
});

// Last: it stops the demo network.
test('a page joins the consortium, syncs the chain and keeps it across a reload', async ({ page }) => {
	test.setTimeout(240_000);
	const url = `/diagnostics/node?${network.query}`;
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
			.every((k) => k.pinned && k.pinSigners >= 1)
	);
	expect(pinned).toBe(true);

	// Reload with the whole network stopped: no peer to sync from, so the chain the page shows can only come
	// from IndexedDB (re-verified), and it is the chain it had, keyblock for keyblock.
	await network.stop();
	await expect(page.getByTestId('peers')).toHaveText('0', { timeout: 30_000 });
	// The shown height follows the chain a moment later: let it settle on the last keyblock received.
	const shownHeight = async () => Number(await page.getByTestId('height').textContent());
	const chainLength = () => page.evaluate(() => window.nodeDiagnostics.keyblocks(1000).length);
	await expect
		.poll(async () => (await shownHeight()) === (await chainLength()), { timeout: 30_000 })
		.toBe(true);
	const height = await shownHeight();
	const chain = await page.evaluate(() => window.nodeDiagnostics.keyblocks(1000).map((k) => k.hash));
	expect(chain).toHaveLength(height);
	await page.reload();
	await expect(page.getByTestId('height')).toBeVisible({ timeout: 60_000 });
	expect(Number(await page.getByTestId('height').textContent())).toBe(height);
	expect(await page.evaluate(() => window.nodeDiagnostics.keyblocks(1000).map((k) => k.hash))).toEqual(chain);
	await expect(page.getByTestId('peers')).toHaveText('0');
});
