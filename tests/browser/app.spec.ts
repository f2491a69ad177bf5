/**
 * The application story of issue 7, end to end over the live demo network (relay and the headless
 * Aster, Birch and Cedar clinic nodes): a patient on a phone, clinic A (Dogwood Medical, a consensus
 * genesis member) and clinic B (Elm Family Practice, outside the genesis group), each a browser context with its own
 * full node, keys and IndexedDB. Setup, Register, Upload cases 1-3, Label with consent, Share with B,
 * Revoke, offline reading of the history — read from the screens, and checked against the chain and the
 * bytes at rest. Every screen is saved as a screenshot under test-results/app/.
 */
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { startDemoNetwork, type DemoNetwork } from './demo-network.ts';

const CLINIC_A = 'Dogwood Medical';
const CLINIC_B = 'Elm Family Practice';
// Unique words, so the at-rest scan cannot match anything but these records.
const DIAGNOSIS = 'Influenza A quokka7';
const CORRECTED = 'Bacterial pneumonia wombat3';
const VISIT_B = 'Follow-up for cough numbat5';

let network: DemoNetwork;
const contexts: BrowserContext[] = [];

test.beforeAll(async () => {
	network = await startDemoNetwork();
});

test.afterEach(async ({ browserName: _browser }, testInfo) => {
	if (testInfo.status === testInfo.expectedStatus) return;
	// What the screens and the headless clinics said when the story broke.
	for (const [i, context] of contexts.entries())
		for (const [j, page] of context.pages().entries())
			await page
				.screenshot({ path: `test-results/app/failure-${i}-${j}.png`, fullPage: true })
				.catch(() => {});
	console.log(network?.log().slice(-6000));
});

test.afterAll(async () => {
	for (const context of contexts) await context.close();
	await network?.stop();
});

const relayQuery = () => `relay=${encodeURIComponent(network.relay[0]!)}`;

async function shot(page: Page, name: string): Promise<void> {
	await page.screenshot({ path: `test-results/app/${name}.png`, fullPage: true });
}

async function openClinic(context: BrowserContext, name: string): Promise<Page> {
	const page = await context.newPage();
	await page.goto(`/clinic?institution=${encodeURIComponent(name)}&${relayQuery()}`);
	await expect(page.getByTestId('peers')).not.toHaveText('0', { timeout: 90_000 });
	await expect
		.poll(async () => Number(await page.getByTestId('height').textContent()), { timeout: 120_000 })
		.toBeGreaterThan(0);
	return page;
}

/** The clinic scans the patient's QR invitation (its text: address and current peer id). */
async function selectPatient(clinic: Page, address: string, invitation: string): Promise<void> {
	await clinic.getByLabel('Patient address or invitation').fill(invitation);
	await clinic.getByRole('button', { name: 'Add patient' }).click();
	await clinic.locator(`button[title="${address}"]`).click();
}

/** The clinic writes, the patient approves on the phone, the clinic sees the record attached. */
async function writeAndApprove(
	clinic: Page,
	patient: Page,
	kind: string,
	fields: Record<string, string>,
	summary: string
): Promise<void> {
	await clinic.getByLabel('Record type').selectOption(kind);
	for (const [label, value] of Object.entries(fields))
		await clinic.getByLabel(label, { exact: true }).fill(value);
	await clinic.getByRole('button', { name: 'Write record' }).click();
	const request = patient.getByTestId('signing-request').filter({ hasText: summary });
	await expect(request).toBeVisible({ timeout: 120_000 });
	await request.getByRole('button', { name: 'Approve' }).click();
	await expect(clinic.getByTestId('pending-row').filter({ hasText: summary })).toContainText('Attached', {
		timeout: 240_000
	});
}

/** Every byte value in every IndexedDB database of the page, searched for `needle` (UTF-8). */
function indexedDbContains(page: Page, needle: string): Promise<boolean> {
	return page.evaluate(async (text) => {
		const target = new TextEncoder().encode(text);
		const has = (bytes: Uint8Array) => {
			outer: for (let i = 0; i + target.length <= bytes.length; i++) {
				for (let j = 0; j < target.length; j++) if (bytes[i + j] !== target[j]) continue outer;
				return true;
			}
			return false;
		};
		const walk = (value: unknown): boolean => {
			if (value instanceof Uint8Array) return has(value);
			if (value instanceof ArrayBuffer) return has(new Uint8Array(value));
			if (typeof value === 'string') return value.includes(text);
			if (value && typeof value === 'object') return Object.values(value).some(walk);
			return false;
		};
		for (const info of await indexedDB.databases()) {
			const db = await new Promise<IDBDatabase>((resolve, reject) => {
				const open = indexedDB.open(info.name!);
				open.onsuccess = () => resolve(open.result);
				open.onerror = () => reject(open.error);
			});
			for (const name of Array.from(db.objectStoreNames)) {
				const values = await new Promise<unknown[]>((resolve, reject) => {
					const request = db.transaction(name).objectStore(name).getAll();
					request.onsuccess = () => resolve(request.result);
					request.onerror = () => reject(request.error);
				});
				if (values.some(walk)) return true;
			}
			db.close();
		}
		return false;
	}, needle);
}

