import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base64 } from '@scure/base';
import { afterEach, describe, expect, it } from 'vitest';
import { bytesToHex, fromHex } from '../core/bytes.ts';
import {
	addStep,
	beaconShare,
	decodeFounding,
	encodeFounding,
	foundedGenesis,
	foundingState,
	startFounding,
	type FoundingTranscript
} from '../core/founding.ts';
import { encodeGenesis, genesisHash } from '../core/genesis.ts';
import { encodeGenesisFile } from '../core/genesis-file.ts';
import { defaultParameters } from '../core/genesis.ts';
import { createInstitutionIdentity } from '../keys/institution.ts';
import { GenesisVerifyError, verifyGenesisFile, verifySnarkFiles } from './genesis-verify.ts';
import { CHAMELEON_VKEY_HASH } from '../core/chameleon-params.ts';

const SNARK = 'static/snark';
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));
const tempSnark = () => {
	const dir = mkdtempSync(join(tmpdir(), 'spchain-verify-'));
	dirs.push(dir);
	for (const file of ['ceremony.json', 'chameleon.vkey.json'])
		copyFileSync(join(SNARK, file), join(dir, file));
	return dir;
};

const founders = ['Aster Clinic', 'Birch Hospital', 'Cedar Health', 'Dogwood Medical'].map(
	createInstitutionIdentity
);
const parameters = defaultParameters({ network: 'spchain-verify-test', timestamp: Date.UTC(2026, 11, 1) });
const joined = () =>
	founders.reduce(
		(t, f) =>
			addStep(t, { kind: 'join', institution: f.institution }, f.institution.id, f.secrets.signingKey),
		startFounding(parameters)
	);

/** A genesis file with an arbitrary (possibly tampered) transcript: written by hand, as an attacker would. */
function rawFile(transcript: FoundingTranscript, genesis = foundedGenesis(joined())): string {
	return JSON.stringify({
		format: 'spchain-genesis/1',
		network: genesis.network,
		hash: bytesToHex(genesisHash(genesis)),
		fingerprint: '',
		institutions: [],
		genesis: base64.encode(encodeGenesis(genesis)),
		founding: base64.encode(encodeFounding(transcript))
	});
}

const refusal = (fn: () => unknown) => {
	try {
		fn();
	} catch (error) {
		expect(error).toBeInstanceOf(GenesisVerifyError);
		return (error as Error).message;
	}
	throw new Error('expected a refusal');
};

