/**
 * `npm run sim -- <scenario> [--seed N] [--out DIR] [--json] [--<param> value | v1,v2,…]`
 * Runs one scenario (or `all`), writes its tables as CSV and its charts as SVG into DIR (default
 * sim-out/), and prints the summary table. Same seed and parameters → byte-identical files. With
 * --json the last line printed is one JSON object per scenario: its parameters, seed and summary
 * rows (the figures docs/security-evaluation.md quotes), for scripts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCENARIOS, scenarioByName } from './scenarios.ts';
import { toCsv, withDefaults, type ParamValues, type Scenario, type Table } from './scenario.ts';

function usage(): string {
	const lines = [
		'usage: npm run sim -- <scenario|all> [--seed N] [--out DIR] [--json] [--<param> value|v1,v2,…]',
		''
	];
	for (const s of SCENARIOS) {
		lines.push(`${s.name}: ${s.title}`);
		for (const p of s.params)
			lines.push(
				`  --${p.name}  ${p.label} (default ${Array.isArray(p.default) ? p.default.join(',') : p.default})`
			);
	}
	return lines.join('\n');
}

function parseValue(name: string, text: string): number | number[] {
	const values = text.split(',').map((t) => Number(t.trim()));
	if (values.some((v) => !Number.isFinite(v)))
		throw new RangeError(`--${name}: not a number or list: ${text}`);
	return values.length === 1 ? values[0]! : values;
}

function printTable(table: Table): void {
	const cells = [table.columns, ...table.rows].map((r) => r.map(String));
	const widths = table.columns.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
	for (const [n, r] of cells.entries()) {
		console.log(r.map((c, i) => c.padStart(widths[i]!)).join('  '));
		if (n === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
	}
}

/** The one-line JSON form of a run: parameters, seed and the summary table as objects. */
function summaryJson(scenario: Scenario, params: ParamValues, seed: number, summary: Table): string {
	return JSON.stringify({
		scenario: scenario.name,
		seed,
		params,
		summary: summary.rows.map((row) => Object.fromEntries(summary.columns.map((c, i) => [c, row[i]])))
	});
}

function runOne(scenario: Scenario, given: ParamValues, seed: number, out: string, json: boolean): void {
	const started = performance.now();
	const params = withDefaults(scenario, given);
	const result = scenario.run(params, seed);
	mkdirSync(out, { recursive: true });
	const written: string[] = [];
	for (const t of result.tables) written.push(write(join(out, `${t.name}.csv`), toCsv(t)));
	for (const c of result.charts) written.push(write(join(out, `${c.name}.svg`), c.svg));
	console.log(`\n${scenario.title} (seed ${seed}, ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
	printTable(result.summary);
	console.log(`\nwrote ${written.join(', ')}`);
	if (json) console.log(summaryJson(scenario, params, seed, result.summary));
}

function write(path: string, content: string): string {
	writeFileSync(path, content);
	return path;
}

/** `--name value` and `--name=value` pairs plus positionals; every option needs a value except --help. */
function parseCommandLine(args: readonly string[]): { options: Map<string, string>; positionals: string[] } {
	const options = new Map<string, string>();
	const positionals: string[] = [];
	for (let i = 0; i < args.length; i++) {
		const arg = args[i]!;
		if (!arg.startsWith('--')) {
			positionals.push(arg);
			continue;
		}
		const [key, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
		if (key === 'help' || key === 'json') options.set(key, '');
		else if (inline !== undefined) options.set(key, inline);
		else if (i + 1 < args.length) options.set(key, args[++i]!);
		else throw new RangeError(`--${key} needs a value`);
	}
	return { options, positionals };
}

function main(): void {
	const { options, positionals } = parseCommandLine(process.argv.slice(2));
	const name = positionals[0];
	if (options.has('help') || !name) {
		console.log(usage());
		if (!name && !options.has('help')) process.exitCode = 2;
		return;
	}
	const seed = Number(options.get('seed') ?? 1);
	if (!Number.isSafeInteger(seed))
		throw new RangeError(`--seed must be an integer, got ${options.get('seed')}`);
	const out = options.get('out') ?? 'sim-out';
	const given: ParamValues = {};
	for (const [key, value] of options)
		if (key !== 'seed' && key !== 'out' && key !== 'json') given[key] = parseValue(key, value);
	const chosen = name === 'all' ? SCENARIOS : [scenarioByName(name)];
	for (const scenario of chosen)
		runOne(scenario, name === 'all' ? {} : given, seed, out, options.has('json'));
}

try {
	main();
} catch (error) {
	console.error(error instanceof Error ? error.message : error);
	process.exitCode = 1;
}
