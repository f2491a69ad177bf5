/**
 * Anyone's check of a consortium's genesis file against the SNARK setup it pins (`npm run consortium --
 * verify`): the genesis hash, every founder's signature, key and proof of possession (by replaying the
 * founding transcript, core/founding.ts), and the link to the SNARK transcript: the verification key
 * the genesis pins is the one the ceremony produced and the one published, and when the founders ran
 * the setup, the ceremony's contributions are exactly the founders' signed ones, in order, and its
 * beacons are the ones the founders' revealed shares make. The snarkjs re-verification of the setup
 * itself (contribution chain, zkey against a fresh r1cs) is the ceremony's own verify, which the
 * command adds with --full.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, equalBytes } from '../core/bytes.ts';
import { foundersRanSetup, foundingState, type FoundingTranscript } from '../core/founding.ts';
import { decodeGenesisFile } from '../core/genesis-file.ts';
import { genesisFingerprint, type GenesisConfig } from '../core/genesis.ts';
import { verificationKeyHash, type VerificationKey } from '../crypto/verification-key.ts';
import { sha256File } from '../../../circuits/ceremony/transcript.ts';

/** The genesis or its link to the SNARK setup does not hold; the message says which part. */
export class GenesisVerifyError extends Error {
	override readonly name = 'GenesisVerifyError';
	readonly code = 'genesis-verify';
}

export interface GenesisReport {
	genesis: GenesisConfig;
	fingerprint: string;
	founders: string[];
	/** Whether the founders ran the SNARK setup themselves (else the genesis pins a published one). */
	foundersRanSetup: boolean;
	/** Lines saying what was checked. */
	checked: string[];
}

/** What `ceremony.json` says about a setup (circuits/ceremony/transcript.ts), as far as the genesis is concerned. */
interface CeremonyJson {
	phase1?: { name: string; hash: string }[];
	phase2?: { name: string; hash: string }[];
	phase1Beacon?: { value: string };
	phase2Beacon?: { value: string };
	vkeyHash?: string;
	vkey?: { name: string; sha256: string };
	transcriptHash?: string;
}

/**
 * The SNARK transcript is the founders' signed one: the same contributions (name and hash, in order) in
 * each phase, and each beacon recorded so far the one the founders' revealed shares make. Run at every
 * founding step that touches the SNARK files and by `verify`.
 */
export function checkSetupLinks(founding: FoundingTranscript, ceremony: CeremonyJson): string[] {
	const state = foundingState(founding);
	const nameOf = (id: Uint8Array) => state.founders.find((i) => equalBytes(i.id, id))!.name;
	const checked: string[] = [];
	for (const phase of [1, 2] as const) {
		const signed = state.phases[phase].map((c) => ({
			name: nameOf(c.founder),
			hash: bytesToHex(c.contribution)
		}));
		const recorded = (ceremony[`phase${phase}`] ?? []).map((c) => ({
			name: c.name,
			hash: c.hash.toLowerCase()
		}));
		if (JSON.stringify(signed) !== JSON.stringify(recorded))
			throw new GenesisVerifyError(
				`phase ${phase} of the SNARK transcript is not the founders' signed contributions (signed: ${signed.map((c) => c.name).join(', ') || 'none'}; recorded: ${recorded.map((c) => c.name).join(', ') || 'none'}): the directory was altered or a contribution was not signed; go back to the last directory whose transcript verifies`
			);
		const recordedBeacon = ceremony[`phase${phase}Beacon`]?.value;
		const beacon = state.beacons[phase];
		if (recordedBeacon !== undefined && (beacon === undefined || recordedBeacon !== bytesToHex(beacon)))
			throw new GenesisVerifyError(
				`the phase-${phase} beacon of the SNARK transcript is not the founders' committed one`
			);
		if (signed.length > 0)
			checked.push(
				`SNARK phase ${phase}: ${signed.length} contributions signed by their founders` +
					(beacon ? `, committed beacon ${bytesToHex(beacon).slice(0, 16)}…` : '')
			);
	}
	return checked;
}

