/**
 * Transaction selection proportional to reputation: the paper's defence against inhibition attacks
 * (section 6.2.2, Table 3, Algorithm 2), so no leader of the consensus group can starve other
 * institutions' transactions to win reputation for its own.
 *
 * Algorithm 2 as built (the pseudocode's t_i = 10⌊R_i⌋ is 0 for every R_i ∈ [0, 1), so we read it as
 * "a quota proportional to R_i"):
 *  1-2. Every institution m_i sends the transactions T_i it collected within Δ; the group forms the table
 *       B = [T_1 … T_n] (each T_i in arrival order).
 *  3.   Quotas: the capacity T_m (transactions processed at a time) is divided in proportion to the
 *       institutions' reputations R_i (fixed to integer weights, group.ts), by largest remainder: t_i is
 *       ⌊T_m·w_i/W⌋ and the leftover units go to the largest remainders (ties: higher reputation, then
 *       lower id). Σ t_i = T_m exactly.
 *  4.   Case 1 (everything pending fits, p ≤ T_m): every transaction is selected.
 *  5.   Case 2 (p > T_m): each institution first gets min(|T_i|, t_i); quota an institution cannot use
 *       (t_i > |T_i|) is redistributed one transaction at a time, round-robin over the institutions that
 *       still have transactions, starting from the most reputable ("from the beginning medical
 *       institution"), until T_m transactions are selected.
 *  6.   The selection P is the set the group verifies and pins.
 * The output order is round-robin too (one from each institution in ranking order, repeated), so no
 * institution's transactions all wait at the end of a batch.
 *
 * Fair share: institution i is entitled to at least min(|T_i|, t_i) slots; `checkFairSelection` is the
 * rule a member applies to a leader's proposed selection (given the same table) before prevoting for it.
 */
import { bytesToHex, compareBytes, type Bytes } from './bytes.ts';
import { reputationWeight } from './consensus/group.ts';
import { ensure, ValidationError } from './errors.ts';

/** One row of table B. */
export interface InstitutionQueue {
	institution: Bytes;
	reputation: number;
	/** Transaction ids in arrival order. */
	transactions: readonly Bytes[];
}

export interface SelectedTransaction {
	institution: Bytes;
	transaction: Bytes;
}

interface Ranked {
	row: InstitutionQueue;
	weight: number;
}

/** Institutions by reputation (descending), then id (ascending): the ranking every member computes alike. */
function rank(table: readonly InstitutionQueue[]): Ranked[] {
	const seen = new Set<string>();
	for (const row of table) {
		const key = bytesToHex(row.institution);
		ensure(
			!seen.has(key),
			'selection-duplicate-institution',
			`institution ${key} appears twice in the table`
		);
		seen.add(key);
	}
	return table
		.map((row) => ({ row, weight: reputationWeight(row.reputation) }))
		.sort((a, b) => b.weight - a.weight || compareBytes(a.row.institution, b.row.institution));
}

function checkCapacity(capacity: number): void {
	ensure(
		Number.isSafeInteger(capacity) && capacity > 0,
		'selection-capacity',
		'T_m must be a positive integer'
	);
}

/** t_i for each row of the table, in table order (step 3). */
export function quotas(table: readonly InstitutionQueue[], capacity: number): number[] {
	checkCapacity(capacity);
	const ranked = rank(table);
	const total = ranked.reduce((s, r) => s + r.weight, 0);
	const byInstitution = new Map<string, number>();
	if (total === 0) {
		// Nobody has reputation yet (a young chain): equal quotas, leftovers to the ranking's head.
		ranked.forEach((r, i) =>
			byInstitution.set(
				bytesToHex(r.row.institution),
				Math.floor(capacity / ranked.length) + (i < capacity % ranked.length ? 1 : 0)
			)
		);
	} else {
		const big = BigInt(total);
		const shares = ranked.map((r, i) => {
			const exact = BigInt(capacity) * BigInt(r.weight);
			return { i, floor: Number(exact / big), remainder: exact % big };
		});
		let left = capacity - shares.reduce((s, x) => s + x.floor, 0);
		const order = [...shares].sort((a, b) =>
			a.remainder === b.remainder ? a.i - b.i : a.remainder > b.remainder ? -1 : 1
		);
		for (const share of order) {
			if (left === 0) break;
			share.floor++;
			left--;
		}
		shares.forEach((s) => byInstitution.set(bytesToHex(ranked[s.i]!.row.institution), s.floor));
	}
	return table.map((row) => byInstitution.get(bytesToHex(row.institution))!);
}

