import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { joinFoundingDir, startFoundingDir } from './founding-dir.ts';
import { contributeFoundingDir, revealFoundingDir } from './founding-setup.ts';

const dirs: string[] = [];
afterEach(async () => {
	for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
const tempDir = async () => {
	const dir = await mkdtemp(join(tmpdir(), 'spchain-setup-'));
	dirs.push(dir);
	return dir;
};

describe('founders running the SNARK setup', () => {
	it('contribute and reveal phase 1 with their own keystores, checked against the signed founding', async () => {
		const dir = await tempDir();
		const [aster, birch, stranger] = [
			{ dir: await tempDir() },
			{ dir: await tempDir() },
			{ dir: await tempDir() }
		];
		await startFoundingDir(dir, { network: 'spchain-setup-test', consensusGroupSize: 2 });
		await joinFoundingDir(dir, 'Aster Clinic', aster);
		await joinFoundingDir(dir, 'Birch Hospital', birch);

		// Refused before snarkjs runs: a keystore that never joined, a reveal with nothing to reveal.
		await expect(contributeFoundingDir(dir, stranger)).rejects.toThrow(/holds no institution/);
		await expect(revealFoundingDir(dir, aster)).rejects.toThrow(/no beacon share to reveal/);

		expect(await contributeFoundingDir(dir, aster)).toMatchObject({ phase: 1 });
		await expect(contributeFoundingDir(dir, aster)).rejects.toThrow(/already contributed to phase 1/);
		const birchHash = (await contributeFoundingDir(dir, birch)).contribution;

		// A contribution hash in the SNARK transcript that the founder did not sign is refused by the next step.
		const ceremonyFile = join(dir, 'ceremony.json');
		const honest = await readFile(ceremonyFile, 'utf8');
		await writeFile(
			ceremonyFile,
			honest.replace(
				birchHash,
				birchHash.replace(/^./, (c) => (c === '0' ? '1' : '0'))
			)
		);
		await expect(revealFoundingDir(dir, aster)).rejects.toThrow(/not the founders' signed contributions/);
		await writeFile(ceremonyFile, honest);

		expect(await revealFoundingDir(dir, aster)).toEqual({ phase: 1 });
		// The first reveal closed phase 1: no contribution until its beacon is fixed; a share reveals once.
		await expect(contributeFoundingDir(dir, aster)).rejects.toThrow(/revealing their beacon shares/);
		await expect(revealFoundingDir(dir, aster)).rejects.toThrow(/no beacon share to reveal/);
		// The last reveal would fix the beacon and prepare phase 2 (tens of minutes on a loaded 2-core
		// machine); that path, phase 2 and found-finish made the committed artifacts, which the full
		// verification in genesis-verify.test.ts re-checks.
	}, 900_000);
});
