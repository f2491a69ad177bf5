/**
 * The SNARK setup's steps over a founding directory, driven by src/lib/node/founding-setup.ts (which
 * signs each contribution into the founding and derives the beacons from the founders' shares). Each
 * step reads `ceremony.json`, verifies what it is handed before building on it, writes its output next
 * to the input, records it in the transcript and only then removes the superseded file (the newest file
 * carries the whole contribution chain).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as snarkjs from 'snarkjs';
import { bytesToHex } from '../../src/lib/core/bytes.ts';
import { verificationKeyHash, type VerificationKey } from '../../src/lib/crypto/verification-key.ts';
import {
	capture,
	checkCircuit,
	checkFileHash,
	compileCircuit,
	entropy,
	root,
	step,
	verifyPtau,
	verifyZkey,
	type Compiled
} from './snark.ts';
import {
	BEACON_ITERATIONS_EXP,
	BEACON_NAME,
	CIRCUIT,
	CeremonyError,
	FINAL_PTAU,
	FINAL_ZKEY,
	STATE_FILE,
	checkBeaconValue,
	checkName,
	phase1File,
	phase2File,
	readCeremony,
	sha256File,
	writeCeremony,
	type Beacon,
	type Ceremony
} from './transcript.ts';

export const DEFAULT_OUT = join(root, 'static/snark');
const PARAMS_FILE = 'chameleon-params.ts';
const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;

async function withCircuit<T>(run: (compiled: Compiled) => Promise<T>): Promise<T> {
	step(`compiling ${CIRCUIT} (circom2 --O2)`);
	const compiled = await compileCircuit();
	try {
		return await run(compiled);
	} finally {
		compiled.dispose();
	}
}

/** Deletes a step's output if the step fails, so a retry starts from the recorded state. */
async function producing<T>(path: string, run: () => Promise<T>): Promise<T> {
	try {
		return await run();
	} catch (error) {
		rmSync(path, { force: true });
		throw error;
	}
}

const hex = (hash: Uint8Array | false, what: string) => {
	if (hash === false) throw new CeremonyError(`snarkjs refused the ${what}`);
	return bytesToHex(hash);
};

export async function init(dir: string, power: number): Promise<void> {
	if (existsSync(join(dir, STATE_FILE))) throw new CeremonyError(`${dir} already holds a ceremony`);
	if (!Number.isInteger(power) || power < 1 || power > 28)
		throw new CeremonyError('--power must be an integer from 1 to 28');
	await withCircuit(async (compiled) => {
		step(`${compiled.constraints} constraints (r1cs ${compiled.r1csSha256.slice(0, 16)}…)`);
		if (compiled.minPower > power)
			throw new CeremonyError(
				`2^${power} powers of tau are too few: the circuit needs 2^${compiled.minPower}`
			);
		mkdirSync(dir, { recursive: true });
		const ptau = phase1File(0);
		step(`phase 1: a fresh 2^${power} powers-of-tau accumulator, ${ptau}`);
		const curve = await snarkjs.curves.getCurveFromName('bn128');
		await snarkjs.powersOfTau.newAccumulator(curve, power, join(dir, ptau), capture().logger);
		writeCeremony(dir, {
			circuit: CIRCUIT,
			r1csSha256: compiled.r1csSha256,
			constraints: compiled.constraints,
			powerOfTau: power,
			status: 'phase1',
			phase1: [],
			phase2: [],
			ptau: { name: ptau, sha256: sha256File(join(dir, ptau)) },
			created: new Date().toISOString()
		});
	});
	step(`SNARK setup started in ${dir}`);
}

/** The current phase-1 accumulator, verified: the input of a contribution or of the beacon. */
async function verifyCurrentPtau(dir: string, ceremony: Ceremony): Promise<string> {
	const path = join(dir, ceremony.ptau.name);
	step(`verifying ${ceremony.ptau.name} (${plural(ceremony.phase1.length, 'contribution')})`);
	await verifyPtau(path, ceremony, ceremony.phase1);
	checkFileHash(path, ceremony.ptau.sha256, 'phase-1 file');
	return path;
}

/** The current phase-2 key, verified against a fresh compile and the phase-1 result. */
async function verifyCurrentZkey(dir: string, ceremony: Ceremony, compiled: Compiled): Promise<string> {
	checkCircuit(ceremony, compiled);
	const ptau = join(dir, FINAL_PTAU);
	checkFileHash(ptau, ceremony.ptau.sha256, 'phase-1 result');
	const path = join(dir, ceremony.zkey!.name);
	step(
		`verifying ${ceremony.zkey!.name} (${plural(ceremony.phase2.length, 'contribution')}) against the circuit and phase 1`
	);
	await verifyZkey(compiled.r1cs, ptau, path, ceremony.phase2);
	checkFileHash(path, ceremony.zkey!.sha256, 'phase-2 file');
	return path;
}

