/**
 * The clinic reads a patient's QR invitation (issue 7) from a photo and from the camera, and the scanned
 * text takes the same path as a pasted one: the patient appears in the clinic's list, selected. The
 * camera test runs its own Chromium with a fake camera that films a Y4M picture of the code, written
 * here from the QR's modules. The clinic tab joins a real relay (tests/browser/relay-fixture.ts).
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { chromium, expect, test, type BrowserContext, type Page } from '@playwright/test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import QRCode from 'qrcode';
import { CHROMIUM, CHROMIUM_ARGS } from '../../scripts/chromium.mjs';
import { addressOf } from '../../src/lib/core/identity.ts';
import { genesisQuery } from './dev-consortium.ts';
import { startNetFixture, type NetFixture } from './relay-fixture.ts';

let fixture: NetFixture;
test.beforeAll(async () => {
	fixture = await startNetFixture();
});
test.afterAll(async () => {
	await fixture?.close();
});

const relayQuery = () =>
	[...fixture.relay.map((r) => `relay=${encodeURIComponent(r)}`), genesisQuery()].join('&');

/** A patient's invitation as the patient app makes it: a real address and a real peer id. */
function invitation(seed: number): { address: string; text: string } {
	const address = addressOf(schnorr.getPublicKey(new Uint8Array(32).fill(seed)), 'patient');
	return { address, text: `spchain:invite?patient=${address}&peer=${fixture.nodePeer}` };
}

async function openClinic(context: BrowserContext): Promise<{ page: Page; errors: string[] }> {
	const page = await context.newPage();
	const errors: string[] = [];
	page.on('pageerror', (error) => errors.push(error.message));
	await page.goto(`/clinic?institution=${encodeURIComponent('Elm Family Practice')}&${relayQuery()}`);
	await expect(page.getByRole('heading', { name: 'Patients' })).toBeVisible({ timeout: 90_000 });
	return { page, errors };
}

/** Records every track the page's getUserMedia hands out, in window.cameraTracks. */
const watchCameraTracks = (page: Page) =>
	page.evaluate(() => {
		const live: MediaStreamTrack[] = [];
		const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
		navigator.mediaDevices.getUserMedia = async (constraints) => {
			const stream = await original(constraints);
			live.push(...stream.getTracks());
			return stream;
		};
		Object.assign(window, { cameraTracks: live });
	});
const cameraTracks = (page: Page) =>
	page.evaluate(() =>
		(window as unknown as { cameraTracks: MediaStreamTrack[] }).cameraTracks.map((t) => t.readyState)
	);

const photoInput = (page: Page) => page.getByLabel('Read QR invitation from a photo');

test('a photo of the QR invitation adds the patient as a pasted invitation does', async ({ browser }) => {
	const context = await browser.newContext();
	const { page, errors } = await openClinic(context);
	const { address, text } = invitation(7);
	const png = await QRCode.toBuffer(text, { type: 'png', width: 480, margin: 2, errorCorrectionLevel: 'M' });

	await photoInput(page).setInputFiles({ name: 'invitation.png', mimeType: 'image/png', buffer: png });
	const patient = page.locator(`button[title="${address}"]`);
	await expect(patient).toBeVisible({ timeout: 15_000 });
	await expect(patient).toHaveAttribute('aria-pressed', 'true');
	await expect(page.getByRole('heading', { name: /^Write a record for/ })).toBeVisible();
	await expect(page.getByLabel('Patient address or invitation')).toHaveValue('');

	// A code that is not an invitation: the form shows what was read and the clinic's own refusal.
	const other = await QRCode.toBuffer('https://example.org/not-an-invitation', { type: 'png', width: 300 });
	await photoInput(page).setInputFiles({ name: 'other.png', mimeType: 'image/png', buffer: other });
	await expect(page.getByLabel('Patient address or invitation')).toHaveValue(
		'https://example.org/not-an-invitation'
	);
	await expect(page.getByText('This is not a patient address')).toBeVisible();

	// A picture with no code in it, and a file that is no image.
	const blank = await QRCode.toBuffer('x', { type: 'png', width: 200, color: { dark: '#ffffff' } });
	await photoInput(page).setInputFiles({ name: 'blank.png', mimeType: 'image/png', buffer: blank });
	await expect(page.getByRole('alert').filter({ hasText: 'No QR invitation was found' })).toBeVisible();
	await photoInput(page).setInputFiles({
		name: 'notes.txt',
		mimeType: 'text/plain',
		buffer: Buffer.from('hello')
	});
	await expect(page.getByRole('alert').filter({ hasText: 'could not be read as an image' })).toBeVisible();

	// This browser has no camera (and no permission to one): the scanner says so in a sentence.
	await page.getByRole('button', { name: 'Scan QR invitation with the camera' }).click();
	await expect(
		page.getByRole('alert').filter({ hasText: /camera was not allowed|No camera was found/ })
	).toBeVisible();
	await expect(page.getByRole('button', { name: 'Scan QR invitation with the camera' })).toBeVisible();
	expect(errors).toEqual([]);
	await context.close();
});

