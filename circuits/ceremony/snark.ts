/**
 * The snarkjs and circom2 calls of the ceremony, and how their verification output is checked against the
 * transcript. snarkjs's verifiers return only true or false; the contribution chain they walk (name and
 * hash of every contribution, beacon parameters) is read back from their log, which is fixed for the
 * pinned snarkjs 0.7.6, and compared entry by entry with `ceremony.json`.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as snarkjs from 'snarkjs';
import {
	BEACON_NAME,
	CIRCUIT,
	CeremonyError,
	sha256File,
	type Beacon,
	type Ceremony,
	type Contribution
} from './transcript.ts';

export const root = new URL('../..', import.meta.url).pathname;

let verbose = false;
export function setVerbose(on: boolean): void {
	verbose = on;
}

export function step(message: string): void {
	console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

/** A snarkjs logger that keeps the info lines (parsed below) and the errors (quoted on failure). */
export function capture(): { logger: snarkjs.Logger; lines: string[]; errors: string[] } {
	const lines: string[] = [];
	const errors: string[] = [];
	const logger: snarkjs.Logger = {
		debug: () => {},
		info: (m) => {
			lines.push(m);
			if (verbose) console.log(`  ${m}`);
		},
		warn: (m) => {
			lines.push(`WARN ${m}`);
			if (verbose) console.log(`  WARN ${m}`);
		},
		error: (m) => {
			lines.push(`ERROR ${m}`);
			errors.push(m);
		}
	};
	return { logger, lines, errors };
}

export interface Compiled {
	dir: string;
	r1cs: string;
	wasm: string;
	r1csSha256: string;
	constraints: number;
	/** Size of the Groth16 evaluation domain the circuit needs (log2). */
	minPower: number;
	dispose(): void;
}

/** circom2 --O2 into a fresh temporary directory: every party compiles the circuit from its own checkout. */
export async function compileCircuit(): Promise<Compiled> {
	const dir = mkdtempSync(join(tmpdir(), 'spchain-circuit-'));
	const result = spawnSync('npx', ['circom2', join(root, CIRCUIT), '--r1cs', '--wasm', '--O2', '-o', dir], {
		encoding: 'utf8',
		cwd: root
	});
	if (result.status !== 0) {
		rmSync(dir, { recursive: true, force: true });
		throw new Error(`circom2 failed:\n${result.stdout}\n${result.stderr}`);
	}
	const r1cs = join(dir, 'chameleon.r1cs');
	const info = (await snarkjs.r1cs.info(r1cs)) as unknown as {
		nConstraints: number;
		nPubInputs: number;
		nOutputs: number;
	};
	const domain = info.nConstraints + info.nPubInputs + info.nOutputs + 1;
	return {
		dir,
		r1cs,
		wasm: join(dir, 'chameleon_js/chameleon.wasm'),
		r1csSha256: sha256File(r1cs),
		constraints: info.nConstraints,
		minPower: Math.ceil(Math.log2(domain)),
		dispose: () => rmSync(dir, { recursive: true, force: true })
	};
}

/** The fresh compile must be the circuit the ceremony was started for. */
export function checkCircuit(ceremony: Ceremony, compiled: Compiled): void {
	if (compiled.r1csSha256 !== ceremony.r1csSha256)
		throw new CeremonyError(
			`${CIRCUIT} compiles to r1cs ${compiled.r1csSha256.slice(0, 16)}… but the ceremony is for ${ceremony.r1csSha256.slice(0, 16)}…: this checkout's circuit differs`
		);
}

export function checkFileHash(path: string, expected: string, what: string): void {
	const actual = sha256File(path);
	if (actual !== expected)
		throw new CeremonyError(
			`${what} ${path} has SHA-256 ${actual.slice(0, 16)}… but the transcript recorded ${expected.slice(0, 16)}…`
		);
}

export function entropy(): string {
	// Fresh OS randomness, held only in this process's memory and hashed by snarkjs into the toxic waste.
	return randomBytes(64).toString('hex');
}

/** One link of a file's contribution chain, as the snarkjs verifier reports it. */
interface ChainEntry {
	name: string;
	hash: string;
	beacon?: string;
	iterationsExp?: number;
}

const hexOfFormattedHash = (text: string) => text.replace(/[\s]/g, '');

/** powersOfTau.verify logs, last contribution first: "Contribution #i: name", then two "Response Hash:" (the
 * contribution's own response hash first), then for a beacon "Beacon generator: <hex>". */
function ptauChain(lines: string[]): ChainEntry[] {
	const entries = new Map<number, ChainEntry>();
	let current: ChainEntry | undefined;
	for (const line of lines) {
		const head = /^Contribution #(\d+): ?(.*)$/s.exec(line);
		if (head) {
			current = { name: head[2]!, hash: '' };
			entries.set(Number(head[1]), current);
			continue;
		}
		if (!current) continue;
		if (line.startsWith('Response Hash:') && current.hash === '')
			current.hash = hexOfFormattedHash(line.slice('Response Hash:'.length));
		else if (line.startsWith('Beacon generator: ')) current.beacon = line.slice('Beacon generator: '.length);
		else if (line.startsWith('Beacon iterations Exp: '))
			current.iterationsExp = Number(line.slice('Beacon iterations Exp: '.length));
	}
	return [...entries.entries()].sort(([a], [b]) => a - b).map(([, entry]) => entry);
}