describe('verify a genesis file', () => {
	it('accepts a founded genesis and refuses a tampered signature, key or genesis', () => {
		const t = joined();
		const genesis = foundedGenesis(t);
		const report = verifyGenesisFile(encodeGenesisFile({ genesis, founding: t }), SNARK);
		expect(report.founders).toEqual(founders.map((f) => f.institution.name));
		expect(report.foundersRanSetup).toBe(false);

		const badSignature = decodeFounding(encodeFounding(t));
		badSignature.steps[1]!.signature[5]! ^= 1;
		expect(refusal(() => verifyGenesisFile(rawFile(badSignature, genesis), SNARK))).toMatch(/signature/);

		// A key swapped in the transcript (its signature no longer matches) ...
		const badKey = decodeFounding(encodeFounding(t));
		const step = badKey.steps[2]!.step;
		if (step.kind === 'join') step.institution.blsKey = founders[0]!.institution.blsKey;
		expect(refusal(() => verifyGenesisFile(rawFile(badKey, genesis), SNARK))).toMatch(/signature/);
		// ... or in the genesis alone (the transcript no longer yields it).
		const swapped = { ...genesis, institutions: genesis.institutions.map((i) => ({ ...i })) };
		swapped.institutions[3]!.chameleonKey = createInstitutionIdentity('Mallory').institution.chameleonKey;
		expect(refusal(() => verifyGenesisFile(rawFile(t, swapped), SNARK))).toMatch(
			/founding transcript yields/
		);

		// A genesis that pins another verification key than the published setup's.
		const pinsOther = { ...parameters, chameleonVkeyHash: new Uint8Array(32).fill(7) };
		const other = founders.reduce(
			(acc, f) =>
				addStep(acc, { kind: 'join', institution: f.institution }, f.institution.id, f.secrets.signingKey),
			startFounding(pinsOther)
		);
		expect(
			refusal(() =>
				verifyGenesisFile(encodeGenesisFile({ genesis: foundedGenesis(other), founding: other }), SNARK)
			)
		).toMatch(/not the verification key/);
	});

	it('ties the founders’ signed SNARK contributions and beacons to the ceremony transcript', () => {
		let t = joined();
		const contributions: Record<1 | 2, string[]> = { 1: [], 2: [] };
		for (const phase of [1, 2] as const) {
			const shares = founders.map((f) => {
				const s = beaconShare();
				const contribution = crypto.getRandomValues(new Uint8Array(64));
				contributions[phase].push(bytesToHex(contribution));
				t = addStep(
					t,
					{ kind: 'contribute', phase, contribution, beaconCommitment: s.commitment },
					f.institution.id,
					f.secrets.signingKey
				);
				return s.share;
			});
			founders.forEach((f, i) => {
				t = addStep(t, { kind: 'reveal', phase, share: shares[i]! }, f.institution.id, f.secrets.signingKey);
			});
		}
		const state = foundingState(t);
		const dir = tempSnark();
		const ceremonyFile = join(dir, 'ceremony.json');
		const ceremony = JSON.parse(readFileSync(ceremonyFile, 'utf8'));
		const names = founders.map((f) => f.institution.name);
		Object.assign(ceremony, {
			phase1: names.map((name, i) => ({ name, hash: contributions[1][i] })),
			phase2: names.map((name, i) => ({ name, hash: contributions[2][i] })),
			phase1Beacon: { value: bytesToHex(state.beacons[1]!), iterationsExp: 10 },
			phase2Beacon: { value: bytesToHex(state.beacons[2]!), iterationsExp: 10 }
		});
		// The genesis pins the key the setup produced, and the artifacts name this founding's transcript.
		const genesis = foundedGenesis(t, fromHex(ceremony.vkeyHash, 32));
		ceremony.transcriptHash = bytesToHex(genesis.genesisMicroblock);
		writeFileSync(ceremonyFile, JSON.stringify(ceremony));
		const file = encodeGenesisFile({ genesis, founding: t });
		expect(verifyGenesisFile(file, dir).foundersRanSetup).toBe(true);

		// Artifacts of another founding (its transcript hash), even with the same contributions.
		ceremony.transcriptHash = '00'.repeat(32);
		writeFileSync(ceremonyFile, JSON.stringify(ceremony));
		expect(refusal(() => verifyGenesisFile(file, dir))).toMatch(/another founding/);
		ceremony.transcriptHash = bytesToHex(genesis.genesisMicroblock);

		// A contribution in the SNARK transcript that no founder signed.
		ceremony.phase2[1].hash = bytesToHex(crypto.getRandomValues(new Uint8Array(64)));
		writeFileSync(ceremonyFile, JSON.stringify(ceremony));
		expect(refusal(() => verifyGenesisFile(file, dir))).toMatch(/phase 2 of the SNARK transcript/);
		// A beacon other than the founders' committed one.
		ceremony.phase2[1].hash = contributions[2][1];
		ceremony.phase1Beacon.value = '00'.repeat(32);
		writeFileSync(ceremonyFile, JSON.stringify(ceremony));
		expect(refusal(() => verifyGenesisFile(file, dir))).toMatch(/phase-1 beacon/);
	});

	it('verifies the committed reference ceremony in full, and refuses a tampered artifact', async () => {
		const text = readFileSync(join(SNARK, 'ceremony-genesis.json'), 'utf8');
		const report = verifyGenesisFile(text, SNARK);
		expect(report.foundersRanSetup).toBe(true);
		expect(report.founders).toEqual(['Aster Clinic', 'Birch Hospital', 'Cedar Health', 'Dogwood Medical']);
		expect(bytesToHex(report.genesis.chameleonVkeyHash)).toBe(CHAMELEON_VKEY_HASH);
		await verifySnarkFiles(SNARK);

		// A copy of the artifacts with one byte of the proving key changed.
		const dir = tempSnark();
		for (const file of ['chameleon.zkey', 'chameleon.wasm']) copyFileSync(join(SNARK, file), join(dir, file));
		copyFileSync('circuits/chameleon_final.ptau', join(dir, 'chameleon_final.ptau'));
		const zkey = readFileSync(join(dir, 'chameleon.zkey'));
		zkey[zkey.length >> 1]! ^= 1;
		writeFileSync(join(dir, 'chameleon.zkey'), zkey);
		await expect(verifySnarkFiles(dir)).rejects.toThrow(/do not verify: .*SHA-256/);

		// A verification key file other than the one the genesis pins and ceremony.json names.
		const vkey = JSON.parse(readFileSync(join(dir, 'chameleon.vkey.json'), 'utf8'));
		vkey.IC[0][0] = '1';
		writeFileSync(join(dir, 'chameleon.vkey.json'), JSON.stringify(vkey));
		expect(refusal(() => verifyGenesisFile(text, dir))).toMatch(/not the verification key the genesis pins/);
	}, 600_000);
});