export async function contribute(dir: string, rawName: string | undefined, phaseFlag?: 1 | 2): Promise<void> {
	const ceremony = readCeremony(dir);
	if (ceremony.status === 'finished')
		throw new CeremonyError(
			'the ceremony is finished: phase 2 was closed by its beacon, no contribution can be added'
		);
	const phase = ceremony.status === 'phase1' ? 1 : 2;
	if (phaseFlag === 1 && phase === 2)
		throw new CeremonyError(
			`phase 1 is closed (beacon ${ceremony.phase1Beacon?.value.slice(0, 16)}…): a contribution now goes to phase 2`
		);
	if (phaseFlag === 2 && phase === 1)
		throw new CeremonyError('phase 2 has not started: phase 1 is still open until its beacon is fixed');
	const name = checkName(ceremony, phase, rawName);
	const list = phase === 1 ? ceremony.phase1 : ceremony.phase2;
	const contribution = async (previous: string, next: string) => {
		step(`phase ${phase} contribution #${list.length + 1}: ${name} (fresh local entropy, never stored)`);
		const { logger } = capture();
		const output = join(dir, next);
		const hash = await producing(output, () =>
			phase === 1
				? snarkjs.powersOfTau.contribute(previous, output, name, entropy(), logger)
				: snarkjs.zKey.contribute(previous, output, name, entropy(), logger)
		);
		list.push({ name, hash: bytesToHex(hash), date: new Date().toISOString() });
		return { name: next, sha256: sha256File(output) };
	};
	let previous: string;
	if (phase === 1) {
		previous = await verifyCurrentPtau(dir, ceremony);
		ceremony.ptau = await contribution(previous, phase1File(list.length + 1));
	} else {
		previous = await withCircuit(async (compiled) => {
			const path = await verifyCurrentZkey(dir, ceremony, compiled);
			ceremony.zkey = await contribution(path, phase2File(list.length + 1));
			return path;
		});
	}
	writeCeremony(dir, ceremony);
	rmSync(previous);
	step(`contribution hash ${list.at(-1)!.hash}`);
	step(`recorded in ${join(dir, STATE_FILE)}`);
}

function beaconRecord(value: string, hash: Uint8Array | false, what: string): Beacon {
	return {
		value,
		iterationsExp: BEACON_ITERATIONS_EXP,
		hash: hex(hash, what),
		date: new Date().toISOString()
	};
}

export async function closePhase1(dir: string, beaconValue: string | undefined): Promise<void> {
	const ceremony = readCeremony(dir);
	if (ceremony.status !== 'phase1') throw new CeremonyError('phase 1 is already closed');
	const value = checkBeaconValue(beaconValue, 'close-phase1');
	if (ceremony.phase1.length === 0)
		throw new CeremonyError('phase 1 has no contribution yet: at least one institution must contribute');
	const previous = await verifyCurrentPtau(dir, ceremony);
	const beaconPtau = join(dir, 'phase1_beacon.ptau');
	const finalPtau = join(dir, FINAL_PTAU);
	const firstZkey = join(dir, phase2File(0));
	try {
		step(`phase 1 beacon ${value} (2^${BEACON_ITERATIONS_EXP} iterations)`);
		const { logger } = capture();
		const hash = await snarkjs.powersOfTau.beacon(
			previous,
			beaconPtau,
			BEACON_NAME,
			value,
			BEACON_ITERATIONS_EXP,
			logger
		);
		const beacon = beaconRecord(value, hash, 'phase-1 beacon');
		step('phase 1: preparing phase 2 (Lagrange basis)');
		await snarkjs.powersOfTau.preparePhase2(beaconPtau, finalPtau, logger);
		step(`verifying ${FINAL_PTAU}: the whole phase-1 transcript`);
		await verifyPtau(finalPtau, ceremony, ceremony.phase1, beacon);
		await withCircuit(async (compiled) => {
			checkCircuit(ceremony, compiled);
			step(`phase 2: circuit-specific key ${phase2File(0)} (zkey new)`);
			const zkeyNew = capture();
			const created = await snarkjs.zKey.newZKey(compiled.r1cs, finalPtau, firstZkey, zkeyNew.logger);
			if (created === -1) throw new CeremonyError(`snarkjs zkey new failed: ${zkeyNew.errors.join('; ')}`);
		});
		ceremony.phase1Beacon = beacon;
		ceremony.status = 'phase2';
		ceremony.ptau = { name: FINAL_PTAU, sha256: sha256File(finalPtau) };
		ceremony.zkey = { name: phase2File(0), sha256: sha256File(firstZkey) };
	} catch (error) {
		for (const path of [finalPtau, firstZkey]) rmSync(path, { force: true });
		throw error;
	} finally {
		rmSync(beaconPtau, { force: true });
	}
	writeCeremony(dir, ceremony);
	rmSync(previous);
	step(`phase 1 closed; phase 2 is open in ${dir}`);
}

