/**
 * The peer-to-peer network in real Chromium pages with a real relay on loopback (tests/browser/relay-
 * fixture.ts): two pages find each other through the relay's directory, upgrade to a direct WebRTC
 * connection, and keep gossiping and streaming after the relay is stopped; a Node PeerNet and a page
 * exchange gossip.
 */
import { expect, test, type Page } from '@playwright/test';
import { genesisQuery } from './dev-consortium.ts';
import { startNetFixture, type NetFixture } from './relay-fixture.ts';

type Diagnostics = import('../../src/routes/diagnostics/net/diagnostics.ts').NetDiagnostics;
declare global {
	interface Window {
		netDiagnostics: Diagnostics;
	}
}

let fixture: NetFixture | undefined;
test.afterEach(async () => {
	await fixture?.close();
	fixture = undefined;
});

async function openNode(page: Page, relay: string[]): Promise<string> {
	const errors: string[] = [];
	page.on('pageerror', (error) => errors.push(error.message));
	const query = relay.map((r) => `relay=${encodeURIComponent(r)}`).join('&') + `&${genesisQuery()}`;
	await page.goto(`/diagnostics/net?${query}`);
	await expect(page.getByRole('heading', { level: 1 })).toHaveText('Network check');
	await page.waitForFunction(() => 'netDiagnostics' in window, undefined, { timeout: 30_000 });
	expect(errors).toEqual([]);
	return page.evaluate(() => window.netDiagnostics.peerId);
}

const peersOf = (page: Page) => page.evaluate(() => window.netDiagnostics.peers());
const connectionsOf = (page: Page) => page.evaluate(() => window.netDiagnostics.connections());
const messagesOf = (page: Page) => page.evaluate(() => window.netDiagnostics.messages());

test('two pages connect through the relay, upgrade to WebRTC and keep working without it', async ({
	browser
}) => {
	fixture = await startNetFixture({ nodePeer: false });
	const [a, b] = await Promise.all([browser.newPage(), browser.newPage()]);
	const [idA, idB] = await Promise.all([openNode(a, fixture.relay), openNode(b, fixture.relay)]);

	const started = Date.now();
	await expect.poll(() => peersOf(a), { timeout: 45_000 }).toContain(idB);
	await expect.poll(() => peersOf(b), { timeout: 15_000 }).toContain(idA);
	console.log(`pages found each other and connected over WebRTC in ${Date.now() - started} ms`);

	// The connection between them is a direct (unlimited) WebRTC one: the relay only carried signalling.
	for (const [page, other] of [
		[a, idB],
		[b, idA]
	] as const) {
		const toOther = (await connectionsOf(page)).filter((c) => c.peer === other);
		const webrtc = toOther.filter((c) => c.direct && c.transport === 'webrtc');
		expect(webrtc.length, JSON.stringify(toOther)).toBeGreaterThan(0);
		for (const connection of webrtc) expect(connection.addr).toMatch(new RegExp(`/webrtc/p2p/${other}$`));
		expect(toOther.filter((c) => c.direct && c.transport !== 'webrtc')).toEqual([]);
	}
	// the listener's side names the peer by its WebRTC address alone: no relay in the path
	const listenerSide = [...(await connectionsOf(a)), ...(await connectionsOf(b))].filter(
		(c) => c.transport === 'webrtc' && !c.addr.includes('/p2p-circuit')
	);
	expect(listenerSide.length).toBeGreaterThan(0);

	await fixture.call('stopRelay');
	await expect
		.poll(async () => (await connectionsOf(a)).filter((c) => c.transport === 'websockets').length)
		.toBe(0);

	// gossip still propagates (the mesh forms within a few heartbeats of the connection)
	await expect
		.poll(
			async () => {
				await a.evaluate(() => window.netDiagnostics.publish('transactions', `tx ${Date.now()}`));
				return (await messagesOf(b)).some((m) => m.topic === 'transactions' && m.from === idA);
			},
			{ timeout: 20_000, intervals: [500] }
		)
		.toBe(true);
	await b.evaluate(() => window.netDiagnostics.publish('consensus', 'vote from b'));
	await expect
		.poll(async () => (await messagesOf(a)).filter((m) => m.body === 'vote from b').map((m) => m.from))
		.toEqual([idB]);

	// request/response over the direct connection
	const frames = await a.evaluate((peer) => window.netDiagnostics.request(peer, 4), idB);
	expect(frames).toEqual(['frame 0', 'frame 1', 'frame 2', 'frame 3']);

	// an invalid message is not delivered and costs the sender score points
	await a.evaluate(() => window.netDiagnostics.publish('transactions', 'bad payload'));
	await expect.poll(() => b.evaluate(() => window.netDiagnostics.stats().rejected)).toBeGreaterThan(0);
	expect((await messagesOf(b)).some((m) => m.body === 'bad payload')).toBe(false);
});

test('a Node peer and a page exchange gossip', async ({ page }) => {
	fixture = await startNetFixture();
	const id = await openNode(page, fixture.relay);
	await expect.poll(() => peersOf(page), { timeout: 45_000 }).toContain(fixture.nodePeer);
	await expect.poll(() => fixture!.call<string[]>('peers')).toContain(id);

	const f = fixture;
	await expect
		.poll(
			async () => {
				await f.call('publish', 'keyblocks', `from node ${Date.now()}`);
				return (await messagesOf(page)).some((m) => m.from === f.nodePeer && m.body.startsWith('from node'));
			},
			{ timeout: 20_000, intervals: [500] }
		)
		.toBe(true);
	await expect
		.poll(
			async () => {
				await page.evaluate(() => window.netDiagnostics.publish('batches', `from page ${Date.now()}`));
				const got = await f.call<{ body: string; from: string }[]>('messages');
				return got.some((m) => m.from === id && m.body.startsWith('from page'));
			},
			{ timeout: 20_000, intervals: [500] }
		)
		.toBe(true);
	const how = (await connectionsOf(page)).filter((c) => c.peer === f.nodePeer && c.direct);
	console.log(`page ↔ Node peer over ${how.map((c) => c.transport).join(', ')}`);
	expect(how.length).toBeGreaterThan(0);
});