async function patientBlockHash(explorer: Page, shortAddress: string): Promise<string> {
	const row = explorer.getByTestId('patient-block-row').filter({ hasText: shortAddress });
	await expect(row).toBeVisible({ timeout: 60_000 });
	const hash = /[0-9a-f]{16,}/.exec((await row.textContent()) ?? '')?.[0];
	expect(hash, 'the patient block row shows its hash').toBeDefined();
	return hash!;
}

test('Setup, Register, Upload (cases 1-3), Label, Share and Revoke across a phone and two clinics', async ({
	browser
}) => {
	test.setTimeout(1_200_000);
	const phone = await browser.newContext({
		viewport: { width: 390, height: 844 },
		isMobile: true,
		hasTouch: true
	});
	const desktopA = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const desktopB = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	contexts.push(phone, desktopA, desktopB);

	// ---- Setup: the patient creates an identity with nothing but the browser.
	const patient = await phone.newPage();
	await patient.goto(`/patient?${relayQuery()}`);
	await shot(patient, '01-patient-welcome');
	await patient.getByRole('button', { name: 'Create my identity' }).click();
	const address = (await patient.getByTestId('patient-address').textContent({ timeout: 60_000 }))!.trim();
	expect(address).toMatch(/^spp1[0-9a-z]+$/);
	const invitation = (await patient.getByTestId('patient-invitation').textContent())!.trim();
	expect(invitation).toContain(address);
	await expect(patient.getByRole('img', { name: 'QR code of your invitation' })).toBeVisible();
	await expect(patient.getByTestId('peers')).not.toHaveText('0', { timeout: 90_000 });

	// ---- Register once, at a headless clinic of the demo network.
	await patient.getByLabel('Full name').fill('Ada Lovelace');
	await patient.getByLabel('Date of birth').fill('1985-12-10');
	await patient.getByLabel('Clinic', { exact: true }).selectOption('Aster Clinic');
	await shot(patient, '02-patient-register');
	await patient.getByRole('button', { name: 'Register' }).click();
	await expect(patient.getByTestId('registration')).toContainText('Registered', { timeout: 240_000 });
	await shot(patient, '03-patient-registered');

	// ---- Upload case 1 and 2 at clinic A.
	const clinicA = await openClinic(desktopA, CLINIC_A);
	// Membership follows mining and reputation epoch by epoch (runtime/membership-handover.ts).
	await expect(clinicA.getByTestId('member')).toHaveText(/^(Consensus member|Not a member)$/);
	await selectPatient(clinicA, address, invitation);
	await writeAndApprove(clinicA, patient, 'Condition', { Diagnosis: DIAGNOSIS }, DIAGNOSIS);
	await shot(clinicA, '04-clinic-a-first-record');
	await writeAndApprove(
		clinicA,
		patient,
		'Observation',
		{ Test: 'Body temperature', Value: '38.9', Unit: 'Cel' },
		'Body temperature'
	);
	await shot(clinicA, '05-clinic-a-second-record');

	// ---- Upload case 3: a first visit at clinic B, which cannot read A's records.
	const clinicB = await openClinic(desktopB, CLINIC_B);
	await selectPatient(clinicB, address, invitation);
	await expect(clinicB.getByText('Nothing shared yet')).toBeVisible();
	await writeAndApprove(clinicB, patient, 'Encounter', { Reason: VISIT_B }, VISIT_B);
	await expect(clinicB.getByTestId('clinic-record')).toHaveCount(1);
	await expect(clinicB.getByTestId('clinic-record')).not.toContainText(DIAGNOSIS);
	expect(await indexedDbContains(clinicB, DIAGNOSIS)).toBe(false);
	await shot(clinicB, '06-clinic-b-first-visit');

	// The patient's phone shows the whole history across institutions, every record pinned and verified.
	const history = patient.getByTestId('record');
	await expect(history).toHaveCount(3, { timeout: 120_000 });
	for (const record of await history.all()) {
		await expect(record).toContainText('Pinned');
		await expect(record).toContainText('Proof verified');
	}
	await expect(history.filter({ hasText: DIAGNOSIS })).toContainText(CLINIC_A);
	await expect(history.filter({ hasText: VISIT_B })).toContainText(CLINIC_B);
	await shot(patient, '07-patient-history');

	// ---- Label at A with the patient's consent: the patient block's hash does not change.
	const explorer = await desktopB.newPage();
	await explorer.goto(`/explorer?${relayQuery()}`);
	const shortAddress = address.slice(0, 12);
	const hashBefore = await patientBlockHash(explorer, shortAddress);
	await shot(explorer, '08-explorer');

	const original = clinicA.getByTestId('clinic-record').filter({ hasText: DIAGNOSIS });
	await original.getByRole('button', { name: 'Correct (label)' }).click();
	await clinicA.getByLabel('Diagnosis', { exact: true }).fill(CORRECTED);
	await clinicA.getByLabel('Reason for correction').fill('Sputum culture came back positive');
	await clinicA.getByRole('button', { name: 'Submit correction' }).click();
	const labelRequest = patient.getByTestId('signing-request').filter({ hasText: 'Sputum culture' });
	await expect(labelRequest).toBeVisible({ timeout: 120_000 });
	await shot(patient, '09-patient-label-request');
	await labelRequest.getByRole('button', { name: 'Approve' }).click();
	await expect(clinicA.getByTestId('pending-row').filter({ hasText: CORRECTED })).toContainText('Attached', {
		timeout: 240_000
	});

	const labelled = patient.getByTestId('record').filter({ hasText: CORRECTED });
	await expect(labelled).toBeVisible({ timeout: 120_000 });
	await expect(labelled).toContainText('Labelled');
	await expect(labelled).toContainText(DIAGNOSIS); // the original is kept, marked as labelled
	await expect(labelled).toContainText(CLINIC_A);
	await expect(labelled).toContainText('Sputum culture came back positive');
	await shot(patient, '10-patient-labelled');

	await explorer.reload();
	await expect
		.poll(
			async () => explorer.getByTestId('patient-block-row').filter({ hasText: shortAddress }).textContent(),
			{
				timeout: 120_000
			}
		)
		.toMatch(/labelled|1 labelled/i);
	expect(await patientBlockHash(explorer, shortAddress)).toBe(hashBefore);

	// ---- Share the whole history with B: B reads A's records, end-to-end encrypted to B.
	await patient.getByLabel('Share with', { exact: true }).selectOption(CLINIC_B);
	await patient.getByLabel('Records', { exact: true }).selectOption({ label: 'Whole history' });
	await patient.getByLabel('Purpose').fill('Second opinion');
	await patient.getByLabel('Days').fill('7');
	await patient.getByRole('button', { name: 'Share' }).click();
	const consent = patient.getByTestId('consent').filter({ hasText: CLINIC_B });
	await expect(consent).toBeVisible({ timeout: 120_000 });
	await shot(patient, '11-patient-shared');

	await clinicB.reload();
	const shared = clinicB.getByTestId('shared-record');
	await expect(shared.filter({ hasText: CORRECTED })).toBeVisible({ timeout: 180_000 });
	await expect(shared.filter({ hasText: 'Body temperature' })).toBeVisible();
	await shot(clinicB, '12-clinic-b-shared');

	// The holder A logged B's access, and the patient reads that log.
	await patient.reload();
	await expect(patient.getByTestId('access-row').filter({ hasText: CLINIC_B }).first()).toBeVisible({
		timeout: 120_000
	});

	// ---- Revoke: the consent is marked revoked.
	await patient
		.getByTestId('consent')
		.filter({ hasText: CLINIC_B })
		.getByRole('button', { name: 'Revoke' })
		.click();
	await expect(patient.getByTestId('consent').filter({ hasText: CLINIC_B })).toContainText('Revoked', {
		timeout: 60_000
	});
	await shot(patient, '13-patient-revoked');

	// ---- Ciphertext at rest: clinic A's stores hold no plaintext of the records it wrote.
	for (const text of [DIAGNOSIS, CORRECTED, 'Body temperature'])
		expect(await indexedDbContains(clinicA, text)).toBe(false);

	// ---- Every record transaction is pinned and attached, as clinic A and B see them.
	for (const clinic of [clinicA, clinicB])
		for (const row of await clinic.getByTestId('pending-row').all())
			await expect(row).toContainText('Attached');

	// ---- Offline: the installed app reloads without a network and still shows the cached history.
	await patient.reload();
	await expect(patient.getByTestId('record')).toHaveCount(3, { timeout: 120_000 });
	await phone.setOffline(true);
	await patient.reload();
	await expect(patient.getByTestId('record').filter({ hasText: CORRECTED })).toBeVisible({ timeout: 60_000 });
	await expect(patient.getByTestId('record').filter({ hasText: VISIT_B })).toBeVisible();
	await shot(patient, '14-patient-offline');
	await phone.setOffline(false);
});
