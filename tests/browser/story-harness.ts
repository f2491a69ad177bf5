/**
 * What the story specs (app.spec.ts, join.spec.ts) share: the live demo network started once per file,
 * the browser contexts they open (closed afterwards), the pages' console errors and warnings, and on a
 * failure a screenshot of every page plus what the headless clinics and the pages said.
 */
import { test, type Browser, type BrowserContext, type Page } from '@playwright/test';
import { startDemoNetwork, type DemoNetwork } from './demo-network.ts';

export interface StoryHarness {
	/** `relay=…&genesis=…` for a page's query string. */
	query(): string;
	/** A new context, tracked: closed after the file, its console errors kept under `name`. */
	newContext(
		browser: Browser,
		name: string,
		options: Parameters<Browser['newContext']>[0]
	): Promise<BrowserContext>;
	/** A node check page (its own full node and profile) in the context, synced with the network. */
	openNodeCheck(context: BrowserContext): Promise<Page>;
}

/** Registers the hooks of a story file; `failures` names the folder of its failure screenshots. */
export function storyHarness(failures: string): StoryHarness {
	let network: DemoNetwork | undefined;
	const contexts: BrowserContext[] = [];
	const pageLog: string[] = [];

	test.beforeAll(async () => {
		network = await startDemoNetwork();
	});

	test.afterEach(async ({ browserName: _browser }, testInfo) => {
		if (testInfo.status === testInfo.expectedStatus) return;
		// What the screens and the headless clinics said when the story broke.
		for (const [i, context] of contexts.entries())
			for (const [j, page] of context.pages().entries())
				await page
					.screenshot({ path: `test-results/${failures}/failure-${i}-${j}.png`, fullPage: true })
					.catch(() => {});
		console.log(network?.log().slice(-6000));
		console.log(pageLog.slice(-80).join('\n'));
	});

	test.afterAll(async () => {
		for (const context of contexts) await context.close();
		await network?.stop();
	});

	const query = () => network!.query;
	return {
		query,
		async newContext(browser, name, options) {
			const context = await browser.newContext(options);
			contexts.push(context);
			context.on('console', (message) => {
				if (message.type() === 'error' || message.type() === 'warning')
					pageLog.push(
						`${name} ${new URL(message.page()?.url() ?? 'about:blank').pathname}: ${message.text()}`
					);
			});
			return context;
		},
		async openNodeCheck(context) {
			const page = await context.newPage();
			await page.goto(`/diagnostics/node?${query()}`);
			await page.waitForFunction(() => 'nodeDiagnostics' in window, undefined, { timeout: 90_000 });
			return page;
		}
	};
}
