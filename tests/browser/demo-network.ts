/**
 * The live demo network for browser tests, as `npm start` runs it: the relay (with its peer directory)
 * and headless clinic nodes (Aster, Birch, Cedar: three of the four consensus-group members of the
 * deterministic test consortium, seeded into their keystores), each a child process on free loopback
 * ports with its own data directory; they admit any well-formed application to join. Pages join with
 * `query` (`?relay=<addr>&genesis=<data URL>`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { genesisQuery, seedDevConsortium } from './dev-consortium.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface DemoNetwork {
	relay: string[];
	/** `relay=…&genesis=…` for a page's query string. */
	query: string;
	clinics: { name: string; addresses: string[] }[];
	/** Output of the clinic nodes so far (for failure messages). */
	log(): string;
	stopRelay(): void;
	stop(): Promise<void>;
}

export async function startDemoNetwork(options: { clinics?: string[] } = {}): Promise<DemoNetwork> {
	const dir = mkdtempSync(join(tmpdir(), 'spchain-demo-'));
	const networkFile = join(dir, 'network.json');
	let output = '';
	const run = (script: string, env: Record<string, string>): ChildProcess => {
		const child = spawn(process.execPath, ['--experimental-websocket', '--import', 'tsx', script], {
			cwd: root,
			env: { ...process.env, ...env, RELAY_ADDRESS_FILE: networkFile, DATA_DIR: dir }
		});
		child.stdout?.on('data', (chunk) => (output = (output + chunk).slice(-20_000)));
		child.stderr?.on('data', (chunk) => (output = (output + chunk).slice(-20_000)));
		return child;
	};
	const clinicNames = options.clinics ?? ['Aster Clinic', 'Birch Hospital', 'Cedar Health'];
	await seedDevConsortium(dir, clinicNames);
	const relay = run('relay/main.ts', { RELAY_PORT: '0', RELAY_KEY_FILE: join(dir, 'relay.key') });
	const clinics = run('src/lib/node/clinic-main.ts', {
		CLINIC_PORT_BASE: '0',
		CLINICS: clinicNames.join(','),
		// What `npm start` runs (clinic-main's default), whatever the caller's environment says.
		ADMISSION: 'open'
	});
	const deadline = Date.now() + 90_000;
	let network: { relay: string[]; clinics?: { name: string; addresses: string[] }[] } | undefined;
	while (Date.now() < deadline) {
		try {
			network = JSON.parse(readFileSync(networkFile, 'utf8'));
			if (network?.clinics) break;
		} catch {
			// not written yet
		}
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
	if (!network?.clinics) throw new Error(`the demo network did not start:\n${output}`);
	const stopChild = (child: ChildProcess) =>
		new Promise<void>((resolve) => {
			if (child.exitCode !== null) return resolve();
			child.once('exit', () => resolve());
			child.kill('SIGTERM');
			setTimeout(() => child.kill('SIGKILL'), 5000);
		});
	return {
		relay: network.relay,
		query: `relay=${encodeURIComponent(network.relay[0]!)}&${genesisQuery()}`,
		clinics: network.clinics,
		log: () => output,
		stopRelay: () => void relay.kill('SIGTERM'),
		stop: async () => {
			await Promise.all([stopChild(clinics), stopChild(relay)]);
			rmSync(dir, { recursive: true, force: true });
		}
	};
}
