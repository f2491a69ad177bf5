/**
 * The deterministic test keys (tests/fixtures) must never reach the application: the lint rule in
 * eslint.config.js refuses an import of them anywhere but tests. This drives ESLint with the project's
 * own configuration on probe sources at real paths, so the rule itself is what is checked.
 */
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint();
const probe = (from: string) =>
	`import { devGenesis } from '${from}';\nexport const genesis = devGenesis();\n`;

async function restricted(filePath: string, from: string): Promise<boolean> {
	const [result] = await eslint.lintText(probe(from), { filePath });
	return result!.messages.some((m) => m.ruleId === 'no-restricted-imports');
}

describe('deterministic test keys stay in tests', () => {
	it('refuses them in application code: app, core, node, routes, relay, scripts', async () => {
		expect(await restricted('src/lib/app/probe.ts', '../../../tests/fixtures/genesis-dev.ts')).toBe(true);
		expect(await restricted('src/lib/core/probe.ts', '../../../tests/fixtures/genesis-dev.ts')).toBe(true);
		expect(await restricted('src/lib/node/probe.ts', '../../../tests/fixtures/dev-members.ts')).toBe(true);
		expect(await restricted('src/routes/probe.ts', '../../tests/fixtures/genesis-dev.ts')).toBe(true);
		expect(await restricted('relay/probe.ts', '../tests/fixtures/genesis-dev.ts')).toBe(true);
		expect(await restricted('scripts/probe.ts', '../tests/fixtures/genesis-dev.ts')).toBe(true);
	});

	it('allows them in tests and in unit tests beside the code', async () => {
		expect(await restricted('src/lib/core/probe.test.ts', '../../../tests/fixtures/genesis-dev.ts')).toBe(
			false
		);
		expect(await restricted('tests/unit/probe.test.ts', '../fixtures/genesis-dev.ts')).toBe(false);
	});
});
