/**
 * One node per profile across the tabs of an origin (src/lib/app/profile-tabs.ts), in the real app: a
 * second tab of the same profile takes it over, the first closes its node and says where it went, and
 * can take it back. Only one tab ever holds the profile's lock, so two nodes never write one store.
 */
import { expect, test, type Page } from '@playwright/test';
import { genesisQuery } from './dev-consortium.ts';
import { startNetFixture, type NetFixture } from './relay-fixture.ts';

let fixture: NetFixture | undefined;
test.afterEach(async () => {
	await fixture?.close();
	fixture = undefined;
});

const explorerReady = (page: Page) =>
	expect(page.getByRole('heading', { name: 'Consensus group and reputation' })).toBeVisible({
		timeout: 60_000
	});

const profileLocks = (page: Page) =>
	page.evaluate(async () => {
		const { held = [] } = await navigator.locks.query();
		return held.filter((lock) => lock.name?.endsWith('profile:explorer')).length;
	});

test('the newest tab takes a profile over; the other closes its node, says so, and can take it back', async ({
	browser
}) => {
	fixture = await startNetFixture();
	const query = fixture.relay.map((r) => `relay=${encodeURIComponent(r)}`).join('&') + `&${genesisQuery()}`;
	const context = await browser.newContext();
	const errors: string[] = [];
	const first = await context.newPage();
	first.on('pageerror', (error) => errors.push(error.message));
	await first.goto(`/explorer?${query}`);
	await explorerReady(first);
	expect(await profileLocks(first)).toBe(1);

	const second = await context.newPage();
	second.on('pageerror', (error) => errors.push(error.message));
	await second.goto(`/explorer?${query}`);
	await explorerReady(second);
	await expect(first.getByTestId('profile-moved')).toBeVisible();
	await expect(first.getByRole('heading', { name: 'Consensus group and reputation' })).toHaveCount(0);
	expect(await profileLocks(second)).toBe(1);

	await first.getByRole('button', { name: 'Use here instead' }).click();
	await explorerReady(first);
	await expect(second.getByTestId('profile-moved')).toBeVisible();
	expect(await profileLocks(first)).toBe(1);
	expect(errors).toEqual([]);
	await context.close();
});
