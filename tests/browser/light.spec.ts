/**
 * Issue 17: the patient app on a light client, over the live demo network (relay and the headless Aster,
 * Birch and Cedar clinic nodes) and a browser clinic (Dogwood Medical). The phone registers, approves a
 * record the clinic writes, and its history shows the record pinned and its proof verified: checked on
 * the phone against the group's certificate over the batch header, from the record's Merkle path. Its
 * IndexedDB holds no chain (no keyblock, transaction, batch or patient block rows, which the clinic's
 * full node has), only the light node's frames and its own block; after a reload with no network the
 * phone verifies what it kept again and still shows the record pinned.
 */
import { expect, test, type Page } from '@playwright/test';
import { storyHarness } from './story-harness.ts';
import { openClinic, selectPatient, writeAndApprove } from './story-steps.ts';

const CLINIC = 'Dogwood Medical';
const DIAGNOSIS = 'Light client otter4';
/** A full node's chain tables (store.ts TABLES); a light client writes none of them. */
const CHAIN_TABLES = [
	'keyblocks',
	'transactions',
	'certificates',
	'patientBlocks',
	'handovers',
	'evidence',
	'journal'
];

const harness = storyHarness('light');

/** Rows per object store of one IndexedDB database of the page, and the keys of `meta` under `prefix`. */
function indexedDbRows(
	page: Page,
	database: string,
	prefix: string
): Promise<{ counts: Record<string, number>; meta: string[] }> {
	return page.evaluate(
		async ({ database, prefix }) => {
			const db = await new Promise<IDBDatabase>((resolve, reject) => {
				const open = indexedDB.open(database);
				open.onsuccess = () => resolve(open.result);
				open.onerror = () => reject(open.error);
			});
			const ask = <T>(request: IDBRequest<T>) =>
				new Promise<T>((resolve, reject) => {
					request.onsuccess = () => resolve(request.result);
					request.onerror = () => reject(request.error);
				});
			const counts: Record<string, number> = {};
			for (const name of Array.from(db.objectStoreNames))
				counts[name] = await ask(db.transaction(name).objectStore(name).count());
			const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
			const meta = await ask(db.transaction('meta').objectStore('meta').getAllKeys(range));
			db.close();
			return { counts, meta: meta.map(String) };
		},
		{ database, prefix }
	);
}

test('the patient app runs as a light client and verifies its record against a pinned certificate', async ({
	browser
}) => {
	test.setTimeout(900_000);
	const phone = await harness.newContext(browser, 'phone', {
		viewport: { width: 390, height: 844 },
		isMobile: true,
		hasTouch: true
	});
	const desktop = await harness.newContext(browser, 'desktop', { viewport: { width: 1280, height: 900 } });

	const patient = await phone.newPage();
	await patient.goto(`/patient?${harness.query()}`);
	await patient.getByRole('button', { name: 'Create my identity' }).click();
	const address = (await patient.getByTestId('patient-address').textContent({ timeout: 60_000 }))!.trim();
	const invitation = (await patient.getByTestId('patient-invitation').textContent())!.trim();
	await expect(patient.getByTestId('peers')).not.toHaveText('0', { timeout: 90_000 });
	// The phone says it is a light client, and follows the pinned keyblocks from a full node.
	await expect(patient.getByTestId('light-client')).toBeVisible();
	await expect
		.poll(async () => Number(await patient.getByTestId('height').textContent()), { timeout: 120_000 })
		.toBeGreaterThan(0);

	await patient.getByLabel('Full name').fill('Grace Hopper');
	await patient.getByLabel('Date of birth').fill('1906-12-09');
	await patient.getByLabel('Clinic', { exact: true }).selectOption('Aster Clinic');
	await patient.getByRole('button', { name: 'Register' }).click();
	await expect(patient.getByTestId('registration')).toContainText('Registered', { timeout: 240_000 });
	await expect(patient.getByTestId('registration')).toContainText('through Aster Clinic');

	const clinic = await openClinic(desktop, CLINIC, harness.query());
	await selectPatient(clinic, address, invitation);
	await writeAndApprove(clinic, patient, 'Condition', { Diagnosis: DIAGNOSIS }, DIAGNOSIS);

	// The history the light client reads: the record decrypted, pinned and its proof verified on the phone.
	const record = patient.getByTestId('record').filter({ hasText: DIAGNOSIS });
	await expect(record).toBeVisible({ timeout: 120_000 });
	await expect(record).toContainText('Pinned');
	await expect(record).toContainText('Proof verified');
	await expect(record).toContainText(CLINIC);
	await expect(patient.getByTestId('light-client')).toContainText('1 own record verified');
	await patient.screenshot({ path: 'test-results/light/patient-history.png', fullPage: true });

	// No full chain on the device: none of a full node's chain tables has a row, where the clinic's has.
	const phoneRows = await indexedDbRows(patient, 'spchain-patient', 'light/');
	for (const table of CHAIN_TABLES) expect(phoneRows.counts[table] ?? 0, `phone table ${table}`).toBe(0);
	expect(phoneRows.meta).toContain('light/block');
	expect(phoneRows.meta.filter((key) => key.startsWith('light/frame/')).length).toBeGreaterThan(0);
	const clinicRows = await indexedDbRows(clinic, 'spchain-clinic-dogwood-medical', 'light/');
	// The clinic's facts are single rows until they reach a segment's size (journal-segments.ts).
	const { keyblocks = 0, certificates = 0, journal = 0 } = clinicRows.counts;
	expect(keyblocks + journal).toBeGreaterThan(0);
	expect(certificates + journal).toBeGreaterThan(0);
	expect(clinicRows.meta).toEqual([]);

	// Reopened with no network: what the phone kept is verified again and the record still shows pinned.
	await patient.reload();
	await expect(patient.getByTestId('record').filter({ hasText: DIAGNOSIS })).toBeVisible({
		timeout: 120_000
	});
	await phone.setOffline(true);
	await patient.reload();
	const offline = patient.getByTestId('record').filter({ hasText: DIAGNOSIS });
	await expect(offline).toBeVisible({ timeout: 60_000 });
	await expect(offline).toContainText('Pinned');
	await expect(offline).toContainText('Proof verified');
	await expect(patient.getByTestId('peers')).toHaveText('0');
	await patient.screenshot({ path: 'test-results/light/patient-offline.png', fullPage: true });
	await phone.setOffline(false);
});
