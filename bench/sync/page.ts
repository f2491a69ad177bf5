/**
 * The node check page (/diagnostics/node) as the sync bench reads it: its view of the chain on
 * `window.nodeDiagnostics`, the renderers' CPU, and a reload timed until the chain is back.
 */
import type { CDPSession, Page } from 'playwright-core';
import type { NodeView } from '../../src/lib/app/types.ts';

type Diagnostics = { nodeDiagnostics?: { view(): NodeView } };

/** CPU seconds the renderer processes (the page, its Web Workers) have used so far. */
export async function rendererCpu(cdp: CDPSession): Promise<number> {
	const { processInfo } = (await cdp.send('SystemInfo.getProcessInfo')) as {
		processInfo: { type: string; cpuTime: number }[];
	};
	return processInfo.filter((p) => p.type === 'renderer').reduce((sum, p) => sum + p.cpuTime, 0);
}

export async function pageView(page: Page) {
	return page.evaluate(() => {
		const view = (window as unknown as Diagnostics).nodeDiagnostics?.view();
		return (
			view && {
				height: view.height,
				batches: view.batches,
				patients: view.patients,
				peers: view.peers,
				sync: view.sync,
				verification: view.verification,
				errors: view.errors
			}
		);
	});
}

export type PageView = NonNullable<Awaited<ReturnType<typeof pageView>>>;

/**
 * Reloads the page and polls (every 50 ms) until its node holds `height` keyblocks: the restart's
 * "usable". Fails after `stallMs`.
 */
export async function reloadUntil(
	page: Page,
	height: number,
	stallMs: number
): Promise<{ ms: number; view: PageView }> {
	const started = performance.now();
	await page.reload();
	let view = await pageView(page);
	while (!view || view.height < height) {
		if (performance.now() - started > stallMs)
			throw new Error(`the reloaded page did not reopen its chain: ${JSON.stringify(view)}`);
		await new Promise((resolve) => setTimeout(resolve, 50));
		view = await pageView(page);
	}
	return { ms: performance.now() - started, view };
}