/**
 * A Y4M video (YUV 4:2:0) of the QR code, black modules on white, centred in a 640×480 frame: the
 * picture Chromium's fake camera plays in a loop.
 */
function qrY4m(text: string): Buffer {
	const W = 640;
	const H = 480;
	const qr = QRCode.create(text, { errorCorrectionLevel: 'M' });
	const size = qr.modules.size;
	const cell = Math.floor(Math.min(W, H) / (size + 8));
	const left = Math.floor((W - cell * size) / 2);
	const top = Math.floor((H - cell * size) / 2);
	const luma = Buffer.alloc(W * H, 235);
	for (let y = 0; y < size * cell; y++)
		for (let x = 0; x < size * cell; x++)
			if (qr.modules.get(Math.floor(y / cell), Math.floor(x / cell))) luma[(top + y) * W + left + x] = 16;
	const chroma = Buffer.alloc((W / 2) * (H / 2) * 2, 128);
	const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
	return Buffer.concat([Buffer.from(`YUV4MPEG2 W${W} H${H} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]);
}

test('the camera reads the QR invitation and stops once it has', async () => {
	const { address, text } = invitation(9);
	const dir = mkdtempSync(join(tmpdir(), 'spchain-qr-'));
	const video = join(dir, 'invitation.y4m');
	writeFileSync(video, qrY4m(text));
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		args: [
			...CHROMIUM_ARGS,
			'--use-fake-device-for-media-stream',
			'--use-fake-ui-for-media-stream',
			`--use-file-for-fake-video-capture=${video}`
		]
	});
	try {
		const context = await browser.newContext({
			baseURL: test.info().project.use.baseURL,
			permissions: ['camera']
		});
		const { page, errors } = await openClinic(context);
		await watchCameraTracks(page);
		await page.getByRole('button', { name: 'Scan QR invitation with the camera' }).click();
		const patient = page.locator(`button[title="${address}"]`);
		await expect(patient).toBeVisible({ timeout: 30_000 });
		await expect(patient).toHaveAttribute('aria-pressed', 'true');
		// The scanner closed and let the camera go.
		await expect(page.locator('video')).toHaveCount(0);
		await expect.poll(() => cameraTracks(page)).toEqual(['ended']);

		// A camera that films no code: the scanner keeps looking until it is closed by hand.
		await page.evaluate(() => {
			const canvas = Object.assign(document.createElement('canvas'), { width: 320, height: 240 });
			const paint = () => canvas.getContext('2d')!.fillRect(0, 0, 320, 240);
			paint();
			setInterval(paint, 100);
			navigator.mediaDevices.getUserMedia = async () => {
				const stream = canvas.captureStream(10);
				(window as unknown as { cameraTracks: MediaStreamTrack[] }).cameraTracks.push(...stream.getTracks());
				return stream;
			};
		});
		await page.getByRole('button', { name: 'Scan QR invitation with the camera' }).click();
		await expect(page.getByRole('status').filter({ hasText: 'Hold the QR invitation' })).toBeVisible();
		await expect.poll(() => cameraTracks(page)).toEqual(['ended', 'live']);
		await page.getByRole('button', { name: 'Stop camera' }).click();
		await expect.poll(() => cameraTracks(page)).toEqual(['ended', 'ended']);
		await expect(page.locator('video')).toHaveCount(0);
		expect(errors).toEqual([]);
		await context.close();
	} finally {
		await browser.close();
		rmSync(dir, { recursive: true, force: true });
	}
});
