/**
 * Reputation (paper §5.2, Table 1, Algorithm 1; RepuCoin, Yu et al., IEEE TC 2019).
 *
 * An institution's power in the consensus group is its reputation R = ½(R1 + R2), not its hash power:
 * - R1 (RepuCoin) rewards keyblocks mined steadily over the chain's whole lifetime, chunk by chunk of
 *   `chunkSize` (c) keyblocks: q = mean / (1 + s), where mean is the institution's share of all
 *   keyblocks and s the standard deviation of its per-chunk shares; x = q·L.
 * - R2 (Algorithm 1) does the same with the register transactions (q1) and the medical + label
 *   transactions (q2) the institution received; x = q1·q2·L.
 * - Both map x through f(x) = ½(1 + (x − a)/(λ + |x − a|)) and are zeroed by H = 0 (proven misbehaviour).
 * Parameters (genesis.reputation): chunkSize c, a (the x where f = ½), λ (how slowly f saturates).
 * Every interpretation of the paper's ambiguous notation is written down in docs/reputation.md.
 *
 * Inputs are plain per-chunk counts so the chain code can derive them from stored blocks; everything
 * here is pure and deterministic (same inputs → bit-identical floats on every platform).
 */
import { compareBytes, fromHex } from './bytes.ts';
import { ensure } from './errors.ts';

/** Same shape as `GenesisConfig.reputation`. */
export interface ReputationParams {
	/** c: keyblocks per chunk. */
	chunkSize: number;
	/** a: work x at which f(x) = ½. */
	a: number;
	/** λ: spread of f; larger = slower rise towards 1. */
	lambda: number;
}

/** What one institution did in each chunk of the chain (index i = chunk i, oldest first). */
export interface InstitutionActivity {
	/** Institution id, hex (the consensus-group tie-break orders these bytes). */
	institution: string;
	/** k_i: keyblocks this institution mined in chunk i. */
	keyblocks: readonly number[];
	/** TR_i: register transactions this institution received in chunk i. */
	registerTxs: readonly number[];
	/** TML_i: medical and label transactions this institution received in chunk i. */
	medicalTxs: readonly number[];
	/** H: false once misbehaviour by this institution is proven on chain (see `honestFlag`). */
	honest: boolean;
}

/** Chain-wide totals per chunk: all register / medical+label transactions, whoever received them. */
export interface ChainActivity {
	/** L: number of keyblocks in the chain. */
	length: number;
	registerTxs: readonly number[];
	medicalTxs: readonly number[];
}

export interface Reputation {
	institution: string;
	r1: number;
	r2: number;
	/** R = ½(R1 + R2). */
	r: number;
}

/** Share of a resource, its per-chunk regularity, and q = mean / (1 + s). */
export interface Regularity {
	mean: number;
	deviation: number;
	q: number;
}

/** A proven misbehaviour, already verified by the evidence code (e.g. two conflicting pin signatures). */
export interface ProvenMisbehaviour {
	/** Institution id, hex. */
	offender: string;
	/** Keyblock height at which the evidence was recorded on chain. */
	height: number;
}

function ensureCount(value: number, what: string): void {
	ensure(
		Number.isSafeInteger(value) && value >= 0,
		'reputation-activity',
		`${what} must be a count ≥ 0, got ${value}`
	);
}

function ensureParams(params: ReputationParams): void {
	ensure(
		Number.isSafeInteger(params.chunkSize) && params.chunkSize > 0,
		'reputation-params',
		`chunk size must be a positive integer, got ${params.chunkSize}`
	);
	ensure(Number.isFinite(params.a) && params.a >= 0, 'reputation-params', `a must be ≥ 0, got ${params.a}`);
	ensure(
		Number.isFinite(params.lambda) && params.lambda > 0,
		'reputation-params',
		`λ must be > 0, got ${params.lambda}`
	);
}

/** f(x) = ½(1 + (x − a)/(λ + |x − a|)): rises from λ/(2(λ + a)) at x = 0 through ½ at x = a towards 1. */
export function reputationCurve(x: number, params: Pick<ReputationParams, 'a' | 'lambda'>): number {
	const d = x - params.a;
	return 0.5 * (1 + d / (params.lambda + Math.abs(d)));
}

/** l = ⌈L / c⌉: the number of chunks in a chain of L keyblocks (the last one may be partial). */
export function chunkCount(length: number, chunkSize: number): number {
	return Math.ceil(length / chunkSize);
}

/** Keyblocks in each chunk: c, except a partial last chunk. */
export function chunkSizes(length: number, chunkSize: number): number[] {
	return Array.from({ length: chunkCount(length, chunkSize) }, (_, i) =>
		Math.min(chunkSize, length - i * chunkSize)
	);
}

/**
 * mean = Σ counts / Σ totals (the institution's share over the whole lifetime); s = standard deviation,
 * over the chunks with any activity, of the per-chunk share counts_i / totals_i around that mean.
 * Chunks where nobody had anything to receive are skipped: there was no service to be regular in.
 */
export function regularity(counts: readonly number[], totals: readonly number[]): Regularity {
	let sum = 0;
	let total = 0;
	for (let i = 0; i < counts.length; i++) {
		sum += counts[i]!;
		total += totals[i]!;
	}
	if (total === 0) return { mean: 0, deviation: 0, q: 0 };
	const mean = sum / total;
	let squares = 0;
	let active = 0;
	for (let i = 0; i < counts.length; i++) {
		if (totals[i] === 0) continue;
		const d = counts[i]! / totals[i]! - mean;
		squares += d * d;
		active++;
	}
	const deviation = Math.sqrt(squares / active);
	return { mean, deviation, q: mean / (1 + deviation) };
}

