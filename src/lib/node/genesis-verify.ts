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
import { bytesToHex } from '../core/bytes.ts';
import { foundingState } from '../core/founding.ts';
import { decodeGenesisFile } from '../core/genesis-file.ts';
import { genesisFingerprint, type GenesisConfig } from '../core/genesis.ts';
import { verificationKeyHash, type VerificationKey } from '../crypto/verification-key.ts';

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

interface CeremonyJson {
	phase1?: { name: string; hash: string }[];
	phase2?: { name: string; hash: string }[];
	phase1Beacon?: { value: string };
	phase2Beacon?: { value: string };
	vkeyHash?: string;
}

export function verifyGenesisFile(genesisText: string, snarkDir: string): GenesisReport {
	let decoded;
	try {
		decoded = decodeGenesisFile(genesisText);
	} catch (error) {
		throw new GenesisVerifyError((error as Error).message);
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
			`${snarkDir} has no ceremony.json and chameleon.vkey.json to check the genesis against`
		);
	const ceremony = JSON.parse(readFileSync(ceremonyFile, 'utf8')) as CeremonyJson;
	const vkey = JSON.parse(readFileSync(vkeyFile, 'utf8')) as VerificationKey;
	if (bytesToHex(verificationKeyHash(vkey)) !== vkeyHash)
		throw new GenesisVerifyError(`${vkeyFile} is not the verification key the genesis pins (${vkeyHash})`);
	if (ceremony.vkeyHash !== vkeyHash)
		throw new GenesisVerifyError(
			`${ceremonyFile} produced the key ${ceremony.vkeyHash}, not the one the genesis pins`
		);
	checked.push(`verification key ${vkeyHash}: the published one and the ceremony's`);

	const state = foundingState(founding);
	const foundersRanSetup = state.phases[1].length > 0;
	if (foundersRanSetup) {
		const nameOf = (id: Uint8Array) =>
			genesis.institutions.find((i) => bytesToHex(i.id) === bytesToHex(id))!.name;
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
					`phase ${phase} of the SNARK transcript is not the founders' signed contributions (signed: ${signed.map((c) => c.name).join(', ')}; recorded: ${recorded.map((c) => c.name).join(', ')})`
				);
			const beacon = bytesToHex(state.beacons[phase]!);
			if (ceremony[`phase${phase}Beacon`]?.value !== beacon)
				throw new GenesisVerifyError(
					`the phase-${phase} beacon of the SNARK transcript is not the founders' committed one`
				);
			checked.push(
				`SNARK phase ${phase}: ${signed.length} contributions signed by their founders, committed beacon ${beacon.slice(0, 16)}…`
			);
		}
	} else {
		checked.push('SNARK setup: the published one (the founders did not run it; --full re-verifies it)');
	}
	return {
		genesis,
		fingerprint: genesisFingerprint(genesis),
		founders: genesis.institutions.map((i) => i.name),
		foundersRanSetup,
		checked
	};
}
