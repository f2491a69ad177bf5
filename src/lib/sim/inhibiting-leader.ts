/**
 * What an inhibiting leader proposes (§6.2.2 "inhibition attacks"): it verifies its coalition's own
 * transactions first and ignores a victim institution's. Two strategies over the same table B the
 * honest proposer feeds to Algorithm 2 (src/lib/core/selection.ts):
 *  - `excludingSelection`: the coalition's transactions first, then everyone else's except the victim's.
 *    Under a plain leader-picks-anything rule this is accepted; SPChain's members reject it.
 *  - `squeezingSelection`: the most hostile selection Algorithm 2 still allows: every institution gets
 *    exactly its fair share min(|T_i|, t_i), and all spare capacity goes to the coalition first and
 *    to the victim last. It passes `checkFairSelection`, so it bounds what any leader can do.
 * Both take each institution's oldest transactions first, as the honest proposer does, so the
 * comparison isolates whose transactions are chosen, not which of them.
 */
import type { InstitutionQueue, SelectedTransaction } from '../core/selection.ts';
import { fairShares } from '../core/selection.ts';

/** Adds one transaction at a time, round-robin over `rows`, until `limit` are taken or they run dry. */
function fill(
	table: readonly InstitutionQueue[],
	take: number[],
	rows: readonly number[],
	limit: number
): void {
	let used = take.reduce((a, b) => a + b, 0);
	let progress = true;
	while (used < limit && progress) {
		progress = false;
		for (const i of rows) {
			if (used >= limit) break;
			if (take[i]! < table[i]!.transactions.length) {
				take[i]!++;
				used++;
				progress = true;
			}
		}
	}
}

function selectionOf(table: readonly InstitutionQueue[], take: readonly number[]): SelectedTransaction[] {
	return table.flatMap((row, i) =>
		row.transactions.slice(0, take[i]).map((transaction) => ({ institution: row.institution, transaction }))
	);
}

/** Rows of `table` other than the coalition's and the victim's, in table order. */
function bystanders(table: readonly InstitutionQueue[], coalition: ReadonlySet<number>, victim: number) {
	return table.map((_, i) => i).filter((i) => i !== victim && !coalition.has(i));
}

export function excludingSelection(
	table: readonly InstitutionQueue[],
	capacity: number,
	coalition: ReadonlySet<number>,
	victim: number
): SelectedTransaction[] {
	const take = table.map(() => 0);
	fill(table, take, [...coalition], capacity);
	fill(table, take, bystanders(table, coalition, victim), capacity);
	return selectionOf(table, take);
}

export function squeezingSelection(
	table: readonly InstitutionQueue[],
	capacity: number,
	coalition: ReadonlySet<number>,
	victim: number
): SelectedTransaction[] {
	const take = fairShares(table, capacity);
	// The rule also forbids idle capacity while transactions wait, so the victim gets what nobody else wants.
	const limit = Math.min(
		capacity,
		table.reduce((s, row) => s + row.transactions.length, 0)
	);
	fill(table, take, [...coalition], limit);
	fill(table, take, bystanders(table, coalition, victim), limit);
	fill(table, take, [victim], limit);
	return selectionOf(table, take);
}