function ensurePerChunk(
	values: readonly number[],
	chunks: number,
	what: string,
	limits: readonly number[]
): void {
	ensure(
		values.length === chunks,
		'reputation-activity',
		`${what}: expected ${chunks} chunk counts, got ${values.length}`
	);
	values.forEach((v, i) => {
		ensureCount(v, `${what}[${i}]`);
		ensure(
			v <= limits[i]!,
			'reputation-activity',
			`${what}[${i}] = ${v} exceeds the chunk total ${limits[i]}`
		);
	});
}

/** Checks one institution's counts against the chain (shapes, integers, no more than the chunk totals). */
function ensureActivity(activity: InstitutionActivity, chain: ChainActivity, params: ReputationParams): void {
	ensureParams(params);
	ensureCount(chain.length, 'chain length');
	const sizes = chunkSizes(chain.length, params.chunkSize);
	const who = `institution ${activity.institution}`;
	chain.registerTxs.forEach((v, i) => ensureCount(v, `chain register txs[${i}]`));
	chain.medicalTxs.forEach((v, i) => ensureCount(v, `chain medical txs[${i}]`));
	ensurePerChunk(activity.keyblocks, sizes.length, `${who} keyblocks`, sizes);
	ensurePerChunk(activity.registerTxs, sizes.length, `${who} register txs`, chain.registerTxs);
	ensurePerChunk(activity.medicalTxs, sizes.length, `${who} medical txs`, chain.medicalTxs);
}

function r1Of(activity: InstitutionActivity, chain: ChainActivity, params: ReputationParams): number {
	const { q } = regularity(activity.keyblocks, chunkSizes(chain.length, params.chunkSize));
	return activity.honest ? Math.min(1, reputationCurve(q * chain.length, params)) : 0;
}

function r2Of(activity: InstitutionActivity, chain: ChainActivity, params: ReputationParams): number {
	const q1 = regularity(activity.registerTxs, chain.registerTxs).q;
	const q2 = regularity(activity.medicalTxs, chain.medicalTxs).q;
	return activity.honest ? Math.min(1, reputationCurve(q1 * q2 * chain.length, params)) : 0;
}

/** R1 (RepuCoin): min(1, H · f(q · L)) with q from the keyblocks mined per chunk. */
export function miningReputation(
	activity: InstitutionActivity,
	chain: ChainActivity,
	params: ReputationParams
): number {
	ensureActivity(activity, chain, params);
	return r1Of(activity, chain, params);
}

/** R2 (Algorithm 1): min(1, H · f(q1 · q2 · L)) with q1 from register, q2 from medical+label txs. */
export function serviceReputation(
	activity: InstitutionActivity,
	chain: ChainActivity,
	params: ReputationParams
): number {
	ensureActivity(activity, chain, params);
	return r2Of(activity, chain, params);
}

/** R = ½(R1 + R2) for one institution. */
export function reputationOf(
	activity: InstitutionActivity,
	chain: ChainActivity,
	params: ReputationParams
): Reputation {
	ensureActivity(activity, chain, params);
	const r1 = r1Of(activity, chain, params);
	const r2 = r2Of(activity, chain, params);
	return { institution: activity.institution, r1, r2, r: (r1 + r2) / 2 };
}

/** Chain-wide per-chunk totals, summed over every institution's received transactions. */
export function chainActivity(
	length: number,
	activities: readonly InstitutionActivity[],
	chunkSize: number
): ChainActivity {
	const chunks = chunkCount(length, chunkSize);
	const registerTxs = new Array<number>(chunks).fill(0);
	const medicalTxs = new Array<number>(chunks).fill(0);
	for (const a of activities) {
		for (let i = 0; i < chunks; i++) {
			registerTxs[i]! += a.registerTxs[i] ?? 0;
			medicalTxs[i]! += a.medicalTxs[i] ?? 0;
		}
	}
	return { length, registerTxs, medicalTxs };
}

/** Reputation of every institution of a chain of `length` keyblocks, totals derived from the activities. */
export function reputations(
	length: number,
	activities: readonly InstitutionActivity[],
	params: ReputationParams
): Reputation[] {
	ensureParams(params);
	const chain = chainActivity(length, activities, params.chunkSize);
	return activities.map((a) => reputationOf(a, chain, params));
}

/**
 * The consensus group: the X institutions with the highest R. Equal R is broken by the institution id
 * bytes (ascending) so every node picks the same group.
 */
export function consensusGroup(
	all: readonly Pick<Reputation, 'institution' | 'r'>[],
	size: number
): string[] {
	ensure(
		Number.isSafeInteger(size) && size > 0,
		'consensus-group-size',
		`X must be a positive integer, got ${size}`
	);
	const ids = all.map((e) => {
		ensure(Number.isFinite(e.r), 'reputation-value', `R of ${e.institution} must be finite, got ${e.r}`);
		return fromHex(e.institution);
	});
	const distinct = new Set(ids.map((id) => id.join()));
	ensure(
		distinct.size === all.length,
		'consensus-group-duplicate',
		'an institution appears twice in the list'
	);
	return all
		.map((e, i) => ({ e, id: ids[i]! }))
		.sort((x, y) => y.e.r - x.e.r || compareBytes(x.id, y.id))
		.slice(0, size)
		.map((x) => x.e.institution);
}

/**
 * H for `institution` at chain length `length`: false once any proven misbehaviour naming it is on chain
 * at or below that height. Evidence is not trusted here: it arrives already verified.
 */
export function honestFlag(
	institution: string,
	evidence: readonly ProvenMisbehaviour[],
	length = Infinity
): boolean {
	const id = fromHex(institution);
	return !evidence.some((e) => {
		ensureCount(e.height, 'evidence height');
		return e.height <= length && compareBytes(fromHex(e.offender), id) === 0;
	});
}
