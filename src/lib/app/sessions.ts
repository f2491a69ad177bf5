/**
 * Opening a session in the page: one node per profile (a patient profile's light node, or a full node
 * per institution a clinic tab runs, and the explorer's), its key vault (protected by a non-extractable device key; a passphrase protects the
 * backup file), the directory of who is who, and for an institution the holder of its ciphertexts.
 * Pages import this module lazily, so libp2p and snarkjs load only when a session opens.
 */
import { equalBytes } from '../core/bytes.ts';
import { createPresence, type Presence } from '../core/presence.ts';
import { generateSigningKey, publicKeyOf } from '../core/identity.ts';
import { composeInstitution, institutionKeys } from '../institution/institution-node.ts';
import { decodeBackup } from '../keys/backup.ts';
import { deviceKey } from '../keys/device-key.browser.ts';
import { checkInstitutionName, createInstitutionIdentity, institutionOf } from '../keys/institution.ts';
import {
	INSTITUTION_KEY_NAMES,
	loadInstitutionIdentity,
	loadPatientSecrets,
	saveInstitutionIdentity,
	savePatientSecrets
} from '../keys/secrets.ts';
import { KeyVault } from '../keys/vault.ts';
import { generateMasterKey } from '../records/envelope.ts';
import { openStore } from '../store/store.browser.ts';
import type { Store } from '../store/store.ts';
import { openBrowserBase, openBrowserNode } from './browser-node.ts';
import { lightPatientChain } from './patient-chain.ts';
import { LightNode } from '../runtime/light-node.ts';
import { Directory } from './directory.ts';
import { createExplorerSession } from './explorer-session.ts';
import { openAsProfileHolder, withProfileIdle, type OpenedProfile } from './profile-tabs.ts';
import { createPatientSession } from './patient-session.ts';
import { AppError, type ClinicSession, type ExplorerSession, type PatientSession } from './types.ts';
import type { InstitutionAdmission } from '../institution/institution-admission.ts';

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

/** The patient's phone is a light client (runtime/light-node.ts): it holds no full chain. */
async function patientSession(profile: string): Promise<OpenedProfile<PatientSession>> {
	const presences: Presence[] = [];
	const browser = await openBrowserBase(profile);
	const close = async () => (await browser.net.stop(), await browser.store.close());
	const vault = await vaultOf(browser.store, profile).catch(async (error) => {
		await close();
		throw error;
	});
	let secrets = await loadPatientSecrets(vault);
	if (!secrets) {
		secrets = { signingKey: generateSigningKey().secretKey, masterKey: generateMasterKey() };
		await savePatientSecrets(vault, secrets);
	}
	const publicKey = publicKeyOf(secrets.signingKey);
	const light = await LightNode.open({
		genesis: browser.genesis,
		store: browser.store,
		net: browser.net,
		verifier: browser.verifier,
		patient: publicKey
	});
	const chain = lightPatientChain(light, browser.store);
	const directory = new Directory(browser.net, () => presences);
	browser.protection.bind(directory, chain);
	presences.push(createPresence('patient', secrets.signingKey, publicKey, browser.net.peerId, Date.now()));
	void directory.refresh();
	const session = await createPatientSession({
		chain,
		net: browser.net,
		store: browser.store,
		vault,
		directory,
		secrets,
		publicKey
	});
	return { session, close: async () => (await light.stop(), await close()) };
}

/** What a clinic tab shows about the network its institution runs on. */
export interface ClinicNetworkInfo {
	network: string;
	/** The genesis hash in short groups (compare it with the consortium's published one). */
	fingerprint: string;
	/** Whether the genesis names this institution (else it applies, and mines and writes once admitted). */
	member: boolean;
	/** Its own admission ("applying…", "admitted at keyblock N") and the applications it decides on. */
	admission: InstitutionAdmission;
}

const clinicNetworks = new Map<string, ClinicNetworkInfo>();

/** The network of an open clinic session (undefined before it opened). */
export function clinicNetwork(institutionName: string): ClinicNetworkInfo | undefined {
	return clinicNetworks.get(clinicProfile(institutionName));
}

