// `npm start`: the live demo network on this machine: the relay, the static PWA, and headless clinic
// nodes (when present) so a lone visitor sees a working chain. Ctrl-C stops everything.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';

const children = [];
const start = (name, cmd, args, env = {}) => {
	const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
	const prefix = (line) => `[${name}] ${line}`;
	for (const stream of [child.stdout, child.stderr]) {
		let buffered = '';
		stream.on('data', (chunk) => {
			buffered += chunk;
			const lines = buffered.split('\n');
			buffered = lines.pop();
			for (const line of lines) console.log(prefix(line));
		});
	}
	child.on('exit', (code) => {
		console.log(prefix(`exited with ${code}`));
		if (!stopping) stop(code ?? 1);
	});
	children.push(child);
};

let stopping = false;
function stop(code = 0) {
	stopping = true;
	for (const child of children) child.kill('SIGTERM');
	setTimeout(() => process.exit(code), 500);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

if (!existsSync('build/index.html') || process.env.SPCHAIN_REBUILD) {
	console.log('Building the PWA…');
	const build = spawnSync('npx', ['vite', 'build'], { stdio: 'inherit' });
	if (build.status !== 0) process.exit(build.status ?? 1);
}

// The relay rewrites it on start; the clinic nodes wait for it, so a stale one must not mislead them.
rmSync('.data/network.json', { force: true });
const node = [process.execPath, '--experimental-websocket', '--import', 'tsx'];
start('relay', node[0], [...node.slice(1), 'relay/main.ts']);
start('pwa', process.execPath, ['scripts/serve.mjs', '--port', process.env.PORT ?? '5173']);
if (existsSync('src/lib/node/clinic-main.ts')) {
	start('clinics', node[0], [...node.slice(1), 'src/lib/node/clinic-main.ts']);
}