export function verifyGenesisFile(genesisText: string, snarkDir: string): GenesisReport {
	let decoded;
	try {
		decoded = decodeGenesisFile(genesisText);
	} catch (error) {
		throw new GenesisVerifyError(
			`the genesis file does not verify: ${(error as Error).message}. Ask its founders for the file they published.`
		);
	}
	const { genesis, founding } = decoded;
	if (!founding)
		throw new GenesisVerifyError(
			'this genesis carries no founding transcript: nothing shows that its institutions made and signed their keys'
		);
	const checked = [
		`genesis hash and rules; ${founding.steps.length} founding steps, each signed by its founder`,
		`${genesis.institutions.length} founders, each BLS key with a valid proof of possession`
	];
	const vkeyHash = bytesToHex(genesis.chameleonVkeyHash);
	const ceremonyFile = join(snarkDir, 'ceremony.json');
	const vkeyFile = join(snarkDir, 'chameleon.vkey.json');
	if (!existsSync(ceremonyFile) || !existsSync(vkeyFile))
		throw new GenesisVerifyError(
			`${snarkDir} has no ceremony.json and chameleon.vkey.json to check the genesis against (pass --snark <the founders' artifacts>)`
		);
	const ceremony = JSON.parse(readFileSync(ceremonyFile, 'utf8')) as CeremonyJson;
	const vkey = JSON.parse(readFileSync(vkeyFile, 'utf8')) as VerificationKey;
	if (bytesToHex(verificationKeyHash(vkey)) !== vkeyHash)
		throw new GenesisVerifyError(`${vkeyFile} is not the verification key the genesis pins (${vkeyHash})`);
	if (ceremony.vkeyHash !== vkeyHash)
		throw new GenesisVerifyError(
			`${ceremonyFile} produced the key ${ceremony.vkeyHash}, not the one the genesis pins`
		);
	if (ceremony.vkey && sha256File(vkeyFile) !== ceremony.vkey.sha256)
		throw new GenesisVerifyError(`${vkeyFile} is not the file ${ceremonyFile} names (its SHA-256 differs)`);
	checked.push(`verification key ${vkeyHash}: the published one and the ceremony's`);

	const ranSetup = foundersRanSetup(founding);
	if (ranSetup) {
		const transcript = bytesToHex(genesis.genesisMicroblock);
		if (ceremony.transcriptHash !== transcript)
			throw new GenesisVerifyError(
				`${ceremonyFile} names the founding transcript ${ceremony.transcriptHash ?? '(none)'}, not this genesis's ${transcript}: these artifacts come from another founding`
			);
		checked.push(...checkSetupLinks(founding, ceremony));
	} else {
		checked.push('SNARK setup: the published one (the founders did not run it; --full re-verifies it)');
	}
	return {
		genesis,
		fingerprint: genesisFingerprint(genesis),
		founders: genesis.institutions.map((i) => i.name),
		foundersRanSetup: ranSetup,
		checked
	};
}

/**
 * `verify --full`: the SNARK files themselves, re-verified with snarkjs from a fresh compile of the
 * circuit (circuits/ceremony/steps.ts): each file's contribution chain is `ceremony.json`'s, the zkey
 * against the r1cs and the final ptau, every file's SHA-256 the recorded one, and the zkey's
 * verification key the published one. Together with verifyGenesisFile, the files' contributions are the
 * founders' signed ones.
 */
export async function verifySnarkFiles(snarkDir: string): Promise<void> {
	// Loaded only here: snarkjs and circom2 are needed for the full check only.
	const { verify } = await import('../../../circuits/ceremony/steps.ts');
	const { CeremonyError } = await import('../../../circuits/ceremony/transcript.ts');
	try {
		await verify(snarkDir);
	} catch (error) {
		if (!(error instanceof CeremonyError)) throw error;
		throw new GenesisVerifyError(
			`the SNARK files in ${snarkDir} do not verify: ${error.message}. Fetch the founders' published artifacts again.`
		);
	}
}
