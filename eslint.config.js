import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

// Deterministic keys (tests/fixtures: genesis-dev, dev-members) derive from public seeds. Only tests may
// import them: anything else that did would run a network whose every secret is public.
const isomorphic = {
	group: ['node:*', 'idb', 'libp2p', '@libp2p/*', 'fs', 'path', 'crypto', '$app/*', 'snarkjs']
};
const testFixtures = {
	group: ['**/tests/fixtures/**', '$lib/../../tests/**'],
	message: 'Deterministic test keys stay in tests: make keys with src/lib/keys/institution.ts instead.'
};

export default ts.config(
	js.configs.recommended,
	...ts.configs.recommended,
	...svelte.configs.recommended,
	{ languageOptions: { globals: { ...globals.browser, ...globals.node } } },
	{
		files: ['**/*.svelte', '**/*.svelte.ts'],
		languageOptions: {
			parserOptions: {
				projectService: true,
				extraFileExtensions: ['.svelte'],
				parser: ts.parser,
				svelteConfig
			}
		}
	},
	{
		rules: {
			'@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
			'no-undef': 'off',
			// The PWA is served from the origin root (no `paths.base`), so plain hrefs are already resolved.
			'svelte/no-navigation-without-resolve': 'off'
		}
	},
	{
		// The protocol core is isomorphic: no DOM, storage, network or Node-only modules.
		files: ['src/**/*.ts', 'src/**/*.svelte', 'relay/**/*.ts', 'scripts/**', 'circuits/**/*.ts'],
		ignores: ['**/*.test.ts'],
		rules: { 'no-restricted-imports': ['error', { patterns: [testFixtures] }] }
	},
	{
		files: ['src/lib/core/**/*.ts'],
		rules: {
			'no-restricted-imports': ['error', { patterns: [isomorphic] }],
			'no-restricted-globals': ['error', 'window', 'document', 'indexedDB', 'localStorage', 'navigator']
		}
	},
	{
		// The same rule object for core code, so both restrictions hold there (a later rule replaces one).
		files: ['src/lib/core/**/*.ts'],
		ignores: ['**/*.test.ts'],
		rules: { 'no-restricted-imports': ['error', { patterns: [isomorphic, testFixtures] }] }
	},
	{
		ignores: [
			'build/',
			'.svelte-kit/',
			'node_modules/',
			'circuits/build/',
			'static/',
			'src/lib/mining/kernel/build/',
			'test-results/',
			'bench/out/',
			'sim-out/'
		]
	}
);
