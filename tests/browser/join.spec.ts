/**
 * Issue 12's acceptance story, over the live demo network (relay and the headless Aster, Birch and Cedar
 * clinics, which admit any well-formed application: ADMISSION=open): a clinic tab creates an institution
 * the genesis does not name, its keys made in the browser; it applies, the consensus group admits it by a
 * keyblock; it mines a keyblock that gets pinned; a patient registered after the admission (so the patient
 * block has a leaf for the newcomer) approves a record the newcomer writes, and shares it with the
 * headless Birch Hospital. Birch acknowledges the share only after it opened the records sealed to it and
 * checked each against the chain (app/holder.ts receiveShare), so the phone showing the consent as given
 * (not pending) is Birch having read the newcomer's record.
 */
import { expect, test } from '@playwright/test';
import { storyHarness } from './story-harness.ts';

type NodeDiagnostics = import('../../src/routes/diagnostics/node/diagnostics.ts').NodeDiagnostics;
declare global {
	interface Window {
		nodeDiagnostics: NodeDiagnostics;
	}
}

// A name outside the genesis (tests/fixtures/genesis-dev.ts names the founders).
const NEWCOMER = 'Juniper Valley Clinic';
const HEADLESS = 'Birch Hospital';
const DIAGNOSIS = 'Seasonal allergic rhinitis kestrel4';
// Mining at a quarter duty on a shared 2-core machine: keyblocks take minutes.
const CHAIN_WAIT = 600_000;

const story = storyHarness('join');
const { newContext, openNodeCheck } = story;

test('a browser clinic creates its institution, is admitted, mines, writes, and its record is shared', async ({
	browser
}) => {
	test.setTimeout(2_400_000);
	const desktop = await newContext(browser, 'clinic', { viewport: { width: 1280, height: 900 } });
	const observer = await newContext(browser, 'observer', { viewport: { width: 1280, height: 900 } });
	const phone = await newContext(browser, 'phone', {
		viewport: { width: 390, height: 844 },
		isMobile: true,
		hasTouch: true
	});

	// ---- Create: a name no genesis names; its keys are made on this device.
	const clinic = await desktop.newPage();
	await clinic.goto(`/clinic?${story.query()}`);
	await clinic.getByLabel('Institution').fill(NEWCOMER);
	await clinic.getByRole('button', { name: 'Open clinic' }).click();
	await expect(clinic.getByRole('heading', { level: 1, name: NEWCOMER })).toBeVisible({ timeout: 90_000 });

	// ---- Apply, then admitted by a keyblock the consensus group pins.
	const admission = clinic.getByTestId('admission');
	await expect(admission).toContainText('Applying to join the consortium', { timeout: 60_000 });
	await expect(admission).toContainText(/admitted at keyblock \d+/, { timeout: CHAIN_WAIT });
	const admittedAt = Number(/admitted at keyblock (\d+)/.exec((await admission.textContent()) ?? '')![1]);

	// The chain as another node sees it names the newcomer among its institutions from then on.
	const check = await openNodeCheck(observer);
	const minedByNewcomer = () =>
		check.evaluate(
			(name) =>
				window.nodeDiagnostics
					.keyblocks(1000)
					.filter((k) => k.miner.name === name)
					.map((k) => ({ height: k.height, pinned: k.pinned, pinSigners: k.pinSigners })),
			NEWCOMER
		);
	expect(await minedByNewcomer()).toEqual([]);

	// ---- Mine: a keyblock mined by the newcomer is pinned by the group, after its admission.
	await clinic.getByRole('button', { name: 'Start mining' }).click();
	await expect
		.poll(async () => (await minedByNewcomer()).filter((k) => k.pinned && k.pinSigners > 0).length, {
			timeout: CHAIN_WAIT,
			intervals: [5000]
		})
		.toBeGreaterThan(0);
	for (const keyblock of await minedByNewcomer()) expect(keyblock.height).toBeGreaterThan(admittedAt);

	// ---- A patient registers after the admission, at a headless clinic.
	const patient = await phone.newPage();
	await patient.goto(`/patient?${story.query()}`);
	await patient.getByRole('button', { name: 'Create my identity' }).click();
	const address = (await patient.getByTestId('patient-address').textContent({ timeout: 60_000 }))!.trim();
	const invitation = (await patient.getByTestId('patient-invitation').textContent())!.trim();
	await expect(patient.getByTestId('peers')).not.toHaveText('0', { timeout: 90_000 });
	await patient.getByLabel('Full name').fill('Grace Hopper');
	await patient.getByLabel('Date of birth').fill('1986-12-09');
	await patient.getByLabel('Clinic', { exact: true }).selectOption('Aster Clinic');
	await patient.getByRole('button', { name: 'Register' }).click();
	await expect(patient.getByTestId('registration')).toContainText('Registered', { timeout: CHAIN_WAIT });

	// ---- The newcomer writes a record; the patient reads it on the phone and approves; it is attached.
	await clinic.getByLabel('Patient address or invitation').fill(invitation);
	await clinic.getByRole('button', { name: 'Add patient' }).click();
	await clinic.locator(`button[title="${address}"]`).click();
	await clinic.getByLabel('Record type').selectOption('Condition');
	await clinic.getByLabel('Diagnosis', { exact: true }).fill(DIAGNOSIS);
	await clinic.getByRole('button', { name: 'Write record' }).click();
	const request = patient.getByTestId('signing-request').filter({ hasText: DIAGNOSIS });
	await expect(request).toBeVisible({ timeout: 180_000 });
	await expect(request.getByTestId('signing-record')).toContainText(DIAGNOSIS);
	await request.getByRole('button', { name: 'Approve' }).click();
	await expect(clinic.getByTestId('pending-row').filter({ hasText: DIAGNOSIS })).toContainText('Attached', {
		timeout: CHAIN_WAIT
	});
	const record = patient.getByTestId('record').filter({ hasText: DIAGNOSIS });
	await expect(record).toContainText('Pinned', { timeout: 180_000 });
	await expect(record).toContainText('Proof verified');

	// ---- The patient shares it with the headless Birch Hospital, which opens it and checks it against
	// the chain before it acknowledges: given, not pending.
	await patient.getByLabel('Share with', { exact: true }).selectOption(HEADLESS);
	await patient.getByLabel('Records', { exact: true }).selectOption({ label: 'Whole history' });
	await patient.getByLabel('Purpose').fill('Referral');
	await patient.getByLabel('Days').fill('7');
	await patient.getByRole('button', { name: 'Share' }).click();
	const consent = patient.getByTestId('consent').filter({ hasText: HEADLESS });
	await expect(consent).toContainText('Given', { timeout: 180_000 });
	await expect(consent.getByTestId('consent-pending')).toHaveCount(0);
});
