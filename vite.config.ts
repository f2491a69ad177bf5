import { sveltekit } from '@sveltejs/kit/vite';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/** Where the client build lists the chunks the service worker must not precache. */
const LAZY_CHUNKS = '_app/lazy-chunks.json';

/**
 * The FHIR validator (@medplum/core) and its R4 definitions (3.3 MB) load only when a clinic checks a
 * record; SvelteKit names chunks by hash, so the client build lists theirs in LAZY_CHUNKS and the
 * service worker leaves them out of its install-time precache (a phone never downloads them).
 */
function lazyChunkList(): Plugin {
	let ssr = false;
	return {
		name: 'spchain-lazy-chunks',
		apply: 'build',
		configResolved(config) {
			ssr = Boolean(config.build.ssr);
		},
		generateBundle(_options, bundle) {
			if (ssr) return;
			const lazy = Object.values(bundle).filter(
				(chunk) =>
					chunk.type === 'chunk' &&
					chunk.moduleIds.some((id) => id.includes('/@medplum/') || id.endsWith('/r4-definitions.json'))
			);
			this.emitFile({
				type: 'asset',
				fileName: LAZY_CHUNKS,
				source: JSON.stringify(lazy.map((chunk) => chunk.fileName))
			});
		}
	};
}

export default defineConfig({
	plugins: [sveltekit(), lazyChunkList()],
	worker: { format: 'es' },
	build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
	optimizeDeps: { exclude: ['snarkjs'] },
	test: {
		include: ['src/**/*.test.ts', 'tests/unit/**/*.test.ts', 'relay/**/*.test.ts', 'bench/**/*.test.ts'],
		environment: 'node',
		testTimeout: 60_000,
		hookTimeout: 120_000,
		pool: 'forks',
		// libp2p's WebSocket transport needs the global WebSocket, behind this flag on Node 20.
		execArgv: ['--experimental-websocket'],
		setupFiles: ['./tests/setup-node.ts']
	}
});
