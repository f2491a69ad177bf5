/**
 * Accessibility (issue 7): every screen, on a desktop and on a phone, has no serious or critical axe-core
 * violation (WCAG 2.x A/AA and best practices: labels, names, contrast, landmarks…), and the patient's
 * first action works from the keyboard alone with a visible focus ring. Pages that run a node join a real
 * relay (tests/browser/relay-fixture.ts) through `?relay=`.
 */
import AxeBuilder from '@axe-core/playwright';
import { schnorr } from '@noble/curves/secp256k1.js';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { addressOf } from '../../src/lib/core/identity.ts';
import { genesisQuery } from './dev-consortium.ts';
import { startNetFixture, type NetFixture } from './relay-fixture.ts';

let fixture: NetFixture;
test.beforeAll(async () => {
	fixture = await startNetFixture({ nodePeer: false });
});
test.afterAll(async () => {
	await fixture?.close();
});

const relayQuery = () =>
	[...fixture.relay.map((r) => `relay=${encodeURIComponent(r)}`), genesisQuery()].join('&');

const VIEWPORTS = {
	desktop: { viewport: { width: 1280, height: 800 } },
	phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 }
} as const;

interface Screen {
	name: string;
	path: () => string;
	/** What the screen shows once it is up (a node joined, a scenario ran). */
	ready: (page: Page) => Promise<void>;
}

const SCREENS: Screen[] = [
	{
		name: 'home',
		path: () => '/',
		ready: (page) => expect(page.getByRole('heading', { level: 1 })).toBeVisible()
	},
	{
		name: 'patient welcome',
		path: () => `/patient?${relayQuery()}`,
		ready: (page) => expect(page.getByRole('button', { name: 'Create my identity' })).toBeVisible()
	},
	{
		name: 'patient open',
		path: () => `/patient?${relayQuery()}`,
		ready: async (page) => {
			await page.getByRole('button', { name: 'Create my identity' }).click();
			await expect(page.getByRole('heading', { name: 'My address' })).toBeVisible({ timeout: 90_000 });
			await expect(page.getByRole('heading', { name: 'Register once' })).toBeVisible();
		}
	},
	{
		name: 'clinic chooser',
		path: () => '/clinic',
		ready: (page) => expect(page.getByRole('button', { name: 'Open clinic' })).toBeVisible()
	},
	{
		name: 'clinic open',
		path: () => `/clinic?institution=${encodeURIComponent('Dogwood Medical')}&${relayQuery()}`,
		ready: async (page) => {
			await expect(page.getByRole('heading', { name: 'Patients' })).toBeVisible({ timeout: 90_000 });
			await expect(page.getByRole('button', { name: /Scan QR invitation/ })).toBeVisible();
			// With a patient: the record form and the bundle import.
			const address = addressOf(schnorr.getPublicKey(new Uint8Array(32).fill(3)), 'patient');
			await page.getByLabel('Patient address or invitation').fill(address);
			await page.getByRole('button', { name: 'Add patient' }).click();
			await expect(page.getByRole('button', { name: 'Write record' })).toBeVisible();
		}
	},
	{
		name: 'explorer',
		path: () => `/explorer?${relayQuery()}`,
		ready: (page) =>
			expect(page.getByRole('heading', { name: 'Consensus group and reputation' })).toBeVisible({
				timeout: 60_000
			})
	},
	{
		name: 'simulator',
		path: () => '/simulator',
		ready: async (page) => {
			// With a result: the summary table, the charts and the download buttons are part of the screen.
			await page.getByRole('tab', { name: 'Flash / 51% attack' }).click();
			await page.getByRole('button', { name: 'Run' }).click();
			await expect(page.getByText(/Seed 1, .* s in a worker/)).toBeVisible({ timeout: 60_000 });
		}
	}
];

async function seriousViolations(page: Page): Promise<string[]> {
	const { violations } = await new AxeBuilder({ page }).analyze();
	return violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map(
			(v) =>
				`${v.impact} ${v.id}: ${v.help}\n` +
				v.nodes.map((n) => `    ${n.target.join(' ')}: ${n.failureSummary ?? ''}`).join('\n')
		);
}

async function openScreen(browser: Browser, screen: Screen, viewport: keyof typeof VIEWPORTS) {
	const context = await browser.newContext(VIEWPORTS[viewport]);
	const page = await context.newPage();
	const errors: string[] = [];
	page.on('pageerror', (error) => errors.push(error.message));
	await page.goto(screen.path());
	await screen.ready(page);
	return { context, page, errors };
}

for (const viewport of Object.keys(VIEWPORTS) as (keyof typeof VIEWPORTS)[])
	for (const screen of SCREENS)
		test(`${screen.name} (${viewport}) has no serious or critical axe violation`, async ({ browser }) => {
			const { context, page, errors } = await openScreen(browser, screen, viewport);
			try {
				expect((await seriousViolations(page)).join('\n')).toBe('');
				// Responsive: nothing wider than the viewport makes the whole page scroll sideways.
				const overflow = await page.evaluate(
					() => document.documentElement.scrollWidth - document.documentElement.clientWidth
				);
				expect(overflow).toBeLessThanOrEqual(1);
				expect(errors).toEqual([]);
			} finally {
				await context.close();
			}
		});

test('the patient creates an identity with the keyboard alone, seeing where the focus is', async ({
	browser
}) => {
	const { context, page } = await openScreen(
		browser,
		SCREENS.find((s) => s.name === 'patient welcome')!,
		'phone'
	);
	try {
		const create = page.getByRole('button', { name: 'Create my identity' });
		let reached = false;
		for (let i = 0; i < 20 && !reached; i++) {
			await page.keyboard.press('Tab');
			reached = await create.evaluate((el) => el === document.activeElement);
		}
		expect(reached).toBe(true);
		const ring = await create.evaluate((el) => {
			const style = getComputedStyle(el);
			return {
				focusVisible: el.matches(':focus-visible'),
				outline: style.outlineStyle,
				width: parseFloat(style.outlineWidth)
			};
		});
		expect(ring.focusVisible).toBe(true);
		expect(ring.outline).not.toBe('none');
		expect(ring.width).toBeGreaterThanOrEqual(2);
		await page.keyboard.press('Enter');
		await expect(page.getByRole('heading', { name: 'My address' })).toBeVisible({ timeout: 90_000 });
		await expect(page.getByTestId('patient-address')).toHaveText(/^spp1/);
	} finally {
		await context.close();
	}
});