export async function finish(dir: string, beaconValue: string | undefined, out: string): Promise<void> {
	const ceremony = readCeremony(dir);
	if (ceremony.status === 'phase1')
		throw new CeremonyError('phase 1 is still open: its beacon must be applied first');
	if (ceremony.status === 'finished')
		throw new CeremonyError(`the SNARK setup in ${dir} is already finished`);
	const value = checkBeaconValue(beaconValue, 'finish');
	if (ceremony.phase2.length === 0)
		throw new CeremonyError('phase 2 has no contribution yet: at least one institution must contribute');
	const ptau = join(dir, FINAL_PTAU);
	const zkey = join(dir, FINAL_ZKEY);
	await withCircuit(async (compiled) => {
		const previous = await verifyCurrentZkey(dir, ceremony, compiled);
		step(`phase 2 beacon ${value} (2^${BEACON_ITERATIONS_EXP} iterations)`);
		const beacon = await producing(zkey, async () =>
			beaconRecord(
				value,
				await snarkjs.zKey.beacon(
					previous,
					zkey,
					BEACON_NAME,
					value,
					BEACON_ITERATIONS_EXP,
					capture().logger
				),
				'phase-2 beacon'
			)
		);
		const log = await producing(zkey, async () => {
			step(`verifying ${FINAL_PTAU}: the phase-1 transcript`);
			const phase1Log = await verifyPtau(ptau, ceremony, ceremony.phase1, ceremony.phase1Beacon);
			step(`zkey verify: ${FINAL_ZKEY}, the whole phase-2 transcript, against the circuit and phase 1`);
			return [...phase1Log, ...(await verifyZkey(compiled.r1cs, ptau, zkey, ceremony.phase2, beacon))];
		});
		const vkey = (await snarkjs.zKey.exportVerificationKey(zkey)) as VerificationKey;
		ceremony.phase2Beacon = beacon;
		ceremony.status = 'finished';
		ceremony.zkey = { name: FINAL_ZKEY, sha256: sha256File(zkey) };
		ceremony.vkeyHash = bytesToHex(verificationKeyHash(vkey));
		ceremony.finished = new Date().toISOString();
		ceremony.log = log;
		writeCeremony(dir, ceremony);
		rmSync(previous);
		exportArtifacts(dir, ceremony, compiled, vkey, out);
	});
}

/** Where the params module and the phase-1 result go: into the repository for the default output, else --out. */
function outputPaths(out: string): { params: string; ptau: string } {
	return resolve(out) === DEFAULT_OUT
		? { params: join(root, 'src/lib/core', PARAMS_FILE), ptau: join(root, 'circuits', FINAL_PTAU) }
		: { params: join(out, PARAMS_FILE), ptau: join(out, FINAL_PTAU) };
}

function exportArtifacts(
	dir: string,
	ceremony: Ceremony,
	compiled: Compiled,
	vkey: VerificationKey,
	out: string
): void {
	mkdirSync(out, { recursive: true });
	const paths = outputPaths(out);
	const written = [
		join(out, 'chameleon.wasm'),
		join(out, FINAL_ZKEY),
		join(out, 'chameleon.vkey.json'),
		join(out, STATE_FILE),
		paths.params,
		paths.ptau
	];
	copyFileSync(compiled.wasm, written[0]!);
	copyFileSync(join(dir, FINAL_ZKEY), written[1]!);
	writeFileSync(written[2]!, JSON.stringify(vkey, null, '\t') + '\n');
	copyFileSync(join(dir, STATE_FILE), written[3]!);
	writeFileSync(
		paths.params,
		[
			'// Generated by `npm run consortium -- found-finish` (src/lib/node/founding-setup.ts): do not edit.',
			'/** SHA-256 of the canonical chameleon verification key (src/lib/crypto/verification-key.ts). */',
			`export const CHAMELEON_VKEY_HASH = '${ceremony.vkeyHash}';`,
			''
		].join('\n')
	);
	copyFileSync(join(dir, FINAL_PTAU), paths.ptau);
	for (const path of written) step(`${path}: ${statSync(path).size} bytes`);
	step(`verification key hash ${ceremony.vkeyHash}`);
}

