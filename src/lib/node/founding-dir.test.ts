import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeGenesisFile } from '../core/genesis-file.ts';
import {
	FOUNDING_FILE,
	FoundingDirError,
	finishFoundingDir,
	joinFoundingDir,
	startFoundingDir
} from './founding-dir.ts';
import { verifyGenesisFile } from './genesis-verify.ts';

const dirs: string[] = [];
afterEach(async () => {
	for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
const tempDir = async () => {
	const dir = await mkdtemp(join(tmpdir(), 'spchain-founding-'));
	dirs.push(dir);
	return dir;
};

describe('founding directory', () => {
	it('passes from founder to founder, each with its own keystore, to a verifiable genesis', async () => {
		const dir = await tempDir();
		await startFoundingDir(dir, { network: 'spchain-test', consensusGroupSize: 2 });
		await expect(startFoundingDir(dir, { network: 'again' })).rejects.toBeInstanceOf(FoundingDirError);
		const names = ['Aster Clinic', 'Birch Hospital'];
		const ids = [];
		for (const name of names)
			ids.push((await joinFoundingDir(dir, name, { dir: await tempDir() })).institution.id);
		const out = join(dir, 'genesis.json');
		const genesis = await finishFoundingDir(dir, out);
		expect(genesis.institutions.map((i) => i.id)).toEqual(ids);
		const text = await readFile(out, 'utf8');
		expect(decodeGenesisFile(text).founding?.steps).toHaveLength(2);
		expect(verifyGenesisFile(text, 'static/snark').founders).toEqual(names);
	});

	it('refuses a tampered transcript at the next founder, and finishing with nobody joined', async () => {
		const dir = await tempDir();
		await startFoundingDir(dir, { network: 'spchain-test', consensusGroupSize: 1 });
		await expect(finishFoundingDir(dir, join(dir, 'genesis.json'))).rejects.toBeInstanceOf(FoundingDirError);
		await joinFoundingDir(dir, 'Aster Clinic', { dir: await tempDir() });
		const bytes = new Uint8Array(await readFile(join(dir, FOUNDING_FILE)));
		bytes[bytes.length - 3]! ^= 0x01; // inside the last step's signature
		await writeFile(join(dir, FOUNDING_FILE), bytes);
		await expect(joinFoundingDir(dir, 'Birch Hospital', { dir: await tempDir() })).rejects.toThrow(
			/not valid/
		);
	});
});
