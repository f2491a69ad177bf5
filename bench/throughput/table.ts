/**
 * The throughput bench's table: one row per run (the CPU pipeline or the libp2p deployment), block size
 * and group size, with the paper's figure for the same configuration beside it.
 */
/** Paper section 6.1, Fig. 11 (one 4-core i5): the figures it states; others are read off no table. */
export function paperTps(size: number, members: number): string {
	if (size === 1 && members === 4) return '145';
	if (size === 1 && members === 13) return '116';
	if (size === 2 && members === 4) return '218';
	return '—';
}

export interface Row {
	run: 'pipeline' | 'libp2p';
	size: number;
	members: number;
	transactions: number;
	tps: number;
	nobleTps?: number;
	p50: number;
	p99: number;
	msPerTx: number;
	nobleMsPerTx?: number;
	ceilingTps?: number;
	load: number;
}

export const HEADER =
	'run        block   members  tx/block  pinned TPS  noble TPS  paper TPS  latency p50/p99 (s)  verify ms/tx  noble ms/tx  capacity tx/s/core  ceiling TPS  load';

export function formatRow(r: Row): string {
	const num = (x: number | undefined, digits: number, width: number) =>
		(x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(digits)).padStart(width);
	return (
		`${r.run.padEnd(9)}${String(r.size).padStart(6)} MB ${String(r.members).padStart(5)} ${String(r.transactions).padStart(9)}` +
		`${num(r.tps, 0, 12)}${num(r.nobleTps, 0, 11)}${paperTps(r.size, r.members).padStart(11)}` +
		`  ${num(r.p50, 2, 8)} / ${num(r.p99, 2, 0).padEnd(8)}` +
		`${num(r.msPerTx, 2, 13)}${num(r.nobleMsPerTx, 2, 13)}` +
		`${num(1000 / r.msPerTx, 0, 20)}${num(r.ceilingTps, 0, 13)}` +
		// The machine's 1-minute load average: pinned TPS follows other jobs' load.
		`${r.load.toFixed(1).padStart(6)}`
	);
}