/** zKey.verifyFromInit logs, last first: "contribution #i name:\n<hash>", then for a beacon its parameters. */
function zkeyChain(lines: string[]): ChainEntry[] {
	const entries = new Map<number, ChainEntry>();
	let current: ChainEntry | undefined;
	for (const line of lines) {
		const head = /^contribution #(\d+) ?([^\n]*):\n([\t 0-9a-f\n]+)$/.exec(line);
		if (head) {
			current = { name: head[2]!, hash: hexOfFormattedHash(head[3]!) };
			entries.set(Number(head[1]), current);
		} else if (current && line.startsWith('Beacon generator: '))
			current.beacon = line.slice('Beacon generator: '.length);
		else if (current && line.startsWith('Beacon iterations Exp: '))
			current.iterationsExp = Number(line.slice('Beacon iterations Exp: '.length));
	}
	return [...entries.entries()].sort(([a], [b]) => a - b).map(([, entry]) => entry);
}

const short = (hash: string | undefined) => (hash ? `${hash.slice(0, 16)}…` : '(no hash)');

/** The chain stored in the file must be exactly the transcript's contributions, then its beacon if any. */
function checkChain(what: string, chain: ChainEntry[], contributions: Contribution[], beacon?: Beacon): void {
	const expected: (ChainEntry & { isBeacon: boolean })[] = contributions.map((c) => ({
		name: c.name,
		hash: c.hash,
		isBeacon: false
	}));
	if (beacon)
		expected.push({
			name: BEACON_NAME,
			hash: beacon.hash ?? '',
			beacon: beacon.value,
			iterationsExp: beacon.iterationsExp,
			isBeacon: true
		});
	for (let i = 0; i < Math.max(chain.length, expected.length); i++) {
		const got = chain[i];
		const want = expected[i];
		const where = `${what}, contribution #${i + 1}`;
		if (!got)
			throw new CeremonyError(`${where}: the transcript records "${want!.name}" but the file ends before it`);
		if (!want)
			throw new CeremonyError(
				`${where}: the file holds "${got.name}" ${short(got.hash)}, which the transcript lacks`
			);
		if (got.name !== want.name || (want.hash !== '' && got.hash !== want.hash))
			throw new CeremonyError(
				`${where}: the file holds "${got.name}" ${short(got.hash)} but the transcript records "${want.name}" ${short(want.hash)}`
			);
		if (want.isBeacon !== (got.beacon !== undefined))
			throw new CeremonyError(
				`${where}: "${got.name}" is ${want.isBeacon ? 'not ' : ''}a beacon in the file`
			);
		if (want.isBeacon && (got.beacon !== want.beacon || got.iterationsExp !== want.iterationsExp))
			throw new CeremonyError(
				`${where}: the file's beacon is ${got.beacon} (2^${got.iterationsExp}), the transcript's ${want.beacon} (2^${want.iterationsExp})`
			);
	}
}

async function verified(what: string, run: (logger: snarkjs.Logger) => Promise<boolean>): Promise<string[]> {
	const { logger, lines, errors } = capture();
	let ok: boolean;
	try {
		ok = await run(logger);
	} catch (error) {
		throw new CeremonyError(`${what} does not verify: ${(error as Error).message}`);
	}
	if (!ok) throw new CeremonyError(`${what} does not verify${errors.length ? `: ${errors.join('; ')}` : ''}`);
	return lines;
}

/**
 * A phase-1 file: every contribution follows the previous one and the powers are consistent
 * (`snarkjs powersoftau verify`, with the phase-2 Lagrange values when prepared), and its chain is the
 * transcript's. A file with no contribution yet cannot be verified that way: it must be the fresh
 * accumulator itself, which is deterministic, so it is rebuilt and compared byte for byte.
 */
export async function verifyPtau(
	path: string,
	ceremony: Ceremony,
	contributions: Contribution[],
	beacon?: Beacon
): Promise<string[]> {
	if (contributions.length === 0 && !beacon) {
		const scratch = mkdtempSync(join(tmpdir(), 'spchain-ptau-'));
		try {
			const fresh = join(scratch, 'fresh.ptau');
			const curve = await snarkjs.curves.getCurveFromName('bn128');
			await snarkjs.powersOfTau.newAccumulator(curve, ceremony.powerOfTau, fresh);
			if (!readFileSync(fresh).equals(readFileSync(path)))
				throw new CeremonyError(
					`${path} does not verify: with no contribution yet it must be the fresh 2^${ceremony.powerOfTau} accumulator, and it is not`
				);
		} finally {
			rmSync(scratch, { recursive: true, force: true });
		}
		return [];
	}
	const lines = await verified(path, (logger) => snarkjs.powersOfTau.verify(path, logger));
	checkChain(path, ptauChain(lines), contributions, beacon);
	return lines;
}

/** A phase-2 file against the circuit and phase 1 (`snarkjs zkey verify`), and its chain against the transcript. */
export async function verifyZkey(
	r1cs: string,
	ptau: string,
	path: string,
	contributions: Contribution[],
	beacon?: Beacon
): Promise<string[]> {
	const lines = await verified(path, (logger) => snarkjs.zKey.verifyFromR1cs(r1cs, ptau, path, logger));
	checkChain(path, zkeyChain(lines), contributions, beacon);
	return lines;
}
