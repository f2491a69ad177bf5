/**
 * The named secrets a profile keeps in its vault, typed: what a patient holds (Schnorr secp256k1
 * signing secret and the 32-byte master key their record keys derive from) and what an institution
 * holds (Schnorr signing secret, BLS12-381 secret, chameleon-hash trapdoor). One place that fixes the
 * names and byte layouts, so the screens, the backup file and the node agree on them.
 */
import { bigIntToBytes, bytesToBigInt, concatBytes } from '../core/bytes.ts';
import type { KeyVault } from './vault.ts';

export interface InstitutionSecrets {
	/** 32-byte Schnorr (BIP-340, secp256k1) secret key: the institution's id is its public key. */
	signingKey: Uint8Array;
	/** 32-byte BLS12-381 secret key (consensus votes and pin certificates). */
	blsKey: Uint8Array;
	/** Chameleon trapdoor x (scalar mod L of Baby Jubjub's subgroup). */
	trapdoor: bigint;
	/**
	 * Signing secrets made for key rotations, oldest first (docs/consortium.md "Key rotation"). The chain
	 * says which key is in force at each keyblock (InstitutionRegistry.secretInForce); `signingKey` stays
	 * the id's secret, which also opens what is sealed to the institution.
	 */
	rotatedSigningKeys?: Uint8Array[];
}

export interface PatientSecrets {
	/** 32-byte Schnorr (BIP-340, secp256k1) secret key. */
	signingKey: Uint8Array;
	/** 32-byte master symmetric key. */
	masterKey: Uint8Array;
}

export const PATIENT_KEY_NAMES = { signingKey: 'patient/signing', masterKey: 'patient/master' } as const;
export const INSTITUTION_KEY_NAMES = {
	signingKey: 'institution/signing',
	blsKey: 'institution/bls',
	trapdoor: 'institution/trapdoor',
	/** Not secret, but kept with the keys so a backup restores the whole identity. */
	name: 'institution/name',
	/** The rotated signing secrets, 32 bytes each, concatenated. */
	rotatedSigningKeys: 'institution/rotated-signing'
} as const;

function exactly(bytes: Uint8Array, length: number, what: string): Uint8Array {
	if (!(bytes instanceof Uint8Array) || bytes.length !== length)
		throw new TypeError(`${what} must be ${length} bytes`);
	return bytes;
}

export async function savePatientSecrets(vault: KeyVault, secrets: PatientSecrets): Promise<void> {
	await vault.putAll({
		[PATIENT_KEY_NAMES.signingKey]: exactly(secrets.signingKey, 32, 'the patient signing key'),
		[PATIENT_KEY_NAMES.masterKey]: exactly(secrets.masterKey, 32, 'the patient master key')
	});
}

/** The patient's secrets, or undefined when this profile has none (not a patient yet). */
export async function loadPatientSecrets(vault: KeyVault): Promise<PatientSecrets | undefined> {
	const signingKey = await vault.find(PATIENT_KEY_NAMES.signingKey);
	if (!signingKey) return undefined;
	return { signingKey, masterKey: await vault.get(PATIENT_KEY_NAMES.masterKey) };
}

export async function saveInstitutionSecrets(vault: KeyVault, secrets: InstitutionSecrets): Promise<void> {
	await vault.putAll(institutionRows(secrets));
}

function institutionRows(secrets: InstitutionSecrets): Record<string, Uint8Array> {
	if (typeof secrets.trapdoor !== 'bigint' || secrets.trapdoor <= 0n || secrets.trapdoor >= 2n ** 256n)
		throw new TypeError('the chameleon trapdoor must be a positive scalar below 2^256');
	const rows: Record<string, Uint8Array> = {
		[INSTITUTION_KEY_NAMES.signingKey]: exactly(secrets.signingKey, 32, 'the institution signing key'),
		[INSTITUTION_KEY_NAMES.blsKey]: exactly(secrets.blsKey, 32, 'the BLS secret key'),
		[INSTITUTION_KEY_NAMES.trapdoor]: bigIntToBytes(secrets.trapdoor, 32)
	};
	const rotated = secrets.rotatedSigningKeys ?? [];
	if (rotated.length > 0)
		rows[INSTITUTION_KEY_NAMES.rotatedSigningKeys] = concatBytes(
			...rotated.map((key) => exactly(key, 32, 'a rotated signing key'))
		);
	return rows;
}

export async function loadInstitutionSecrets(vault: KeyVault): Promise<InstitutionSecrets | undefined> {
	const signingKey = await vault.find(INSTITUTION_KEY_NAMES.signingKey);
	if (!signingKey) return undefined;
	const secrets: InstitutionSecrets = {
		signingKey,
		blsKey: await vault.get(INSTITUTION_KEY_NAMES.blsKey),
		trapdoor: bytesToBigInt(await vault.get(INSTITUTION_KEY_NAMES.trapdoor))
	};
	const rotated = await vault.find(INSTITUTION_KEY_NAMES.rotatedSigningKeys);
	if (rotated)
		secrets.rotatedSigningKeys = Array.from({ length: rotated.length / 32 }, (_, i) =>
			rotated.slice(i * 32, i * 32 + 32)
		);
	return secrets;
}

/** Stores the secrets and the name together (one batch), so a backup restores the whole identity. */
export async function saveInstitutionIdentity(
	vault: KeyVault,
	name: string,
	secrets: InstitutionSecrets
): Promise<void> {
	await vault.putAll({
		...institutionRows(secrets),
		[INSTITUTION_KEY_NAMES.name]: new TextEncoder().encode(name)
	});
}

/** The stored name and secrets, or undefined when this vault holds no institution. */
export async function loadInstitutionIdentity(
	vault: KeyVault
): Promise<{ name: string; secrets: InstitutionSecrets } | undefined> {
	const secrets = await loadInstitutionSecrets(vault);
	const name = await vault.find(INSTITUTION_KEY_NAMES.name);
	if (!secrets || !name) return undefined;
	return { name: new TextDecoder().decode(name), secrets };
}
