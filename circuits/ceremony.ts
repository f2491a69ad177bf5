/**
 * The chameleon circuit's Groth16 trusted setup, as a multi-party ceremony a consortium runs: a ceremony
 * directory (`ceremony.json` plus the current file) passes from institution to institution, and each runs
 * one step on its own machine.
 *
 *   npm run ceremony -- init <dir> [--power 12]
 *       compile circuits/chameleon.circom (circom2 --O2) and start phase 1 with a fresh 2^power
 *       powers-of-tau accumulator (2^12 ≥ the 3,563 constraints plus public inputs);
 *   npm run ceremony -- contribute <dir> --name "Birch Hospital" [--phase 1|2]
 *       one institution's contribution with fresh OS entropy that is never written anywhere: to phase 1
 *       while it is open, then to phase 2. The previous file is verified first (its contribution chain
 *       must be the transcript's); a name contributes once per phase;
 *   npm run ceremony -- close-phase1 <dir> --beacon <64 hex>
 *       phase-1 beacon, prepare phase 2, verify the phase-1 transcript, `zkey new` for the circuit;
 *   npm run ceremony -- finish <dir> --beacon <64 hex> [--out static/snark]
 *       phase-2 beacon, `zkey verify` of the whole transcript against a fresh r1cs and the ptau, then
 *       export chameleon.{wasm,zkey,vkey.json} and ceremony.json to --out. For the default --out the
 *       verification key's hash goes to src/lib/core/chameleon-params.ts (genesis pins it) and the phase-1
 *       result to circuits/chameleon_final.ptau; for any other --out both go into --out too;
 *   npm run ceremony -- verify <dir | static/snark> [--ptau <file>]
 *       anyone's re-check of a ceremony in any state or of the published artifacts, from a fresh compile;
 *       prints the verification key's hash;
 *   npm run ceremony [-- "Aster Clinic" "Birch Hospital" …] [--beacon <64 hex>] [--power 12] [--out …]
 *       the one-shot convenience: all of the above in one process, in a temporary ceremony directory,
 *       each institution contributing to both phases (the default three when none is named; the
 *       beacons are random unless --beacon is given, which then serves both phases).
 * --verbose prints snarkjs's log. The setup is sound if at least one contributor per phase destroyed
 * its entropy; the beacons, taken from public randomness fixed after the last contribution of each
 * phase, keep the last contributor from steering the result. The artifacts are committed, so
 * `npm install` and `npm test` never run this.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { terminateCurve } from '../src/lib/crypto/snark.node.ts';
import { setVerbose, step } from './ceremony/snark.ts';
import { DEFAULT_OUT, closePhase1, contribute, finish, init, verify } from './ceremony/steps.ts';
import { CeremonyError } from './ceremony/transcript.ts';

const DEFAULT_INSTITUTIONS = ['Aster Clinic', 'Birch Hospital', 'Cedar Health'];
const COMMANDS = ['init', 'contribute', 'close-phase1', 'finish', 'verify'] as const;
type Command = (typeof COMMANDS)[number];

const { values, positionals } = parseArgs({
	allowPositionals: true,
	options: {
		power: { type: 'string', default: '12' },
		name: { type: 'string' },
		phase: { type: 'string' },
		beacon: { type: 'string' },
		out: { type: 'string' },
		ptau: { type: 'string' },
		verbose: { type: 'boolean', default: false }
	}
});
setVerbose(values.verbose);

/** Paths are the caller's: npm runs scripts from the package root and keeps the caller's directory in INIT_CWD. */
const callerPath = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path);
const out = values.out === undefined ? DEFAULT_OUT : callerPath(values.out);

function directory(command: Command): string {
	const dir = positionals[1];
	if (dir === undefined || positionals.length > 2)
		throw new CeremonyError(`usage: npm run ceremony -- ${command} <dir> … (see circuits/ceremony.ts)`);
	return callerPath(dir);
}

function phaseFlag(): 1 | 2 | undefined {
	if (values.phase === undefined) return undefined;
	if (values.phase !== '1' && values.phase !== '2') throw new CeremonyError('--phase is 1 or 2');
	return Number(values.phase) as 1 | 2;
}

async function oneShot(institutions: string[]): Promise<void> {
	const dir = mkdtempSync(join(tmpdir(), 'spchain-ceremony-'));
	const beacon = () => values.beacon ?? randomBytes(32).toString('hex');
	try {
		await init(dir, Number(values.power));
		for (const name of institutions) await contribute(dir, name, 1);
		await closePhase1(dir, beacon());
		for (const name of institutions) await contribute(dir, name, 2);
		await finish(dir, beacon(), out);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

async function main(): Promise<void> {
	const command = COMMANDS.find((c) => c === positionals[0]);
	const started = performance.now();
	switch (command) {
		case 'init':
			await init(directory(command), Number(values.power));
			break;
		case 'contribute':
			await contribute(directory(command), values.name, phaseFlag());
			break;
		case 'close-phase1':
			await closePhase1(directory(command), values.beacon);
			break;
		case 'finish':
			await finish(directory(command), values.beacon, out);
			break;
		case 'verify':
			await verify(directory(command), values.ptau === undefined ? undefined : callerPath(values.ptau));
			break;
		default:
			await oneShot(positionals.length > 0 ? positionals : DEFAULT_INSTITUTIONS);
	}
	step(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

let code = 0;
try {
	await main();
} catch (error) {
	if (!(error instanceof CeremonyError)) throw error;
	console.error(`ceremony: refused: ${error.message}`);
	code = 1;
} finally {
	await terminateCurve();
}
process.exit(code);
