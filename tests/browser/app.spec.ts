/**
 * The application story of issue 7, end to end over the live demo network (relay and the headless
 * Aster, Birch and Cedar clinic nodes): a patient on a phone, clinic A (Dogwood Medical, a consensus
 * genesis member) and clinic B (Elm Family Practice, outside the genesis group), each a browser context with its own
 * full node, keys and IndexedDB. Setup, Register, Upload cases 1-3, Label with consent, Share with B,
 * Revoke, offline reading of the history — read from the screens, and checked against the chain (through
 * a node check page's window.nodeDiagnostics), the holder's answers over the network and the bytes at
 * rest. Every screen is saved as a screenshot under test-results/app/.
 */
import { expect, test, type Page } from '@playwright/test';
import { storyHarness } from './story-harness.ts';
import { devRequester } from './dev-consortium.ts';
import { openClinic, selectPatient, writeAndApprove, writeRequest } from './story-steps.ts';

type NodeDiagnostics = import('../../src/routes/diagnostics/node/diagnostics.ts').NodeDiagnostics;
type ClinicSession = import('../../src/lib/app/types.ts').ClinicSession;
declare global {
	interface Window {
		nodeDiagnostics: NodeDiagnostics;
		clinicDiagnostics: Pick<ClinicSession, 'pending' | 'shared'>;
	}
}

const CLINIC_A = 'Dogwood Medical';
const CLINIC_B = 'Elm Family Practice';
// Unique words, so the at-rest scan cannot match anything but these records.
const DIAGNOSIS = 'Influenza A quokka7';
const CORRECTED = 'Bacterial pneumonia wombat3';
const VISIT_B = 'Follow-up for cough numbat5';
const REASON = 'Sputum culture came back positive';
const DECLINED = 'Sprained ankle wallaby9';
const DECLINE_REASON = 'I was never treated for an ankle';
const PATIENT_NAME = 'Ada Lovelace';
// A blood pressure written at A, then corrected there (issue 16: a correction travels with every share).
const BP_OLD = '148/95';
const BP_NEW = '138/88';
const BP_REASON = 'Re-measured seated after five minutes rest';
/** What a library says, never what a person should read (issue 16: errors are sentences). */
const RAW_ERROR = [/Error:/, /\bstreams?\b/i, /\bprotocol\b/i, /\bundefined\b/, /\bNaN\b/, /\[object /];
// The holder's refusals (core/access-request.ts checkAccessRequest), as its error frame carries them.
const NOT_PATIENT_OR_GRANTEE =
	"only the record's patient, or an institution the patient consented to, can fetch it"; // access-requester
const REVOKED = 'the patient revoked this consent'; // consent-revoked

const harness = storyHarness('app');
const relayQuery = harness.query;
const { openNodeCheck } = harness;

async function shot(page: Page, name: string): Promise<void> {
	await page.screenshot({ path: `test-results/app/${name}.png`, fullPage: true });
}

/** No visible text of the page reads like a raw library error. */
async function expectPlainText(page: Page): Promise<void> {
	const text = await page.locator('body').innerText();
	for (const pattern of RAW_ERROR) expect(text, `${page.url()} shows ${pattern}`).not.toMatch(pattern);
}

/** Each screen at a phone's and a desktop's size, saved under test-results/screenshots/. */
async function screenshots(screens: Record<string, Page>): Promise<void> {
	const sizes = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } };
	for (const [screen, page] of Object.entries(screens)) {
		const before = page.viewportSize();
		for (const [device, size] of Object.entries(sizes)) {
			await page.setViewportSize(size);
			await page.screenshot({ path: `test-results/screenshots/${screen}-${device}.png`, fullPage: true });
		}
		if (before) await page.setViewportSize(before);
	}
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

