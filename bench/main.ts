/**
 * `npm run bench [-- name…]`: runs every bench/<name>.bench.ts (or the named ones) in turn and prints
 * their figures and ratios. Benchmarks print; they never assert timings.
 */
import '../src/lib/node/polyfills.ts';
import { readdirSync } from 'node:fs';

const only = process.argv.slice(2);
const files = readdirSync(new URL('.', import.meta.url))
	.filter((name) => name.endsWith('.bench.ts'))
	.filter((name) => only.length === 0 || only.includes(name.replace('.bench.ts', '')))
	.sort();
for (const file of files) {
	console.log(`\n=== ${file.replace('.bench.ts', '')} ===`);
	const module = (await import(new URL(file, import.meta.url).href)) as { default: () => Promise<void> };
	await module.default();
}
process.exit(0);
