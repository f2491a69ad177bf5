// `npm test`: unit and integration tests (Vitest), then the built PWA in real Chromium (Playwright).
import { spawnSync } from 'node:child_process';
import { requireChromium } from './chromium.mjs';

requireChromium();
const run = (cmd, args) => {
	console.log(`\n$ ${cmd} ${args.join(' ')}`);
	const result = spawnSync(cmd, args, { stdio: 'inherit' });
	if (result.status !== 0) process.exit(result.status ?? 1);
};
run('npx', ['vitest', 'run']);
run('npx', ['vite', 'build']);
run('npx', ['playwright', 'test']);
