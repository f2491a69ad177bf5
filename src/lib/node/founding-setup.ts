/**
 * The SNARK setup of a founding directory: the founders' real snarkjs contributions to the chameleon
 * circuit's Groth16 setup, each one signed into the founding transcript (core/founding.ts). The
 * directory holds `founding.cbor` and the ceremony's files (`ceremony.json` and the current ptau or
 * zkey, circuits/ceremony/); every step here checks the three against each other before building on
 * them: the file's own contribution chain against `ceremony.json` (snarkjs `powersoftau verify` or
 * `zkey verify`), and `ceremony.json` against the founders' signed contribution hashes and beacons.
 *
 *  - contribute: the founder's contribution with fresh CSPRNG entropy (snarkjs `powersoftau contribute`
 *    while phase 1 is open, then `zkey contribute`), and a signed contribute step with the hash snarkjs
 *    reports and a commitment to a fresh beacon share, which stays in the founder's keystore;
 *  - reveal: the founder's share from its keystore; once a phase's shares are all revealed, its beacon
 *    is fixed (phase 1's is applied at once: beacon, prepare phase 2, `zkey new`);
 *  - finish: phase 2's beacon, both transcripts verified, and the artifacts exported with the hashes of
 *    their files and of the founding transcript.
 */
import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { bytesToHex, fromHex, type Bytes } from '../core/bytes.ts';
import {
	addStep,
	beaconShare,
	CONTRIBUTION_HASH_LENGTH,
	foundedGenesis,
	foundingState,
	parametersHash,
	type FoundingState,
	type FoundingTranscript
} from '../core/founding.ts';
import type { GenesisConfig } from '../core/genesis.ts';
import { HASH_LENGTH } from '../core/hash.ts';
import { institutionOf, type InstitutionIdentity } from '../keys/institution.ts';
import { loadInstitutionIdentity } from '../keys/secrets.ts';
import type { KeyVault } from '../keys/vault.ts';
import { closePhase1, contribute, finish, init } from '../../../circuits/ceremony/steps.ts';
import {
	readCeremony,
	sha256File,
	STATE_FILE,
	writeCeremony
} from '../../../circuits/ceremony/transcript.ts';
import { FoundingDirError, readFounding, saveFounding } from './founding-dir.ts';
import { checkSetupLinks } from './genesis-verify.ts';
import { openKeystore, type KeystoreOptions } from './keystore.ts';

/** 2^12 powers of tau: the chameleon circuit's 3,563 constraints plus its public inputs fit. */
export const POWER_OF_TAU = 12;
const VKEY_FILE = 'chameleon.vkey.json';

/** The founder whose keystore is `keystore` (it must have joined with it). */
async function withFounder<T>(
	keystore: KeystoreOptions,
	run: (identity: InstitutionIdentity, vault: KeyVault) => Promise<T>
): Promise<T> {
	const store = await openKeystore(keystore);
	try {
		const stored = await loadInstitutionIdentity(store.vault);
		if (!stored)
			throw new FoundingDirError(
				`${keystore.dir} holds no institution: join the founding with found-join and this keystore first`
			);
		const identity = { institution: institutionOf(stored.name, stored.secrets), secrets: stored.secrets };
		return await run(identity, store.vault);
	} finally {
		await store.close();
	}
}

/** Where a founder's secret beacon share of one phase of one founding is kept. */
const shareName = (transcript: FoundingTranscript, phase: 1 | 2) =>
	`founding/${bytesToHex(parametersHash(transcript.parameters))}/beacon-share-${phase}`;

/** The directory's ceremony files are the founders' signed ones (or, before any contribution, absent). */
function checkDirectory(dir: string, transcript: FoundingTranscript): void {
	if (!existsSync(join(dir, STATE_FILE))) {
		if (foundingState(transcript).phases[1].length > 0)
			throw new FoundingDirError(
				`${dir} has lost its ${STATE_FILE}: the founders' signed contributions have no SNARK files`
			);
		return;
	}
	checkSetupLinks(transcript, readCeremony(dir));
}

/** The phase a contribution goes to now; refuses while a phase's shares are being revealed. */
function openPhase(state: FoundingState): 1 | 2 {
	const revealing = (phase: 1 | 2) => state.phases[phase].some((c) => c.share);
	if (state.beacons[1] === undefined) {
		if (revealing(1))
			throw new FoundingDirError(
				'phase 1 is closed and its contributors are revealing their beacon shares (found-reveal); phase 2 opens once all have'
			);
		return 1;
	}
	if (revealing(2))
		throw new FoundingDirError('phase 2 is closed: the founders reveal their shares, then found-finish');
	return 2;
}

/** Applies phase 1's beacon (the hash of the founders' shares) once it is fixed, if not done yet. */
async function openPhase2(dir: string, state: FoundingState): Promise<void> {
	if (state.beacons[1] === undefined || readCeremony(dir).status !== 'phase1') return;
	await closePhase1(dir, bytesToHex(state.beacons[1]));
}

