/**
 * Initial JavaScript of each app page, gzipped, against the budget of 250 KB for the patient
 * app: the modules a prerendered page preloads or imports at start (its `<link rel=modulepreload>` and
 * entry imports), closed over their static imports by the Vite manifest. What the pages load when a
 * session opens (libp2p, snarkjs, the node) is dynamic and listed separately, with the SNARK artifacts.
 * Reads the last `vite build`; builds first when there is none.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const BUILD = join(root, 'build');
const MANIFEST = join(root, '.svelte-kit/output/client/.vite/manifest.json');
const BUDGET_KB = 250;

interface ManifestChunk {
	file: string;
	imports?: string[];
	dynamicImports?: string[];
}

const gzipKb = (file: string) => gzipSync(readFileSync(join(BUILD, file)), { level: 9 }).length / 1024;

/** The JS files a page loads at start: its preloads and entry imports, plus their static imports. */
function initialFiles(html: string, manifest: Record<string, ManifestChunk>): Set<string> {
	const byFile = new Map(Object.values(manifest).map((chunk) => [chunk.file, chunk]));
	const start = [
		...html.matchAll(/href="\.\/([^"]+\.js)" rel="modulepreload"/g),
		...html.matchAll(/import\("\.\/([^"]+\.js)"\)/g)
	].map((m) => m[1]!);
	const seen = new Set<string>();
	const visit = (file: string) => {
		if (seen.has(file)) return;
		seen.add(file);
		for (const key of byFile.get(file)?.imports ?? []) {
			const chunk = manifest[key];
			if (chunk) visit(chunk.file);
		}
	};
	start.forEach(visit);
	return seen;
}

function sizeOfDir(dir: string): number {
	if (!existsSync(dir)) return 0;
	return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

export default async function bundle(): Promise<void> {
	if (!existsSync(MANIFEST) || !existsSync(join(BUILD, 'patient.html'))) {
		console.log('no build found: running vite build');
		execFileSync('npx', ['vite', 'build'], { cwd: root, stdio: 'ignore' });
	}
	const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Record<string, ManifestChunk>;
	console.log('page        initial JS (gzip)   files   budget');
	for (const page of ['patient', 'clinic', 'explorer']) {
		const files = initialFiles(readFileSync(join(BUILD, `${page}.html`), 'utf8'), manifest);
		// No files would print 0 KB, within the budget: the page's markup or the manifest changed shape.
		if (files.size === 0)
			throw new Error(`${page}.html: no initial JS found (no modulepreload links or entry imports matched)`);
		const kb = [...files].reduce((sum, file) => sum + gzipKb(file), 0);
		const verdict =
			page === 'patient' ? (kb <= BUDGET_KB ? `≤ ${BUDGET_KB} KB ✓` : `> ${BUDGET_KB} KB ✗`) : '';
		console.log(
			`${page.padEnd(12)}${kb.toFixed(1).padStart(10)} KB${String(files.size).padStart(11)}   ${verdict}`
		);
	}
	const patientInitial = initialFiles(readFileSync(join(BUILD, 'patient.html'), 'utf8'), manifest);
	const lazy = Object.values(manifest)
		.filter((chunk) => chunk.file.endsWith('.js') && !patientInitial.has(chunk.file))
		.map((chunk) => ({ file: chunk.file, kb: gzipKb(chunk.file) }))
		.sort((a, b) => b.kb - a.kb);
	const lazyKb = lazy.reduce((sum, c) => sum + c.kb, 0);
	console.log(
		`loaded when needed (gzip): ${lazyKb.toFixed(0)} KB in ${lazy.length} chunks; largest: ` +
			lazy
				.slice(0, 3)
				.map((c) => `${c.file.split('/').pop()} ${c.kb.toFixed(0)} KB`)
				.join(', ')
	);
	console.log(
		`SNARK artifacts fetched by the prover/verifier: ${(sizeOfDir(join(BUILD, 'snark')) / 1024).toFixed(0)} KB`
	);
}
