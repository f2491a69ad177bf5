/**
 * The consortium of the headless clinics a data directory holds (what `npm start` runs): on the first
 * start each clinic makes its keys in its own keystore, then they found the chain together (each signs
 * its join step of the founding transcript, core/founding.ts) and the genesis file is written under the
 * data directory; every later start loads the same keys and the same genesis. Two data directories are
 * two consortia: different keys, different genesis hashes.
 * The founders here all run on one machine and take the published SNARK setup (static/snark), whose
 * verification key the parameters pin; a consortium whose founders also run the SNARK setup among
 * themselves uses `npm run consortium` instead (scripts/consortium.ts): a four-founder setup takes
 * minutes on two cores (docs/chameleon-hash.md), too long for a first start.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesToHex, equalBytes } from '../core/bytes.ts';
import { addStep, foundedGenesis, startFounding } from '../core/founding.ts';
import { decodeGenesisFile, encodeGenesisFile } from '../core/genesis-file.ts';
import { defaultParameters, type GenesisConfig, type GenesisParameters } from '../core/genesis.ts';
import type { InstitutionIdentity } from '../keys/institution.ts';
import { LOG_FILE } from '../store/store.node.ts';
import { loadOrCreateInstitution, openKeystore } from './keystore.ts';

export interface LocalConsortiumOptions {
	dataDir: string;
	/** The clinics' names, in founding order. */
	names: string[];
	/** The genesis file (default `<dataDir>/genesis.json`). */
	genesisFile?: string;
	/** Protects every clinic's keystore (else each uses a key file in its directory). */
	passphrase?: string;
	/** Parameters other than the defaults (core/genesis.ts defaultParameters). */
	parameters?: Partial<GenesisParameters>;
	/** scrypt cost of new passphrase keystores (tests lower it). */
	cost?: { N?: number };
}

export interface LocalConsortium {
	genesis: GenesisConfig;
	genesisFile: string;
	/** Whether this start founded the consortium (false: it loaded an existing one). */
	founded: boolean;
	clinics: { name: string; dir: string; identity: InstitutionIdentity }[];
}

/** The data directory does not match its genesis (a clinic's keys are not in it). */
export class ConsortiumMismatchError extends Error {
	override readonly name = 'ConsortiumMismatchError';
	readonly code = 'consortium-mismatch';
}

export const clinicDir = (dataDir: string, name: string) =>
	join(dataDir, 'clinics', name.replace(/\W+/g, '-').toLowerCase());

export async function loadOrFoundConsortium(options: LocalConsortiumOptions): Promise<LocalConsortium> {
	if (options.names.length === 0) throw new ConsortiumMismatchError('name at least one clinic');
	if (new Set(options.names).size !== options.names.length)
		throw new ConsortiumMismatchError('two clinics share a name');
	const genesisFile = options.genesisFile ?? join(options.dataDir, 'genesis.json');
	const clinics = [];
	for (const name of options.names) {
		const dir = clinicDir(options.dataDir, name);
		const keystore = await openKeystore({ dir, passphrase: options.passphrase, cost: options.cost });
		try {
			clinics.push({ name, dir, identity: await loadOrCreateInstitution(keystore.vault, name) });
		} finally {
			await keystore.close();
		}
	}
	if (existsSync(genesisFile)) {
		const { genesis } = decodeGenesisFile(await readFile(genesisFile, 'utf8'));
		for (const { name, identity } of clinics)
			if (!genesis.institutions.some((i) => equalBytes(i.id, identity.institution.id)))
				throw new ConsortiumMismatchError(
					`${name} (${bytesToHex(identity.institution.id).slice(0, 16)}…) is not an institution of the genesis in ${genesisFile}: ` +
						'start with the clinics that founded it, or move the data directory away to found a new consortium'
				);
		return { genesis, genesisFile, founded: false, clinics };
	}
	const parameters = defaultParameters({
		// A fresh name per founding: nodes of two local consortia never mistake each other's chains.
		network: `spchain-${bytesToHex(crypto.getRandomValues(new Uint8Array(4)))}`,
		timestamp: Date.now(),
		// A group of four tolerates one fault; fewer founders seat everyone.
		consensusGroupSize: Math.min(4, clinics.length),
		...options.parameters
	});
	let transcript = startFounding(parameters);
	for (const { identity } of clinics)
		transcript = addStep(
			transcript,
			{ kind: 'join', institution: identity.institution },
			identity.institution.id,
			identity.secrets.signingKey
		);
	const genesis = foundedGenesis(transcript);
	// A chain store left from before this founding replicates a chain that no longer runs here.
	for (const { dir } of clinics) await rm(join(dir, LOG_FILE), { force: true });
	const text = encodeGenesisFile({ genesis, founding: transcript });
	await writeFile(`${genesisFile}.tmp`, text);
	await rename(`${genesisFile}.tmp`, genesisFile);
	return { genesis, genesisFile, founded: true, clinics };
}
