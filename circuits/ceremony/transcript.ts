/**
 * The ceremony's state and public transcript: `<dir>/ceremony.json`, passed from institution to
 * institution with the current phase-1 or phase-2 file and published unchanged as
 * `static/snark/ceremony.json`. It records who contributed (name and the contribution hash snarkjs
 * stores in the file), the beacons, and the SHA-256 of the current file; every step checks the file's own
 * contribution chain against it, so neither can be edited without the other failing verification.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const STATE_FILE = 'ceremony.json';
export const CIRCUIT = 'circuits/chameleon.circom';
/** The beacon is hashed 2^10 times (snarkjs's minimum): it only has to be unpredictable, not slow. */
export const BEACON_ITERATIONS_EXP = 10;
/** snarkjs names beacon contributions with this; no institution may take it. */
export const BEACON_NAME = 'beacon';
export const FINAL_PTAU = 'chameleon_final.ptau';
export const FINAL_ZKEY = 'chameleon.zkey';

/** A refusal the operator can act on (printed without a stack trace). */
export class CeremonyError extends Error {}

export interface Contribution {
	name: string;
	/** BLAKE2b-512 contribution hash (hex), as snarkjs prints it and stores in the file. */
	hash: string;
	date?: string;
}

export interface Beacon {
	/** 32 bytes of public randomness fixed after the phase's last contribution (hex). */
	value: string;
	iterationsExp: number;
	hash?: string;
	date?: string;
}

export interface FileRef {
	name: string;
	sha256: string;
}

export type Status = 'phase1' | 'phase2' | 'finished';

export interface Ceremony {
	circuit: string;
	r1csSha256: string;
	constraints: number;
	powerOfTau: number;
	status: Status;
	phase1: Contribution[];
	phase1Beacon?: Beacon;
	phase2: Contribution[];
	phase2Beacon?: Beacon;
	/** The current phase-1 accumulator; once phase 1's beacon is applied, the prepared chameleon_final.ptau. */
	ptau: FileRef;
	/** The current phase-2 key (from `zkey new` once phase 1 closed); after finish chameleon.zkey. */
	zkey?: FileRef;
	vkeyHash?: string;
	/** The exported verification key file (SHA-256 of its bytes). */
	vkey?: FileRef;
	/** The founding transcript's hash (the genesis microblock) of the founders who ran this setup. */
	transcriptHash?: string;
	created?: string;
	finished?: string;
	/** snarkjs's output while finish verified the whole transcript. */
	log?: string[];
}

/** The order fields are written in, so the transcript reads top to bottom in ceremony order. */
const FIELD_ORDER: (keyof Ceremony)[] = [
	'circuit',
	'r1csSha256',
	'constraints',
	'powerOfTau',
	'status',
	'created',
	'phase1',
	'phase1Beacon',
	'ptau',
	'phase2',
	'phase2Beacon',
	'zkey',
	'vkeyHash',
	'vkey',
	'transcriptHash',
	'finished',
	'log'
];

export function readCeremony(dir: string): Ceremony {
	const path = join(dir, STATE_FILE);
	if (!existsSync(path)) throw new CeremonyError(`${dir} holds no ceremony (${STATE_FILE} is missing)`);
	const raw = JSON.parse(readFileSync(path, 'utf8')) as Partial<Ceremony>;
	if (
		typeof raw.r1csSha256 !== 'string' ||
		typeof raw.status !== 'string' ||
		!Array.isArray(raw.phase1) ||
		!Array.isArray(raw.phase2)
	)
		throw new CeremonyError(`${path} is not a ceremony transcript`);
	return raw as Ceremony;
}

/** Written to a temporary name and renamed, so an interrupted step leaves the previous state whole. */
export function writeCeremony(dir: string, ceremony: Ceremony): void {
	const path = join(dir, STATE_FILE);
	const ordered = Object.fromEntries(
		FIELD_ORDER.filter((key) => ceremony[key] !== undefined).map((key) => [key, ceremony[key]])
	);
	writeFileSync(`${path}.tmp`, JSON.stringify(ordered, null, '\t') + '\n');
	renameSync(`${path}.tmp`, path);
}

export function sha256File(path: string): string {
	return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export function checkBeaconValue(value: string | undefined, step: string): string {
	if (value === undefined)
		throw new CeremonyError(
			`${step} needs a beacon: 32 bytes of public randomness fixed after the phase's last contribution`
		);
	if (!/^[0-9a-f]{64}$/.test(value)) throw new CeremonyError('a beacon is 32 bytes of lowercase hex');
	return value;
}

/** An institution's name as recorded (NFC, trimmed); refuses a second contribution to the same phase. */
export function checkName(ceremony: Ceremony, phase: 1 | 2, raw: string | undefined): string {
	const name = (raw ?? '').normalize('NFC').trim();
	if (name === '') throw new CeremonyError("a contribution needs the institution's name");
	if (name.length > 64 || /\p{Cc}/u.test(name))
		throw new CeremonyError('an institution name is at most 64 characters, without control characters');
	if (name.toLowerCase() === BEACON_NAME)
		throw new CeremonyError(`"${BEACON_NAME}" is reserved for the random beacon`);
	const list = phase === 1 ? ceremony.phase1 : ceremony.phase2;
	const index = list.findIndex((c) => c.name.toLowerCase() === name.toLowerCase());
	if (index >= 0)
		throw new CeremonyError(
			`"${list[index]!.name}" already contributed to phase ${phase} (contribution #${index + 1}); each institution contributes once per phase`
		);
	return name;
}

export function phase1File(count: number): string {
	return `phase1_${String(count).padStart(4, '0')}.ptau`;
}

export function phase2File(count: number): string {
	return `phase2_${String(count).padStart(4, '0')}.zkey`;
}
