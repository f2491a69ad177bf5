/**
 * Register (paper §5.3): the patient's device sends a register transaction carrying only a salted
 * commitment H(ID‖Age‖salt) through one consortium institution, and waits for a pinned keyblock that
 * includes it. The salt stays on the device, so the chain reveals nothing about who registered.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { encodeCanonical } from '../../core/encoding.ts';
import { ValidationError } from '../../core/errors.ts';
import type { PublicKey } from '../../core/identity.ts';
import { signTransaction, type RegisterBody, type Transaction } from '../../core/transaction.ts';
import { bytesToHex, type Bytes } from '../../core/bytes.ts';
import type { Store } from '../../store/store.ts';
import type { PatientChain } from '../patient-chain.ts';
import { AppError, type OnProgress } from '../types.ts';
import { findInstitution } from '../views.ts';
import { keepDemographics, readDemographics } from '../demographics.ts';

/** Where the device keeps the salt of the registration whose commitment is `identity`. */
export const registerSaltKey = (identity: Bytes) => `register-salt/${bytesToHex(identity)}`;

/** How long the device waits for a keyblock with the registration before saying it stays pending. */
const REGISTER_WAIT_MS = 5 * 60_000;

export async function register(
	context: { chain: PatientChain; store: Store; patient: { publicKey: PublicKey; secretKey: Bytes } },
	details: { name: string; birthDate: string; institution: string; tellClinics?: boolean },
	onProgress: OnProgress = () => {}
): Promise<void> {
	const { chain, store, patient } = context;
	if (chain.patientBlock()) throw new AppError('registered', 'You are already registered.');
	// Checked before anything is kept or sent: a name, and a birth date that is a real past date.
	const who = readDemographics({ name: details.name, birthDate: details.birthDate });
	const institution = findInstitution({ institutions: chain.registry.all }, details.institution);
	if (!institution)
		throw new AppError('institution', 'Choose one of the consortium institutions to register with.');
	// H(ID || Age || …): a salted commitment, so the chain reveals nothing about who registered.
	const salt = randomBytes(32);
	const identity = sha256(encodeCanonical({ name: details.name.trim(), birthDate: details.birthDate, salt }));
	// Kept under its commitment: an attempt the network refuses must not replace a waiting one's salt.
	await store.write([{ table: 'meta', key: registerSaltKey(identity), value: salt }]);
	await keepDemographics(store, patient.publicKey, details.tellClinics === false ? undefined : who);
	// The round it is made for is the newest keyblock this device knows: ask the network first.
	await chain.catchUp();
	const body: RegisterBody = {
		kind: 'register',
		patient: patient.publicKey,
		institution,
		round: chain.height,
		fees: chain.genesis.fees.register,
		identity
	};
	onProgress({ step: 'Sending the registration to the consortium', fraction: 0.1 });
	try {
		await chain.submit(signTransaction(body, patient.secretKey) as Transaction);
	} catch (error) {
		if (error instanceof ValidationError) throw new AppError(error.code, error.message);
		throw error;
	}
	onProgress({ step: 'Waiting for a pinned keyblock with your registration', fraction: 0.3 });
	await new Promise<void>((resolve, reject) => {
		const timer = setTimeout(() => {
			stop();
			reject(
				new AppError(
					'register-timeout',
					'No keyblock included the registration yet; it stays pending and will be retried.'
				)
			);
		}, REGISTER_WAIT_MS);
		const stop = chain.on(() => {
			if (chain.patientBlock()) {
				clearTimeout(timer);
				stop();
				resolve();
			}
		});
	});
	onProgress({ step: 'Registered', fraction: 1 });
}
