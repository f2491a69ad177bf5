/**
 * Opening a session in the page: one full node per profile (a patient profile, or one per institution a
 * clinic tab runs), its key vault (protected by a non-extractable device key; a passphrase protects the
 * backup file), the directory of who is who, and for an institution the holder of its ciphertexts.
 * Pages import this module lazily, so libp2p and snarkjs load only when a session opens.
 */
import { createPresence, type Presence } from '../core/presence.ts';
import { devInstitution, DEV_INSTITUTION_NAMES } from '../../../tests/fixtures/genesis-dev.ts';
import { generateSigningKey, publicKeyOf } from '../core/identity.ts';
import { deviceKey } from '../keys/device-key.browser.ts';
import {
	loadInstitutionSecrets,
	loadPatientSecrets,
	saveInstitutionSecrets,
	savePatientSecrets
} from '../keys/secrets.ts';
import { KeyVault } from '../keys/vault.ts';
import { generateMasterKey } from '../records/envelope.ts';
import { openStore } from '../store/store.browser.ts';
import type { Store } from '../store/store.ts';
import { openBrowserNode } from './browser-node.ts';
import { createClinicSession } from './clinic-session.ts';
import { Directory } from './directory.ts';
import { createExplorerSession } from './explorer-session.ts';
import { Holder } from './holder.ts';
import { openAsProfileHolder, withProfileIdle, type OpenedProfile } from './profile-tabs.ts';
import { createPatientSession } from './patient-session.ts';
import { AppError, type ClinicSession, type ExplorerSession, type PatientSession } from './types.ts';

const PATIENT_PROFILE = 'patient';
const clinicProfile = (name: string) => `clinic-${name.replace(/\W+/g, '-').toLowerCase()}`;

/**
 * One session per profile and page (a second open returns the first: its node, handlers, timers), and
 * one page per profile across tabs (profile-tabs.ts: the newest tab takes the profile over).
 */
const sessions = new Map<string, Promise<unknown>>();

function once<T>(profile: string, open: () => Promise<OpenedProfile<T>>): Promise<T> {
	let entry = sessions.get(profile) as Promise<T> | undefined;
	if (!entry) {
		entry = openAsProfileHolder(profile, open, () => sessions.delete(profile));
		sessions.set(profile, entry);
		entry.catch(() => sessions.delete(profile));
	}
	return entry;
}

async function vaultOf(store: Store, profile: string): Promise<KeyVault> {
	const protector = { kind: 'device' as const, key: await deviceKey(profile) };
	const protection = await KeyVault.protection(store);
	if (protection === null) return KeyVault.create(store, protector);
	if (protection === 'passphrase')
		throw new AppError(
			'vault-passphrase',
			'This profile is protected by a passphrase; restore it from its backup.'
		);
	return KeyVault.unlock(store, protector);
}

export async function hasPatientProfile(profile = PATIENT_PROFILE): Promise<boolean> {
	const store = await openStore(profile);
	try {
		if (!(await KeyVault.exists(store))) return false;
		return (await loadPatientSecrets(await vaultOf(store, profile))) !== undefined;
	} finally {
		await store.close();
	}
}

/**
 * Restores the patient profile from a backup file (a new phone, or a lost device key): the file is
 * decrypted first, so a wrong passphrase or a damaged file leaves the profile as it was.
 */
export async function restorePatientProfile(
	file: Blob,
	passphrase: string,
	profile = PATIENT_PROFILE
): Promise<void> {
	if (sessions.has(profile))
		throw new AppError('session-open', 'Close the open patient session before restoring a backup.');
	await withProfileIdle(profile, () => restoreInto(profile, file, passphrase));
}

async function restoreInto(profile: string, file: Blob, passphrase: string): Promise<void> {
	const store = await openStore(profile);
	try {
		const protector = { kind: 'device' as const, key: await deviceKey(profile) };
		await KeyVault.restore(store, new Uint8Array(await file.arrayBuffer()), passphrase, protector);
	} catch (error) {
		throw new AppError('restore', `The backup could not be restored: ${(error as Error).message}`);
	} finally {
		await store.close();
	}
}

/** The patient's session; creates the identity (Setup) on first use. */
export function openPatientSession(profile = PATIENT_PROFILE): Promise<PatientSession> {
	return once(profile, () => patientSession(profile));
}

async function patientSession(profile: string): Promise<OpenedProfile<PatientSession>> {
	const presences: Presence[] = [];
	const browser = await openBrowserNode({ profile });
	const directory = new Directory(browser.net, () => presences);
	const vault = await vaultOf(browser.store, profile);
	let secrets = await loadPatientSecrets(vault);
	if (!secrets) {
		secrets = { signingKey: generateSigningKey().secretKey, masterKey: generateMasterKey() };
		await savePatientSecrets(vault, secrets);
	}
	const publicKey = publicKeyOf(secrets.signingKey);
	presences.push(createPresence('patient', secrets.signingKey, publicKey, browser.net.peerId, Date.now()));
	void directory.refresh();
	const session = await createPatientSession({
		node: browser.node,
		net: browser.net,
		store: browser.store,
		vault,
		directory,
		secrets,
		publicKey
	});
	return { session, close: () => browser.close() };
}

/**
 * A clinic tab for one institution of the consortium. The development consortium's keys are derived
 * from public seeds (genesis-dev.ts); a real institution imports its own key backup instead.
 */
export function openClinicSession(institutionName: string): Promise<ClinicSession> {
	return once(clinicProfile(institutionName), () => clinicSession(institutionName));
}

async function clinicSession(institutionName: string): Promise<OpenedProfile<ClinicSession>> {
	if (!(DEV_INSTITUTION_NAMES as readonly string[]).includes(institutionName))
		throw new AppError('institution', `${institutionName} is not an institution of this consortium.`);
	const dev = devInstitution(institutionName);
	const profile = clinicProfile(institutionName);
	const presences: Presence[] = [];
	const store = await openStore(`${profile}-keys`);
	const vault = await vaultOf(store, profile);
	if (!(await loadInstitutionSecrets(vault))) await saveInstitutionSecrets(vault, dev.secrets);
	const secrets = (await loadInstitutionSecrets(vault))!;
	const browser = await openBrowserNode({
		profile,
		institution: {
			id: dev.institution.id,
			signingKey: secrets.signingKey,
			blsKey: secrets.blsKey,
			chameleonKey: dev.institution.chameleonKey,
			trapdoor: secrets.trapdoor
		}
	});
	const directory = new Directory(browser.net, () => presences);
	presences.push(
		createPresence('institution', secrets.signingKey, dev.institution.id, browser.net.peerId, Date.now())
	);
	void directory.refresh();
	const holder = new Holder({
		store: browser.store,
		net: browser.net,
		ledger: browser.node.chain.ledger,
		institution: { id: dev.institution.id, secretKey: secrets.signingKey }
	});
	const session = await createClinicSession({
		node: browser.node,
		net: browser.net,
		store: browser.store,
		holder,
		directory,
		prover: browser.prover,
		institution: {
			id: dev.institution.id,
			name: institutionName,
			chameleonKey: dev.institution.chameleonKey,
			secrets
		},
		hashes: () => browser.hashes(),
		mining: browser.mining
	});
	return { session, close: async () => (await browser.close(), await store.close()) };
}

/** The explorer joins the network as a plain observer node (no identity). */
export function openExplorerSession(): Promise<ExplorerSession> {
	return once('explorer', async () => {
		const browser = await openBrowserNode({ profile: 'explorer' });
		return { session: createExplorerSession(browser.node), close: () => browser.close() };
	});
}