/** Algorithm 2: the transactions the group verifies and pins next, at most `capacity` of them. */
export function selectTransactions(
	table: readonly InstitutionQueue[],
	capacity: number
): SelectedTransaction[] {
	const ranked = rank(table);
	const quota = quotas(
		ranked.map((r) => r.row),
		capacity
	);
	const pending = ranked.reduce((s, r) => s + r.row.transactions.length, 0);
	// How many each institution gets: all (Case 1) or quota first, then round-robin redistribution (Case 2).
	const take = ranked.map((r, i) =>
		pending <= capacity ? r.row.transactions.length : Math.min(r.row.transactions.length, quota[i]!)
	);
	let used = take.reduce((a, b) => a + b, 0);
	while (used < Math.min(capacity, pending)) {
		for (let i = 0; i < ranked.length && used < capacity; i++) {
			if (take[i]! < ranked[i]!.row.transactions.length) {
				take[i]!++;
				used++;
			}
		}
	}
	const out: SelectedTransaction[] = [];
	for (let k = 0; out.length < used; k++)
		for (let i = 0; i < ranked.length; i++)
			if (k < take[i]!)
				out.push({ institution: ranked[i]!.row.institution, transaction: ranked[i]!.row.transactions[k]! });
	return out;
}

/** Minimum number of slots each row is entitled to: min(|T_i|, t_i), or all of T_i in Case 1. */
export function fairShares(table: readonly InstitutionQueue[], capacity: number): number[] {
	const quota = quotas(table, capacity);
	const pending = table.reduce((s, r) => s + r.transactions.length, 0);
	return table.map((row, i) =>
		pending <= capacity ? row.transactions.length : Math.min(row.transactions.length, quota[i]!)
	);
}

/**
 * Throws a ValidationError unless `selection` is a selection the table allows: at most T_m transactions,
 * each from the table under its own institution and once; every institution gets its fair share; and no
 * capacity is left idle while transactions wait (so a leader cannot under-fill to starve others either).
 */
export function checkFairSelection(
	table: readonly InstitutionQueue[],
	capacity: number,
	selection: readonly SelectedTransaction[]
): void {
	checkCapacity(capacity);
	ensure(selection.length <= capacity, 'selection-over-capacity', `selection exceeds T_m = ${capacity}`);
	const owner = new Map<string, string>();
	for (const row of table)
		for (const id of row.transactions) owner.set(bytesToHex(id), bytesToHex(row.institution));
	const counts = new Map<string, number>();
	const chosen = new Set<string>();
	for (const { institution, transaction } of selection) {
		const id = bytesToHex(transaction);
		if (owner.get(id) !== bytesToHex(institution))
			throw new ValidationError(
				'selection-unknown-transaction',
				`transaction ${id.slice(0, 16)}… is not in that institution's queue`
			);
		ensure(!chosen.has(id), 'selection-duplicate', `transaction ${id.slice(0, 16)}… selected twice`);
		chosen.add(id);
		counts.set(bytesToHex(institution), (counts.get(bytesToHex(institution)) ?? 0) + 1);
	}
	const shares = fairShares(table, capacity);
	table.forEach((row, i) => {
		const got = counts.get(bytesToHex(row.institution)) ?? 0;
		ensure(
			got >= shares[i]!,
			'selection-unfair',
			`institution ${bytesToHex(row.institution).slice(0, 16)}… got ${got} slots, its fair share is ${shares[i]}`
		);
	});
	const pending = owner.size;
	ensure(
		selection.length === Math.min(capacity, pending),
		'selection-underfilled',
		`selection has ${selection.length} transactions while ${Math.min(capacity, pending)} fit`
	);
}
