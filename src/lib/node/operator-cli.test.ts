/**
 * The operator's side of node/operator-requests.ts: `npm run consortium -- rotate | applications |
 * approve | refuse --data <dir>` writes the request files a running clinic takes and reads the list it
 * writes (key-rotation-network.test.ts shows a running node acting on them).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { APPLICATIONS_FILE, REQUESTS_DIR, ROTATE_REQUEST, type PendingView } from './operator-requests.ts';

const run = promisify(execFile);
const dirs: string[] = [];
const cli = (...args: string[]) =>
	run('node', ['--import', 'tsx', 'scripts/consortium.ts', ...args]).then(
		(r) => ({ code: 0, out: r.stdout }),
		(e: { code: number; stderr: string }) => ({ code: e.code, out: e.stderr })
	);

async function clinicDir(): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), 'spchain-operator-'));
	dirs.push(dir);
	await mkdir(join(dir, 'keys'));
	return dir;
}

afterEach(async () => {
	for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('npm run consortium -- rotate | applications | approve | refuse', () => {
	it('hands requests to the clinic as files and lists what waits', async () => {
		const dir = await clinicDir();
		expect((await cli('rotate', '--data', dir)).code).toBe(0);
		expect(await readdir(join(dir, REQUESTS_DIR))).toEqual([ROTATE_REQUEST]);

		expect((await cli('applications', '--data', dir)).out).toContain('nothing waits');
		const hash = 'ab'.repeat(32);
		const waiting: PendingView[] = [
			{ kind: 'rotate', name: 'Aster Clinic', id: 'cd'.repeat(32), hash, receivedAt: '2030-01-01T00:00:00Z' }
		];
		await writeFile(join(dir, APPLICATIONS_FILE), JSON.stringify(waiting));
		const listed = await cli('applications', '--data', dir);
		expect(listed.out).toContain(`${hash}  key rotation  Aster Clinic`);

		expect((await cli('approve', hash, '--data', dir)).code).toBe(0);
		expect((await cli('refuse', hash, '--data', dir)).code).toBe(0);
		expect(existsSync(join(dir, REQUESTS_DIR, `approve-${hash}`))).toBe(true);
		expect(existsSync(join(dir, REQUESTS_DIR, `refuse-${hash}`))).toBe(true);
	});

	it('refuses a missing or foreign directory and a malformed hash', async () => {
		const dir = await clinicDir();
		expect(await cli('rotate')).toMatchObject({ code: 1, out: expect.stringContaining('needs --data') });
		const notClinic = await mkdtemp(join(tmpdir(), 'spchain-operator-'));
		dirs.push(notClinic);
		expect(await cli('rotate', '--data', notClinic)).toMatchObject({
			code: 1,
			out: expect.stringContaining('not a clinic')
		});
		expect(await cli('approve', 'xyz', '--data', dir)).toMatchObject({
			code: 1,
			out: expect.stringContaining('usage')
		});
		expect(existsSync(join(dir, REQUESTS_DIR))).toBe(false);
	});
});