/**
 * A clinic tab for one institution. Its keys are made on this device the first time the name is opened
 * (CSPRNG; the vault keeps them under the device key) or restored from the institution's key backup;
 * nothing here derives a key from a public value.
 */
export function openClinicSession(institutionName: string): Promise<ClinicSession> {
	let name: string;
	try {
		name = checkInstitutionName(institutionName);
	} catch (error) {
		return Promise.reject(new AppError('institution', (error as Error).message));
	}
	return once(clinicProfile(name), () => clinicSession(name));
}

/**
 * Restores an institution from its key backup (made in another browser, or exported by a headless
 * clinic) into this browser; returns its name, under which openClinicSession then opens it.
 */
export async function restoreClinicProfile(file: Blob, passphrase: string): Promise<string> {
	const bytes = new Uint8Array(await file.arrayBuffer());
	let name: string;
	try {
		const { secrets } = await decodeBackup(bytes, passphrase);
		const stored = secrets[INSTITUTION_KEY_NAMES.name];
		if (!stored || !secrets[INSTITUTION_KEY_NAMES.signingKey])
			throw new Error(
				'this backup holds no institution (a patient backup is restored on the patient screen)'
			);
		name = checkInstitutionName(new TextDecoder().decode(stored));
	} catch (error) {
		throw new AppError('restore', `The backup could not be restored: ${(error as Error).message}`);
	}
	const profile = clinicProfile(name);
	if (sessions.has(profile))
		throw new AppError('session-open', `Close the open session of ${name} before restoring its backup.`);
	await withProfileIdle(profile, async () => {
		const store = await openStore(`${profile}-keys`);
		try {
			const protector = { kind: 'device' as const, key: await deviceKey(profile) };
			await KeyVault.restore(store, bytes, passphrase, protector);
		} catch (error) {
			throw new AppError('restore', `The backup could not be restored: ${(error as Error).message}`);
		} finally {
			await store.close();
		}
	});
	return name;
}

/** The institution's keys as a passphrase-encrypted backup file (backup.ts). */
export async function exportClinicBackup(institutionName: string, passphrase: string): Promise<Uint8Array> {
	const profile = clinicProfile(checkInstitutionName(institutionName));
	const store = await openStore(`${profile}-keys`);
	try {
		return await (await vaultOf(store, profile)).exportBackup(passphrase);
	} finally {
		await store.close();
	}
}

async function clinicSession(institutionName: string): Promise<OpenedProfile<ClinicSession>> {
	const profile = clinicProfile(institutionName);
	const store = await openStore(`${profile}-keys`);
	let identity;
	try {
		const vault = await vaultOf(store, profile);
		const stored = await loadInstitutionIdentity(vault);
		if (stored)
			identity = { institution: institutionOf(stored.name, stored.secrets), secrets: stored.secrets };
		else {
			identity = createInstitutionIdentity(institutionName);
			await saveInstitutionIdentity(vault, identity.institution.name, identity.secrets);
		}
	} catch (error) {
		await store.close();
		throw error;
	}
	let browser;
	try {
		browser = await openBrowserNode({
			profile,
			institution: institutionKeys(identity)
		});
	} catch (error) {
		await store.close();
		throw error;
	}
	const { session, admission } = await composeInstitution({
		identity,
		node: browser.node,
		net: browser.net,
		store: browser.store,
		prover: browser.prover,
		hashes: () => browser.hashes(),
		mining: browser.mining,
		protection: browser.protection
	});
	clinicNetworks.set(profile, {
		network: browser.genesis.network,
		fingerprint: browser.fingerprint,
		member: browser.genesis.institutions.some((i) => equalBytes(i.id, identity.institution.id)),
		admission
	});
	return {
		session,
		close: async () => (
			clinicNetworks.delete(profile),
			admission.stop(),
			await browser.close(),
			await store.close()
		)
	};
}

/** The explorer joins the network as a plain observer node (no identity). */
export function openExplorerSession(): Promise<ExplorerSession> {
	return once('explorer', async () => {
		const browser = await openBrowserNode({ profile: 'explorer' });
		return { session: createExplorerSession(browser.node), close: () => browser.close() };
	});
}
