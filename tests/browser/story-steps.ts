/**
 * Steps the story specs (app.spec.ts, light.spec.ts) take on the screens: a browser clinic opened from
 * its key backup and synced, a patient added by invitation, a record written and approved on the phone.
 */
import { expect, type BrowserContext, type Page } from '@playwright/test';
import { restoreDevClinic } from './dev-consortium.ts';

export async function openClinic(context: BrowserContext, name: string, query: string): Promise<Page> {
	const page = await context.newPage();
	await restoreDevClinic(page, name, query);
	await expect(page.getByTestId('peers')).not.toHaveText('0', { timeout: 90_000 });
	await expect
		.poll(async () => Number(await page.getByTestId('height').textContent()), { timeout: 120_000 })
		.toBeGreaterThan(0);
	return page;
}

/** The clinic scans the patient's QR invitation (its text: address and current peer id). */
export async function selectPatient(clinic: Page, address: string, invitation: string): Promise<void> {
	await clinic.getByLabel('Patient address or invitation').fill(invitation);
	await clinic.getByRole('button', { name: 'Add patient' }).click();
	await clinic.locator(`button[title="${address}"]`).click();
}

/** The clinic writes a record with the form; the patient's phone shows the request (the record it opened). */
export async function writeRequest(
	clinic: Page,
	patient: Page,
	kind: string,
	fields: Record<string, string>,
	summary: string
) {
	await clinic.getByLabel('Record type').selectOption(kind);
	for (const [label, value] of Object.entries(fields))
		await clinic.getByLabel(label, { exact: true }).fill(value);
	await clinic.getByRole('button', { name: 'Write record' }).click();
	const request = patient.getByTestId('signing-request').filter({ hasText: summary });
	await expect(request).toBeVisible({ timeout: 120_000 });
	return request;
}

/**
 * The clinic writes, the patient reads the record on the phone (decrypted there from the sealed bytes the
 * transaction points at: `shown` is read before signing) and approves; the clinic sees it attached.
 */
export async function writeAndApprove(
	clinic: Page,
	patient: Page,
	kind: string,
	fields: Record<string, string>,
	summary: string,
	shown: (string | RegExp)[] = [summary]
): Promise<void> {
	const request = await writeRequest(clinic, patient, kind, fields, summary);
	for (const text of shown) await expect(request.getByTestId('signing-record')).toContainText(text);
	await request.getByRole('button', { name: 'Approve' }).click();
	await expect(clinic.getByTestId('pending-row').filter({ hasText: summary })).toContainText('Attached', {
		timeout: 240_000
	});
}
