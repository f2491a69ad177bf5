/**
 * `npm run ceremony [-- "Aster Clinic" "Birch Hospital" … ] [--beacon <64 hex>] [--power 12]`
 *
 * The chameleon circuit's Groth16 trusted setup, run as a consortium would run it:
 *   1. compile circuits/chameleon.circom with circom2 (--O2);
 *   2. phase 1, powers of tau (2^12 ≥ the circuit's 3,563 constraints): a fresh accumulator, one
 *      contribution per institution, then a random beacon; the transcript is verified;
 *   3. phase 2, circuit-specific: one contribution per institution, a random beacon, and `zkey verify`
 *      of the whole transcript against the circuit and the phase-1 file;
 *   4. export: static/snark/{chameleon.wasm, chameleon.zkey, chameleon.vkey.json, ceremony.json} and
 *      src/lib/core/chameleon-params.ts (the verification key's hash, which genesis pins), and keep the
 *      phase-1 result as circuits/chameleon_final.ptau so anyone can re-run `snarkjs zkey verify`.
 * The setup is sound if at least one contributor destroyed its entropy. Here every contribution runs in
 * this process with fresh OS randomness that is never written anywhere; a real consortium runs the same
 * snarkjs calls on each institution's machine in turn, passing the files along, and takes the beacon from
 * a public randomness source fixed after the last contribution (a drand round, a Bitcoin block hash).
 * The artifacts are committed, so `npm install` and `npm test` never rerun this (about 70 s on 2 cores).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as snarkjs from 'snarkjs';
import { bytesToHex } from '../src/lib/core/bytes.ts';
import { sha256 } from '../src/lib/core/hash.ts';
import { verificationKeyHash, type VerificationKey } from '../src/lib/crypto/verification-key.ts';
import { terminateCurve } from '../src/lib/crypto/snark.node.ts';

const DEFAULT_INSTITUTIONS = ['Aster Clinic', 'Birch Hospital', 'Cedar Health'];
const BEACON_ITERATIONS_EXP = 10;

const { values, positionals } = parseArgs({
	allowPositionals: true,
	options: { beacon: { type: 'string' }, power: { type: 'string', default: '12' } }
});
const institutions = positionals.length > 0 ? positionals : DEFAULT_INSTITUTIONS;
const power = Number(values.power);
const beacon = values.beacon ?? bytesToHex(randomBytes(32));
if (!/^[0-9a-f]{64}$/.test(beacon)) throw new Error('--beacon must be 32 bytes of lowercase hex');

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'static/snark');
const work = mkdtempSync(join(tmpdir(), 'spchain-ceremony-'));
const transcript: string[] = [];
const logger: snarkjs.Logger = {
	debug: () => {},
	info: (m) => transcript.push(m),
	warn: (m) => transcript.push(`WARN ${m}`),
	error: (m) => transcript.push(`ERROR ${m}`)
};
const step = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
const entropy = () => randomBytes(64).toString('hex');
const file = (name: string) => join(work, name);

try {
	step('compiling circuits/chameleon.circom (circom2 --O2)');
	const compile = spawnSync(
		'npx',
		['circom2', join(root, 'circuits/chameleon.circom'), '--r1cs', '--wasm', '--O2', '-o', work],
		{ encoding: 'utf8' }
	);
	if (compile.status !== 0) throw new Error(`circom2 failed:\n${compile.stdout}\n${compile.stderr}`);
	const r1cs = file('chameleon.r1cs');
	const { nConstraints } = await snarkjs.r1cs.info(r1cs);
	step(`${nConstraints} constraints`);
	if (nConstraints > 2 ** power)
		throw new Error(`2^${power} powers of tau are too few for ${nConstraints} constraints`);

	step(`phase 1: powers of tau 2^${power}`);
	const curve = await snarkjs.curves.getCurveFromName('bn128');
	await snarkjs.powersOfTau.newAccumulator(curve, power, file('pot_0.ptau'), logger);
	const phase1: { name: string; hash: string }[] = [];
	for (const [i, name] of institutions.entries()) {
		step(`phase 1 contribution ${i + 1}: ${name}`);
		const hash = await snarkjs.powersOfTau.contribute(
			file(`pot_${i}.ptau`),
			file(`pot_${i + 1}.ptau`),
			name,
			entropy(),
			logger
		);
		phase1.push({ name, hash: bytesToHex(hash) });
	}
	step('phase 1 beacon');
	await snarkjs.powersOfTau.beacon(
		file(`pot_${institutions.length}.ptau`),
		file('pot_beacon.ptau'),
		'beacon',
		beacon,
		BEACON_ITERATIONS_EXP,
		logger
	);
	step('phase 1: preparing phase 2');
	const ptau = file('pot_final.ptau');
	await snarkjs.powersOfTau.preparePhase2(file('pot_beacon.ptau'), ptau, logger);
	step('phase 1: verifying the transcript');
	if (!(await snarkjs.powersOfTau.verify(ptau, logger)))
		throw new Error('phase 1 transcript does not verify');

	step('phase 2: circuit-specific setup');
	await snarkjs.zKey.newZKey(r1cs, ptau, file('zkey_0.zkey'), logger);
	const phase2: { name: string; hash: string }[] = [];
	for (const [i, name] of institutions.entries()) {
		step(`phase 2 contribution ${i + 1}: ${name}`);
		const hash = await snarkjs.zKey.contribute(
			file(`zkey_${i}.zkey`),
			file(`zkey_${i + 1}.zkey`),
			name,
			entropy(),
			logger
		);
		phase2.push({ name, hash: bytesToHex(hash) });
	}
	step('phase 2 beacon');
	const zkey = file('chameleon.zkey');
	await snarkjs.zKey.beacon(
		file(`zkey_${institutions.length}.zkey`),
		zkey,
		'beacon',
		beacon,
		BEACON_ITERATIONS_EXP,
		logger
	);
	step('zkey verify: the whole transcript against the circuit and phase 1');
	if (!(await snarkjs.zKey.verifyFromR1cs(r1cs, ptau, zkey, logger)))
		throw new Error('zkey transcript does not verify');

	const vkey = (await snarkjs.zKey.exportVerificationKey(zkey)) as VerificationKey;
	const vkeyHash = bytesToHex(verificationKeyHash(vkey));
	copyFileSync(file('chameleon_js/chameleon.wasm'), join(out, 'chameleon.wasm'));
	copyFileSync(zkey, join(out, 'chameleon.zkey'));
	writeFileSync(join(out, 'chameleon.vkey.json'), JSON.stringify(vkey, null, '\t') + '\n');
	const record = {
		circuit: 'circuits/chameleon.circom',
		r1csSha256: bytesToHex(sha256(readFileSync(r1cs))),
		constraints: nConstraints,
		powerOfTau: power,
		beacon: { value: beacon, iterationsExp: BEACON_ITERATIONS_EXP },
		phase1,
		phase2,
		vkeyHash,
		date: new Date().toISOString(),
		log: transcript
	};
	writeFileSync(join(out, 'ceremony.json'), JSON.stringify(record, null, '\t') + '\n');
	writeFileSync(
		join(root, 'src/lib/core/chameleon-params.ts'),
		[
			'// Generated by `npm run ceremony` (circuits/ceremony.ts): do not edit.',
			'/** SHA-256 of the canonical chameleon verification key (src/lib/crypto/verification-key.ts). */',
			`export const CHAMELEON_VKEY_HASH = '${vkeyHash}';`,
			''
		].join('\n')
	);
	for (const name of ['chameleon.wasm', 'chameleon.zkey', 'chameleon.vkey.json', 'ceremony.json'])
		step(`static/snark/${name}: ${statSync(join(out, name)).size} bytes`);
	copyFileSync(ptau, join(root, 'circuits/chameleon_final.ptau'));
	step(`circuits/chameleon_final.ptau: ${statSync(ptau).size} bytes`);
	step(`verification key hash ${vkeyHash}`);
	await terminateCurve();
} finally {
	rmSync(work, { recursive: true, force: true });
}
process.exit(0);
