import js from '@eslint/js';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

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
		files: ['src/lib/core/**/*.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{ patterns: ['node:*', 'idb', 'libp2p', '@libp2p/*', 'fs', 'path', 'crypto', '$app/*', 'snarkjs'] }
			],
			'no-restricted-globals': ['error', 'window', 'document', 'indexedDB', 'localStorage', 'navigator']
		}
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