/**
 * This founder's contribution to the phase that is open, with fresh entropy, signed into the founding.
 * The founding's rules (joined, not contributed to this phase yet) are checked before snarkjs runs.
 */
export async function contributeFoundingDir(
	dir: string,
	keystore: KeystoreOptions
): Promise<{ phase: 1 | 2; contribution: string }> {
	const transcript = await readFounding(dir);
	const state = foundingState(transcript);
	const phase = openPhase(state);
	checkDirectory(dir, transcript);
	return withFounder(keystore, async ({ institution, secrets }, vault) => {
		try {
			// A dry run of the step: the founding's rules are checked before minutes of snarkjs.
			const placeholder = {
				kind: 'contribute' as const,
				phase,
				contribution: new Uint8Array(CONTRIBUTION_HASH_LENGTH),
				beaconCommitment: new Uint8Array(HASH_LENGTH)
			};
			addStep(transcript, placeholder, institution.id, secrets.signingKey);
		} catch (error) {
			throw new FoundingDirError(`${institution.name} cannot contribute now: ${(error as Error).message}`);
		}
		if (phase === 1 && !existsSync(join(dir, STATE_FILE))) await init(dir, POWER_OF_TAU);
		if (phase === 2) await openPhase2(dir, state);
		const { share, commitment } = beaconShare();
		// Kept before the contribution exists, so no signed commitment is ever without its share.
		await vault.put(shareName(transcript, phase), share);
		await contribute(dir, institution.name, phase);
		const recorded = readCeremony(dir)[`phase${phase}`].at(-1)!;
		const contribution = fromHex(recorded.hash, CONTRIBUTION_HASH_LENGTH);
		await saveFounding(
			dir,
			addStep(
				transcript,
				{ kind: 'contribute', phase, contribution, beaconCommitment: commitment },
				institution.id,
				secrets.signingKey
			)
		);
		return { phase, contribution: recorded.hash };
	});
}

/**
 * Reveals this founder's beacon share of the phase it last contributed to (which closes that phase to
 * contributions). When it is the phase's last share, the beacon is fixed; phase 1's is applied at once.
 */
export async function revealFoundingDir(
	dir: string,
	keystore: KeystoreOptions
): Promise<{ phase: 1 | 2; beacon?: string }> {
	const transcript = await readFounding(dir);
	const state = foundingState(transcript);
	checkDirectory(dir, transcript);
	return withFounder(keystore, async ({ institution, secrets }, vault) => {
		const pending = ([1, 2] as const).find((phase) =>
			state.phases[phase].some((c) => bytesToHex(c.founder) === bytesToHex(institution.id) && !c.share)
		);
		if (pending === undefined)
			throw new FoundingDirError(
				`${institution.name} has no beacon share to reveal: it has not contributed since its last reveal`
			);
		const share = await vault.find(shareName(transcript, pending));
		if (!share)
			throw new FoundingDirError(
				`the phase-${pending} beacon share of ${institution.name} is not in ${keystore.dir}: reveal with the keystore that contributed`
			);
		let next: FoundingTranscript;
		try {
			next = addStep(
				transcript,
				{ kind: 'reveal', phase: pending, share },
				institution.id,
				secrets.signingKey
			);
		} catch (error) {
			throw new FoundingDirError(`${institution.name} cannot reveal: ${(error as Error).message}`);
		}
		await saveFounding(dir, next);
		const beacon = foundingState(next).beacons[pending];
		if (pending === 1) await openPhase2(dir, foundingState(next));
		return { phase: pending, ...(beacon ? { beacon: bytesToHex(beacon) } : {}) };
	});
}

/**
 * Phase 2's beacon, the whole setup verified, and the artifacts (`chameleon.{wasm,zkey,vkey.json}`,
 * `chameleon_final.ptau`, `ceremony.json`) written to `artifacts`; returns the genesis, which pins the
 * verification key the setup produced. For `static/snark` the key's hash also goes to
 * `src/lib/core/chameleon-params.ts` and the ptau to `circuits/` (circuits/ceremony/steps.ts).
 */
export async function finishSetup(
	dir: string,
	transcript: FoundingTranscript,
	artifacts: string
): Promise<GenesisConfig> {
	const state = foundingState(transcript);
	if (state.beacons[2] === undefined)
		throw new FoundingDirError(
			'the founding cannot finish yet: every phase-2 contributor must reveal its beacon share (found-reveal)'
		);
	checkDirectory(dir, transcript);
	if (readCeremony(dir).status !== 'finished')
		await finish(dir, bytesToHex(state.beacons[2]), resolve(artifacts));
	const ceremony = readCeremony(dir);
	const genesis = foundedGenesis(transcript, fromHex(ceremony.vkeyHash!, HASH_LENGTH) as Bytes);
	writeCeremony(dir, {
		...ceremony,
		vkey: { name: VKEY_FILE, sha256: sha256File(join(artifacts, VKEY_FILE)) },
		transcriptHash: bytesToHex(genesis.genesisMicroblock)
	});
	await copyFile(join(dir, STATE_FILE), join(artifacts, STATE_FILE));
	return genesis;
}
