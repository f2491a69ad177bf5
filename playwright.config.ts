import { defineConfig } from '@playwright/test';
import { CHROMIUM, CHROMIUM_ARGS } from './scripts/chromium.mjs';

// Tests run against the last `vite build` of the static PWA, served by scripts/serve.mjs (webServer below).
// Each spec starts the real network it needs: a relay (tests/browser/relay-fixture.ts) or the live demo
// network of relay and headless clinic nodes (tests/browser/demo-network.ts).
export default defineConfig({
	testDir: 'tests/browser',
	timeout: 120_000,
	workers: 1,
	reporter: [['list']],
	outputDir: 'test-results',
	webServer: {
		command: 'node scripts/serve.mjs --port 4173',
		port: 4173,
		reuseExistingServer: !process.env.CI
	},
	use: {
		baseURL: 'http://127.0.0.1:4173',
		launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS }
	}
});
