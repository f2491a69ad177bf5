/**
 * A founding passed from founder to founder as a directory (as the SNARK ceremony's is): `founding.cbor`
 * holds the transcript (core/founding.ts). The first founder starts it with the parameters; each
 * founder, on its own machine, checks the transcript it received, adds its signed join step with the
 * keys of its own keystore (node/keystore.ts; created there on first use) and passes the directory on;
 * the founders may then run the SNARK setup in the same directory (node/founding-setup.ts); the last
 * writes the genesis file. Every step re-verifies the whole transcript, so a tampered directory is
 * refused by the next founder, not only by the final `verify`.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
	addStep,
	decodeFounding,
	encodeFounding,
	foundedGenesis,
	foundersRanSetup,
	foundingState,
	startFounding,
	type FoundingTranscript
} from '../core/founding.ts';
import { encodeGenesisFile } from '../core/genesis-file.ts';
import { defaultParameters, type GenesisConfig, type GenesisParameters } from '../core/genesis.ts';
import type { InstitutionIdentity } from '../keys/institution.ts';
import { loadOrCreateInstitution, openKeystore, type KeystoreOptions } from './keystore.ts';

export const FOUNDING_FILE = 'founding.cbor';

/** The founding directory is missing, already started, or its transcript is not valid. */
export class FoundingDirError extends Error {
	override readonly name = 'FoundingDirError';
	readonly code = 'founding-dir';
}

export async function saveFounding(dir: string, transcript: FoundingTranscript): Promise<void> {
	const path = join(dir, FOUNDING_FILE);
	await writeFile(`${path}.tmp`, encodeFounding(transcript));
	await rename(`${path}.tmp`, path);
}

/** Reads and fully re-verifies the transcript in `dir`. */
export async function readFounding(dir: string): Promise<FoundingTranscript> {
	const path = join(dir, FOUNDING_FILE);
	if (!existsSync(path))
		throw new FoundingDirError(`${dir} holds no founding (${FOUNDING_FILE}); start one first`);
	try {
		const transcript = decodeFounding(new Uint8Array(await readFile(path)));
		foundingState(transcript);
		return transcript;
	} catch (error) {
		throw new FoundingDirError(`the founding in ${dir} is not valid: ${(error as Error).message}`);
	}
}

export async function startFoundingDir(
	dir: string,
	parameters: Partial<GenesisParameters> & { network: string }
): Promise<void> {
	await mkdir(dir, { recursive: true });
	if (existsSync(join(dir, FOUNDING_FILE))) throw new FoundingDirError(`${dir} already holds a founding`);
	await saveFounding(dir, startFounding(defaultParameters({ timestamp: Date.now(), ...parameters })));
}

/** The founder whose keystore is `keystore` joins (its keys are made there on first use). */
export async function joinFoundingDir(
	dir: string,
	name: string,
	keystore: KeystoreOptions
): Promise<InstitutionIdentity> {
	const transcript = await readFounding(dir);
	const store = await openKeystore(keystore);
	let identity: InstitutionIdentity;
	try {
		identity = await loadOrCreateInstitution(store.vault, name);
	} finally {
		await store.close();
	}
	const joined = addStep(
		transcript,
		{ kind: 'join', institution: identity.institution },
		identity.institution.id,
		identity.secrets.signingKey
	);
	await saveFounding(dir, joined);
	return identity;
}

/**
 * Writes the genesis file the founding yields (the consensus group is at most the founders). When the
 * founders ran the SNARK setup, it is finished first and its artifacts go to `artifacts`
 * (node/founding-setup.ts); the genesis then pins the verification key it produced.
 */
export async function finishFoundingDir(
	dir: string,
	out: string,
	artifacts?: string
): Promise<GenesisConfig> {
	const transcript = await readFounding(dir);
	let genesis: GenesisConfig;
	if (foundersRanSetup(transcript)) {
		if (artifacts === undefined)
			throw new FoundingDirError('the founders ran the SNARK setup: name the directory for its artifacts');
		// Loaded only here: snarkjs and circom are needed by founders who run the setup, not by the others.
		const { finishSetup } = await import('./founding-setup.ts');
		genesis = await finishSetup(dir, transcript, artifacts);
	} else {
		try {
			genesis = foundedGenesis(transcript);
		} catch (error) {
			throw new FoundingDirError(`the founding cannot finish yet: ${(error as Error).message}`);
		}
	}
	await writeFile(out, encodeGenesisFile({ genesis, founding: transcript }));
	return genesis;
}
