import { expect, test } from '@playwright/test';

test('the built PWA loads, registers its service worker and serves an installable manifest', async ({
	page,
	request,
	baseURL
}) => {
	const origin = new URL('/', baseURL).toString();
	await page.goto('/');
	await expect(page.getByRole('heading', { level: 1 })).toContainText('medical records');

	const scope = await page.evaluate(async () => {
		const registration = await navigator.serviceWorker.ready;
		return registration.scope;
	});
	expect(scope).toBe(origin);

	const href = await page.locator('link[rel="manifest"]').getAttribute('href');
	expect(href).toBeTruthy();
	const response = await request.get(new URL(href!, origin).toString());
	expect(response.ok()).toBe(true);
	const manifest = await response.json();
	expect(manifest.name).toBeTruthy();
	expect(manifest.short_name).toBeTruthy();
	expect(manifest.start_url).toBe('/');
	expect(['standalone', 'fullscreen', 'minimal-ui']).toContain(manifest.display);
	const sizes = manifest.icons.map((icon: { sizes: string }) => icon.sizes);
	expect(sizes).toContain('192x192');
	expect(sizes).toContain('512x512');
	for (const icon of manifest.icons) {
		const image = await request.get(new URL(icon.src, origin).toString());
		expect(image.ok()).toBe(true);
		expect(image.headers()['content-type']).toBe('image/png');
	}
});

test('the app shell reloads offline once the service worker has cached it', async ({ page, context }) => {
	await page.goto('/');
	await page.evaluate(() => navigator.serviceWorker.ready);
	await page.reload();
	await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
	await context.setOffline(true);
	await page.reload();
	await expect(page.getByRole('heading', { level: 1 })).toContainText('medical records');
	await context.setOffline(false);
});

test('the service worker precaches the app but not the FHIR validator, which loads on demand', async ({
	page,
	request
}) => {
	await page.goto('/');
	await page.evaluate(() => navigator.serviceWorker.ready);
	const lazy = (await (await request.get('/_app/lazy-chunks.json')).json()) as string[];
	// @medplum/core and the R4 definitions: two chunks of their own (vite.config.ts lists them).
	expect(lazy).toHaveLength(2);
	const cached = await page.evaluate(async () => {
		const name = (await caches.keys()).find((key) => key.startsWith('spchain-'))!;
		const cache = await caches.open(name);
		return (await cache.keys()).map((entry) => new URL(entry.url).pathname);
	});
	expect(cached.filter((path) => path.startsWith('/_app/immutable/')).length).toBeGreaterThan(10);
	for (const file of lazy) expect(cached).not.toContain(`/${file}`);
});