/**
 * Anyone's check of a ceremony directory (any state) or of published artifacts: the circuit compiled
 * afresh, the phase-1 file's transcript, `zkey verify` against the r1cs and the ptau, and the published
 * verification key, params module and WASM against what the zkey and the compile give.
 */
export async function verify(dir: string, ptauFlag?: string): Promise<void> {
	const ceremony = readCeremony(dir);
	const isDefault = resolve(dir) === DEFAULT_OUT;
	const ptau =
		ptauFlag ??
		[join(dir, ceremony.ptau.name), ...(isDefault ? [outputPaths(dir).ptau] : [])].find(existsSync);
	if (!ptau)
		throw new CeremonyError(`no ${ceremony.ptau.name} next to ${dir}/${STATE_FILE} (pass --ptau <file>)`);
	await withCircuit(async (compiled) => {
		checkCircuit(ceremony, compiled);
		step(`${compiled.constraints} constraints, r1cs SHA-256 ${compiled.r1csSha256} as recorded`);
		checkFileHash(ptau, ceremony.ptau.sha256, 'phase-1 file');
		step(`verifying ${ptau}: phase 1, ${plural(ceremony.phase1.length, 'contribution')}`);
		await verifyPtau(ptau, ceremony, ceremony.phase1, ceremony.phase1Beacon);
		if (ceremony.status === 'phase1') {
			step(`phase 1 open, transcript valid so far: ${ceremony.phase1.map((c) => c.name).join(', ')}`);
			return;
		}
		const zkey = join(dir, ceremony.zkey!.name);
		checkFileHash(zkey, ceremony.zkey!.sha256, 'phase-2 file');
		step(
			`zkey verify: ${zkey}, phase 2, ${plural(ceremony.phase2.length, 'contribution')}, against the r1cs and ptau`
		);
		await verifyZkey(compiled.r1cs, ptau, zkey, ceremony.phase2, ceremony.phase2Beacon);
		if (ceremony.status === 'phase2') {
			step(`phase 2 open, transcript valid so far: ${ceremony.phase2.map((c) => c.name).join(', ')}`);
			return;
		}
		const vkey = (await snarkjs.zKey.exportVerificationKey(zkey)) as VerificationKey;
		const vkeyHash = bytesToHex(verificationKeyHash(vkey));
		if (vkeyHash !== ceremony.vkeyHash)
			throw new CeremonyError(
				`the zkey's verification key hash ${vkeyHash} is not the transcript's ${ceremony.vkeyHash}`
			);
		const vkeyJson = join(dir, 'chameleon.vkey.json');
		if (existsSync(vkeyJson)) {
			const published = JSON.parse(readFileSync(vkeyJson, 'utf8')) as VerificationKey;
			if (bytesToHex(verificationKeyHash(published)) !== vkeyHash)
				throw new CeremonyError(`${vkeyJson} is not the zkey's verification key`);
			step(`${vkeyJson}: the zkey's verification key`);
		}
		const params = outputPaths(dir).params;
		if (existsSync(params)) {
			const pinned = /CHAMELEON_VKEY_HASH = '([0-9a-f]{64})'/.exec(readFileSync(params, 'utf8'))?.[1];
			if (pinned !== vkeyHash) throw new CeremonyError(`${params} pins ${pinned}, not ${vkeyHash}`);
			step(`${params}: pins it`);
		}
		const wasm = join(dir, 'chameleon.wasm');
		if (existsSync(wasm)) {
			if (sha256File(wasm) !== sha256File(compiled.wasm))
				throw new CeremonyError(`${wasm} is not what ${CIRCUIT} compiles to`);
			step(`${wasm}: identical to the fresh compile`);
		}
		step(`phase 1: ${ceremony.phase1.map((c) => c.name).join(', ')}, beacon ${ceremony.phase1Beacon?.value}`);
		step(`phase 2: ${ceremony.phase2.map((c) => c.name).join(', ')}, beacon ${ceremony.phase2Beacon?.value}`);
		step(`transcript verified; verification key hash ${vkeyHash}`);
	});
}
