import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeGenesisFile } from '../core/genesis-file.ts';
import { genesisHash } from '../core/genesis.ts';
import { ConsortiumMismatchError, loadOrFoundConsortium } from './local-consortium.ts';

const dirs: string[] = [];
afterEach(async () => {
	for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
const tempDir = async () => {
	const dir = await mkdtemp(join(tmpdir(), 'spchain-consortium-'));
	dirs.push(dir);
	return dir;
};
const names = ['Aster Clinic', 'Birch Hospital', 'Cedar Health', 'Dogwood Medical'];

describe('local consortium', () => {
	it('founds a fresh consortium per data directory and keeps it across restarts', async () => {
		const [a, b] = [await tempDir(), await tempDir()];
		const first = await loadOrFoundConsortium({ dataDir: a, names });
		expect(first.founded).toBe(true);
		expect(first.genesis.institutions.map((i) => i.name)).toEqual(names);
		expect(first.genesis.consensusGroupSize).toBe(4);
		const file = decodeGenesisFile(await readFile(first.genesisFile, 'utf8'));
		expect(genesisHash(file.genesis)).toEqual(genesisHash(first.genesis));
		expect(file.founding?.steps).toHaveLength(4);

		const restart = await loadOrFoundConsortium({ dataDir: a, names });
		expect(restart.founded).toBe(false);
		expect(genesisHash(restart.genesis)).toEqual(genesisHash(first.genesis));
		expect(restart.clinics.map((c) => c.identity.institution)).toEqual(
			first.clinics.map((c) => c.identity.institution)
		);

		const other = await loadOrFoundConsortium({ dataDir: b, names });
		expect(genesisHash(other.genesis)).not.toEqual(genesisHash(first.genesis));
		other.genesis.institutions.forEach((institution, i) =>
			expect(institution.id).not.toEqual(first.genesis.institutions[i]!.id)
		);
	});

	it('refuses a clinic its genesis does not name, and a tampered genesis file', async () => {
		const dir = await tempDir();
		const founded = await loadOrFoundConsortium({ dataDir: dir, names: names.slice(0, 2) });
		await expect(loadOrFoundConsortium({ dataDir: dir, names: names.slice(0, 3) })).rejects.toBeInstanceOf(
			ConsortiumMismatchError
		);
		const json = JSON.parse(await readFile(founded.genesisFile, 'utf8'));
		json.hash = '00'.repeat(32);
		await writeFile(founded.genesisFile, JSON.stringify(json));
		await expect(loadOrFoundConsortium({ dataDir: dir, names: names.slice(0, 2) })).rejects.toThrow(
			/altered/
		);
	});
});