/** Hex of each value under `prefix` in one table of one IndexedDB database of the page's origin. */
function indexedDbValues(page: Page, database: string, table: string, prefix: string): Promise<string[]> {
	return page.evaluate(
		async ({ database, table, prefix }) => {
			const db = await new Promise<IDBDatabase>((resolve, reject) => {
				const open = indexedDB.open(database);
				open.onsuccess = () => resolve(open.result);
				open.onerror = () => reject(open.error);
			});
			const range = IDBKeyRange.bound(prefix, `${prefix}\uffff`);
			const values = await new Promise<Uint8Array[]>((resolve, reject) => {
				const request = db.transaction(table).objectStore(table).getAll(range);
				request.onsuccess = () => resolve(request.result as Uint8Array[]);
				request.onerror = () => reject(request.error);
			});
			db.close();
			return values.map((bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(''));
		},
		{ database, table, prefix }
	);
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
	const phone = await harness.newContext(browser, 'phone', {
		viewport: { width: 390, height: 844 },
		isMobile: true,
		hasTouch: true
	});
	const desktopA = await harness.newContext(browser, 'desktopA', { viewport: { width: 1280, height: 900 } });
	const desktopB = await harness.newContext(browser, 'desktopB', { viewport: { width: 1280, height: 900 } });

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
	await patient.getByLabel('Full name').fill(PATIENT_NAME);
	await patient.getByLabel('Date of birth').fill('1985-12-10');
	await patient.getByLabel('Clinic', { exact: true }).selectOption('Aster Clinic');
	await shot(patient, '02-patient-register');
	await patient.getByRole('button', { name: 'Register' }).click();
	await expect(patient.getByTestId('registration')).toContainText('Registered', { timeout: 240_000 });
	await shot(patient, '03-patient-registered');

	// ---- Upload case 1 and 2 at clinic A.
	const clinicA = await openClinic(desktopA, CLINIC_A, relayQuery());
	// Membership follows mining and reputation epoch by epoch (runtime/membership-handover.ts).
	await expect(clinicA.getByTestId('member')).toHaveText(/^(Consensus member|Not a member)$/);
	await selectPatient(clinicA, address, invitation);
	// The phone told the clinic who the patient is (sealed to it), so its list names the patient.
	await expect(clinicA.locator(`button[title="${address}"]`)).toContainText(PATIENT_NAME, {
		timeout: 60_000
	});
	await writeAndApprove(clinicA, patient, 'Condition', { Diagnosis: DIAGNOSIS }, DIAGNOSIS);
	await shot(clinicA, '04-clinic-a-first-record');
	// ---- A record the patient declines, saying why: the clinic is shown the reason, nothing is pinned.
	const declinedRequest = await writeRequest(
		clinicA,
		patient,
		'Condition',
		{ Diagnosis: DECLINED },
		DECLINED
	);
	await expect(declinedRequest.getByTestId('signing-record')).toContainText(DECLINED);
	await declinedRequest.getByRole('button', { name: 'Decline' }).click();
	await expect(patient.getByText('Say in a few words why you decline')).toBeVisible();
	await declinedRequest.getByLabel('Reason, if you decline').fill(DECLINE_REASON);
	await declinedRequest.getByRole('button', { name: 'Decline' }).click();
	await expect(declinedRequest).toHaveCount(0);
	const declinedRow = clinicA.getByTestId('pending-row').filter({ hasText: DECLINED });
	await expect(declinedRow).toContainText('Declined', { timeout: 60_000 });
	await expect(declinedRow).toContainText(DECLINE_REASON);
	await shot(clinicA, '04b-clinic-a-declined');
	await writeAndApprove(
		clinicA,
		patient,
		'Observation',
		{ Test: 'Blood pressure', Value: BP_OLD, Unit: 'mmHg' },
		'Blood pressure',
		['Blood pressure', `${BP_OLD} mmHg`]
	);
	await expect(clinicA.getByTestId('clinic-record').filter({ hasText: 'Blood pressure' })).toContainText(
		`${BP_OLD} mmHg`
	);
	await shot(clinicA, '05-clinic-a-second-record');

	// ---- Upload case 3: a first visit at clinic B, which cannot read A's records.
	const clinicB = await openClinic(desktopB, CLINIC_B, relayQuery());
	await selectPatient(clinicB, address, invitation);
	await expect(clinicB.getByText('Nothing shared yet')).toBeVisible();
	await writeAndApprove(clinicB, patient, 'Encounter', { Reason: VISIT_B }, VISIT_B);
	await expect(clinicB.getByTestId('clinic-record')).toHaveCount(1);
	await expect(clinicB.getByTestId('clinic-record')).not.toContainText(DIAGNOSIS);
	expect(await indexedDbContains(clinicB, DIAGNOSIS)).toBe(false);
	await shot(clinicB, '06-clinic-b-first-visit');
	// B's transactions, kept by its tab only until a reload.
	const txB = await clinicB.evaluate(() => window.clinicDiagnostics.pending().map((p) => p.id));
	expect(txB).toHaveLength(1);

	// ---- Before any share, clinic B asks holder A, over the network, for A's ciphertexts of the patient's
	// records (the pointers its node reads on the chain), signed with B's key: A refuses.
	const nodeB = await openNodeCheck(desktopB);
	const recordsOfA = async () =>
		(await nodeB.evaluate((patient) => window.nodeDiagnostics.records(patient), address)).filter(
			(r) => r.holderName === CLINIC_A && r.kind === 'medical'
		);
	// An institution's attachments reach other nodes by gossip, once; a node that joins later finds them
	// for sure only in that institution's own journal, so B's node syncs from A's node as well (what the
	// last sync said shows when a poll below fails).
	const syncFrom = (institution: string) =>
		nodeB
			.evaluate((name) => window.nodeDiagnostics.syncFrom(name), institution)
			.then(
				(applied) => `${institution}: ${applied} facts applied`,
				(error: Error) => `${institution}: ${error.message}`
			);
	await expect
		.poll(async () => ({ sync: await syncFrom(CLINIC_A), records: (await recordsOfA()).length }), {
			timeout: 180_000,
			intervals: [2000]
		})
		// objectContaining prints the whole object on failure, the last sync's outcome included.
		.toEqual(expect.objectContaining({ records: 2 }));
	for (const record of await recordsOfA()) {
		const answer = await nodeB.evaluate((o) => window.nodeDiagnostics.fetchCiphertext(o), {
			requester: devRequester(CLINIC_B),
			holder: record.holder,
			digest: record.digest
		});
		expect(answer).toEqual({
			ok: false,
			name: 'RequestError',
			protocol: '/spchain/ciphertext/1.0.0',
			message: NOT_PATIENT_OR_GRANTEE
		});
	}

	// The patient's phone shows the whole history across institutions, every record pinned and verified.
	const history = patient.getByTestId('record');
	await expect(history).toHaveCount(3, { timeout: 120_000 });
	for (const record of await history.all()) {
		await expect(record).toContainText('Pinned');
		await expect(record).toContainText('Proof verified');
	}
	await expect(history.filter({ hasText: DIAGNOSIS })).toContainText(CLINIC_A);
	await expect(history.filter({ hasText: VISIT_B })).toContainText(CLINIC_B);
	await expect(history.filter({ hasText: DECLINED })).toHaveCount(0); // declined: never pinned
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
	await clinicA.getByLabel('Reason for correction').fill(REASON);
	await clinicA.getByRole('button', { name: 'Submit correction' }).click();
	const labelRequest = patient.getByTestId('signing-request').filter({ hasText: 'Sputum culture' });
	await expect(labelRequest).toBeVisible({ timeout: 120_000 });
	// Before consenting, the phone shows the original and the corrected record side by side, the change
	// (old → new) and the reason the corrected record carries under the clinic's signature.
	await expect(labelRequest.getByTestId('label-original')).toContainText(DIAGNOSIS);
	await expect(labelRequest.getByTestId('label-corrected')).toContainText(CORRECTED);
	await expect(labelRequest.getByTestId('label-changes')).toContainText(DIAGNOSIS);
	await expect(labelRequest.getByTestId('label-changes')).toContainText(CORRECTED);
	await expect(labelRequest.getByTestId('label-reason')).toContainText(REASON);
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
	await expect(labelled).toContainText(REASON);
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

	// ---- Correct the blood pressure at A: the form starts from the original (value, unit, time taken).
	const pressure = clinicA.getByTestId('clinic-record').filter({ hasText: 'Blood pressure' });
	await pressure.getByRole('button', { name: 'Correct (label)' }).click();
	await expect(pressure.getByLabel('Value', { exact: true })).toHaveValue(BP_OLD);
	await expect(pressure.getByLabel('Unit', { exact: true })).toHaveValue('mmHg');
	await expect(pressure.getByLabel(/^Taken at/)).not.toHaveValue('');
	await pressure.getByLabel('Value', { exact: true }).fill(BP_NEW);
	await pressure.getByLabel('Reason for correction').fill(BP_REASON);
	await pressure.getByRole('button', { name: 'Submit correction' }).click();
	const pressureRequest = patient.getByTestId('signing-request').filter({ hasText: BP_REASON });
	await expect(pressureRequest).toBeVisible({ timeout: 120_000 });
	await pressureRequest.getByRole('button', { name: 'Approve' }).click();
	await expect(clinicA.getByTestId('pending-row').filter({ hasText: BP_NEW })).toContainText('Attached', {
		timeout: 240_000
	});
	await expectPlainText(clinicA);

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
	// The correction travelled with its record: one record, the correction current, the original marked.
	await expect(shared.filter({ hasText: CORRECTED })).toHaveCount(1);
	const replaced = shared.filter({ hasText: CORRECTED }).getByTestId('replaced-version');
	await expect(replaced).toContainText(DIAGNOSIS);
	await expect(replaced).toContainText(REASON);
	await expect(shared.filter({ hasText: DIAGNOSIS })).toHaveCount(1);
	// One current blood pressure, the replaced reading marked as such, old → new with the reason.
	const sharedPressure = shared.filter({ hasText: 'Blood pressure' });
	await expect(sharedPressure).toHaveCount(1);
	await expect(sharedPressure).toContainText(`${BP_NEW} mmHg`);
	await expect(sharedPressure.getByTestId('replaced-version')).toContainText(
		`${BP_OLD} mmHg → ${BP_NEW} mmHg`
	);
	await expect(sharedPressure.getByTestId('replaced-version')).toContainText(BP_REASON);
	await expectPlainText(clinicB);
	await shot(clinicB, '12-clinic-b-shared');

	// ---- At rest, after the share: no store of the phone, A or B holds a plaintext of the story.
	const story = [DIAGNOSIS, CORRECTED, VISIT_B, BP_REASON, REASON, PATIENT_NAME];
	for (const [who, page, texts] of [
		['patient', patient, story],
		['clinic A', clinicA, story],
		['clinic B', clinicB, story]
	] as const)
		for (const text of texts)
			expect(await indexedDbContains(page, text), `${who}'s IndexedDB holds "${text}"`).toBe(false);

	// The holder A logged B's access, and the patient reads that log.
	await patient.reload();
	await expect(patient.getByTestId('access-row').filter({ hasText: CLINIC_B }).first()).toBeVisible({
		timeout: 120_000
	});
	await expectPlainText(patient);

	// Under the consent B received (the share bundle in its store), holder A does answer B (after the
	// check above, which must see the share's own accesses).
	const bundles = await indexedDbValues(clinicB, 'spchain-clinic-elm-family-practice', 'meta', 'share:');
	expect(bundles).toHaveLength(1);
	const [firstOfA] = await recordsOfA();
	const underConsent = {
		requester: devRequester(CLINIC_B),
		holder: firstOfA!.holder,
		digest: firstOfA!.digest,
		shareBundle: bundles[0]
	};
	const granted = await nodeB.evaluate((o) => window.nodeDiagnostics.fetchCiphertext(o), underConsent);
	expect(granted).toMatchObject({ ok: true });

	// ---- Revoke: the consent is marked revoked.
	// The phone tells the grantee once, if it reaches it within seconds (patient-session.ts `revoke`), and
	// both tabs have reloaded since they last spoke: B scans the phone's current invitation, as a clinic
	// does, and sees the phone online first.
	const invitationNow = (await patient.getByTestId('patient-invitation').textContent())!.trim();
	await clinicB.getByLabel('Patient address or invitation').fill(invitationNow);
	await clinicB.getByRole('button', { name: 'Add patient' }).click();
	await expect(clinicB.locator(`button[title="${address}"]`)).toContainText('online', { timeout: 90_000 });
	await patient
		.getByTestId('consent')
		.filter({ hasText: CLINIC_B })
		.getByRole('button', { name: 'Revoke' })
		.click();
	await expect(patient.getByTestId('consent').filter({ hasText: CLINIC_B })).toContainText('Revoked', {
		timeout: 60_000
	});
	await shot(patient, '13-patient-revoked');

	// Holder A refuses B's fetch under the revoked consent once the phone has told it ("Revoked" shows as
	// soon as the phone stores the revocation; it then tells the grantee B, then each holder, and keeps
	// telling a holder it could not reach whenever one comes online). A's tab, reloaded since it last
	// spoke with the phone, reaches it again as a clinic does, by the phone's current invitation.
	await clinicA.getByLabel('Patient address or invitation').fill(invitationNow);
	await clinicA.getByRole('button', { name: 'Add patient' }).click();
	await expect(clinicA.locator(`button[title="${address}"]`)).toContainText('online', { timeout: 90_000 });
	await expect(patient.getByTestId('revocation-due')).toHaveCount(0, { timeout: 60_000 });
	await expect
		.poll(() => nodeB.evaluate((o) => window.nodeDiagnostics.fetchCiphertext(o), underConsent), {
			timeout: 60_000,
			intervals: [2000]
		})
		.toEqual({ ok: false, name: 'RequestError', protocol: '/spchain/ciphertext/1.0.0', message: REVOKED });
	// And B, told before A, no longer shows what was shared (its tab reopened: nothing cached on screen).
	await clinicB.reload();
	await clinicB.waitForFunction(() => 'clinicDiagnostics' in window, undefined, { timeout: 90_000 });
	expect(await clinicB.evaluate(() => window.clinicDiagnostics.shared())).toEqual([]);
	await expect(clinicB.getByText('Nothing shared yet')).toBeVisible();
	await expect(clinicB.getByTestId('shared-record')).toHaveCount(0);

	// ---- Every record transaction is pinned and attached: the ones A and B submitted are exactly the
	// patient's entries on the chain (B's node check), each pinned and attached there, as A's screen says.
	// The declined record's row stays declined; it never reaches the chain (the ids below are exact).
	for (const row of await clinicA.getByTestId('pending-row').filter({ hasNotText: DECLINED }).all())
		await expect(row).toContainText('Attached');
	const txA = await clinicA.evaluate(() =>
		window.clinicDiagnostics
			.pending()
			.filter((p) => p.state !== 'declined')
			.map((p) => p.id)
	);
	expect(txA).toHaveLength(4);
	const onChain = () => nodeB.evaluate((patient) => window.nodeDiagnostics.records(patient), address);
	await expect
		.poll(
			async () => ({
				sync: [await syncFrom(CLINIC_A), await syncFrom(CLINIC_B)],
				ids: (await onChain()).map((r) => r.id).sort()
			}),
			{ timeout: 120_000, intervals: [2000] }
		)
		.toMatchObject({ ids: [...txA, ...txB].sort() });
	for (const record of await onChain())
		expect(record, record.id).toMatchObject({ pinned: true, attached: true });
	expect((await onChain()).filter((r) => r.kind === 'label').map((r) => r.holderName)).toEqual([
		CLINIC_A,
		CLINIC_A
	]);

	// ---- Every screen, phone and desktop, reads as sentences (and is saved for review).
	const simulator = await desktopB.newPage();
	await simulator.goto('/simulator');
	for (const page of [patient, clinicA, clinicB, explorer]) await expectPlainText(page);
	await screenshots({ patient, clinic: clinicA, explorer, simulator, diagnostics: nodeB });

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
