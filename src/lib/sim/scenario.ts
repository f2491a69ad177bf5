/**
 * What every simulator scenario is: a pure function from (parameters, seed) to tables, charts and a
 * summary. The CLI writes them as CSV/SVG files, the page shows them; both call the same function.
 */
import type { ReputationParams } from '../core/reputation.ts';

export type Cell = string | number;

export interface Table {
	name: string;
	columns: readonly string[];
	rows: readonly (readonly Cell[])[];
}

export interface ScenarioResult {
	/** Full data, one CSV file per table. */
	tables: readonly Table[];
	/** SVG documents by file name (without extension). */
	charts: readonly { name: string; svg: string }[];
	/** The few numbers a person reads first (printed by the CLI). */
	summary: Table;
}

export interface ScenarioParam {
	name: string;
	label: string;
	/** A number, or a list of numbers (a sweep). */
	default: number | readonly number[];
}

export type ParamValues = Record<string, number | readonly number[]>;

export interface Scenario {
	name: string;
	title: string;
	description: string;
	params: readonly ScenarioParam[];
	run(params: ParamValues, seed: number): ScenarioResult;
}

/** Reads a scalar parameter, with a clear error for a list or a non-number. */
export function scalar(params: ParamValues, name: string): number {
	const v = params[name];
	if (typeof v !== 'number' || !Number.isFinite(v))
		throw new RangeError(`parameter ${name} must be a number`);
	return v;
}

/** Reads a list parameter (a single number counts as a list of one). */
export function list(params: ParamValues, name: string): number[] {
	const v = params[name];
	const values = typeof v === 'number' ? [v] : [...(v ?? [])];
	if (values.length === 0 || values.some((x) => !Number.isFinite(x)))
		throw new RangeError(`parameter ${name} must be a non-empty list of numbers`);
	return values;
}

/** Defaults of `scenario`, overridden by `given`. */
export function withDefaults(scenario: Scenario, given: ParamValues = {}): ParamValues {
	const out: ParamValues = {};
	for (const p of scenario.params) out[p.name] = given[p.name] ?? p.default;
	for (const name of Object.keys(given))
		if (!scenario.params.some((p) => p.name === name))
			throw new RangeError(`scenario ${scenario.name} has no parameter ${name}`);
	return out;
}

/** Fixed formatting so CSV files are identical across runs and readable. */
export function round(value: number, digits = 6): number {
	const f = 10 ** digits;
	return Math.round(value * f) / f;
}

/** RFC 4180 CSV. */
export function toCsv(table: Table): string {
	const cell = (c: Cell) => {
		const s = String(c);
		return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
	};
	return [table.columns, ...table.rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

/** (c, a, λ) as every scenario exposes them; defaults are the paper's (a, λ) and a one-week chunk. */
export const REPUTATION_PARAMS: readonly ScenarioParam[] = [
	{ name: 'chunkSize', label: 'Chunk size c (keyblocks)', default: 1008 },
	{ name: 'a', label: 'a', default: 5000 },
	{ name: 'lambda', label: 'λ', default: 20000 }
];

export function reputationParams(params: ParamValues): ReputationParams {
	return { chunkSize: scalar(params, 'chunkSize'), a: scalar(params, 'a'), lambda: scalar(params, 'lambda') };
}

/** Keyblock interval of the paper's evaluation (RepuCoin uses Bitcoin's): 10 minutes. */
export const KEYBLOCKS_PER_DAY = 144;
