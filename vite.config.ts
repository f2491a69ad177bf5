import { sveltekit } from '@sveltejs/kit/vite';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [sveltekit()],
	worker: { format: 'es' },
	build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
	optimizeDeps: { exclude: ['snarkjs'] },
	test: {
		include: ['src/**/*.test.ts', 'tests/unit/**/*.test.ts', 'relay/**/*.test.ts'],
		environment: 'node',
		testTimeout: 60_000,
		hookTimeout: 120_000,
		pool: 'forks',
		// libp2p's WebSocket transport needs the global WebSocket, behind this flag on Node 20.
		execArgv: ['--experimental-websocket'],
		setupFiles: ['./tests/setup-node.ts']
	}
});
