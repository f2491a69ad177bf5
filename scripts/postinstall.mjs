// Runs after `npm install`: produces every generated artifact the app needs from sources in the repo.
// Each step is a build script of its own under scripts/build-*.mjs; they run in name order.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const steps = readdirSync(new URL('.', import.meta.url))
	.filter((name) => /^build-.*\.mjs$/.test(name))
	.sort();
for (const step of steps) {
	console.log(`postinstall: ${step}`);
	const run = spawnSync(process.execPath, [new URL(step, import.meta.url).pathname], { stdio: 'inherit' });
	if (run.status !== 0) process.exit(run.status ?? 1);
}
const sync = spawnSync('npx', ['svelte-kit', 'sync'], { stdio: 'inherit' });
process.exit(sync.status ?? 1);
