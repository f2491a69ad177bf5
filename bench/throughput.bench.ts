/**
 * Throughput of pinned medical transactions (paper section 6.1, Figs. 10-11) on this machine, measured
 * twice: as a CPU pipeline (below) and as a libp2p deployment of real nodes (throughput/deployment.ts:
 * the members as separate FullNode processes gossiping on loopback with the consensus timers, the same
 * block sizes and transaction counts), printed in one table with the paper's figures beside them.
 *
 * The CPU pipeline: a proposer encodes batches of signed medical transactions carrying real chameleon
 * hashes and Groth16 proofs; every member of a group of n decodes each batch, checks every transaction
 * (fees, holder, the patient's BIP-340 signature), batch-verifies every proof, signs its prevote with
 * BLS12-381, verifies the others' prevotes, signs its precommit, verifies the others' precommits; the
 * proposer aggregates the certificate and every member verifies it. Members run as tasks on one process
 * per core (here 2), so the figure is the whole group's CPU on this machine, as if all members
 * shared it; the network is left out (loopback gossip adds ~4 ms per step, see the network bench).
 *
 * A block of S MB is the batches the protocol agrees one after another (a batch holds at most 1,024
 * transactions, ~0.55 MB). Transactions wait in a backlog from t = 0: latency is the time until the
 * certificate pinning a transaction's batch. The ceiling is the same pipeline with transaction and
 * proof verification switched off (decoding, votes and certificates kept).
 *
 * Proofs cost ~0.4 s each to make, so a pool of distinct real proofs is made once and cached in
 * .cache/bench-proofs/ (throughput/transactions.ts); transactions (distinct patients and signatures) reuse pool entries, and every
 * member still verifies every proof of every transaction (once: a node keeps its proof verdicts,
 * runtime/verdict-cache.ts, so the vote is its only check of a transaction it had not seen before).
 *
 * Each configuration runs three times from the same transactions: members on the WASM back ends the
 * nodes install (libsecp256k1, mcl), the same on @noble/curves (the baseline: what every node ran
 * before), and the ceiling. Besides pinned TPS and latency it prints the CPU a member spends checking
 * one transaction (decode, fees, signature, proof), split by stage, the verification capacity that
 * implies per core, and the machine's load average when the row was measured.
 * The default runs 1, 2 and 4 MB for 4 and 7 members; `BENCH_FULL=1` adds 10 and 13 members;
 * `BENCH_QUICK=1` runs 0.0625 MB blocks for 4 and 7 members (a smoke run, same columns, < 3 minutes).
 * `BENCH_RUNS=pipeline` or `=libp2p` runs one of the two.
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fork, type ChildProcess } from 'node:child_process';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { assembleCertificate, encodeCertificate } from '../src/lib/core/certificate.ts';
import { devMembers } from '../tests/fixtures/dev-members.ts';
import { ConsensusGroup } from '../src/lib/core/consensus/group.ts';
import { devGenesis } from '../tests/fixtures/genesis-dev.ts';
import {
	encodeBatchProposal,
	MAX_PROPOSAL_TRANSACTIONS,
	type BatchProposal
} from '../src/lib/core/gossip.ts';
import { generateSigningKey, useSignatureVerifier } from '../src/lib/core/identity.ts';
import {
	checkTransaction,
	encodeTransaction,
	signTransaction,
	type MedicalBody,
	type RegisterBody,
	type Transaction
} from '../src/lib/core/transaction.ts';
import { installWasmBackends } from '../src/lib/crypto/wasm-backends.node.ts';
import { deploymentThroughput } from './throughput/deployment.ts';
import { formatRow, HEADER, type Row } from './throughput/table.ts';
import type { MemberResult, MemberTask, MemberTaskBody, StageCpu } from './throughput/protocol.ts';
import { aster, POOL_SIZE, proofPool, transactions } from './throughput/transactions.ts';

const STAGES = ['decode', 'checks', 'proofs'] as const;

const WORKER = fileURLToPath(new URL('./throughput/member.worker.ts', import.meta.url));
const MB = 1024 * 1024;

const genesis = devGenesis();

/** One member process per core; tasks go to whichever is free. */
class MemberPool {
	private readonly workers: ChildProcess[] = [];
	private readonly idle: ChildProcess[] = [];
	private readonly queue: {
		task: MemberTask;
		resolve: (r: MemberResult) => void;
		reject: (e: Error) => void;
	}[] = [];
	private readonly running = new Map<
		number,
		{ resolve: (r: MemberResult) => void; reject: (e: Error) => void }
	>();
	private nextId = 0;

	static async start(threads: number, backends: 'wasm' | 'noble'): Promise<MemberPool> {
		const pool = new MemberPool();
		await Promise.all(
			Array.from({ length: threads }, async () => {
				const worker = fork(WORKER, {
					execArgv: ['--experimental-websocket', '--import', 'tsx'],
					serialization: 'advanced',
					env: { ...process.env, SPCHAIN_BENCH_CRYPTO: backends }
				});
				await new Promise<void>((resolve, reject) => {
					worker.once('error', reject);
					worker.once('message', () => resolve());
				});
				worker.on('message', (message) => {
					const result = message as MemberResult;
					if (result.type === 'ready') return;
					const job = pool.running.get(result.id)!;
					pool.running.delete(result.id);
					if (result.type === 'failed') job.reject(new Error(result.message));
					else job.resolve(result);
					pool.idle.push(worker);
					pool.pump();
				});
				pool.workers.push(worker);
				pool.idle.push(worker);
			})
		);
		return pool;
	}

	run(task: MemberTaskBody): Promise<MemberResult & { type: 'done' }> {
		return new Promise((resolve, reject) => {
			this.queue.push({
				task: { ...task, id: this.nextId++ } as MemberTask,
				resolve: resolve as (r: MemberResult) => void,
				reject
			});
			this.pump();
		});
	}

	private pump(): void {
		while (this.idle.length > 0 && this.queue.length > 0) {
			const worker = this.idle.pop()!;
			const job = this.queue.shift()!;
			this.running.set(job.task.id, job);
			worker.send(job.task);
		}
	}

	async stop(): Promise<void> {
		for (const worker of this.workers) worker.kill();
	}
}

/** Agrees one batch with n members; returns when every member verified the certificate. */
async function agreeBatch(
	pool: MemberPool,
	n: number,
	sequence: number,
	proposal: Uint8Array,
	verify: boolean
) {
	const members = [...Array(n).keys()];
	const prevotes = await Promise.all(
		members.map((member) => pool.run({ type: 'prevote', member, groupSize: n, sequence, proposal, verify }))
	);
	const value = prevotes[0]!.value!;
	const precommits = await Promise.all(
		members.map((member) =>
			pool.run({
				type: 'precommit',
				member,
				groupSize: n,
				sequence,
				value,
				votes: prevotes.map((p) => p.signature!)
			})
		)
	);
	await Promise.all(
		members.map((member) =>
			pool.run({
				type: 'commit',
				member,
				groupSize: n,
				sequence,
				value,
				votes: precommits.map((p) => p.signature!)
			})
		)
	);
	const dev = devMembers(members.map(() => 1));
	const group = new ConsensusGroup(dev.map((d) => d.member));
	const certificate = encodeCertificate(
		assembleCertificate(
			group,
			{ kind: 'transactions', height: sequence, round: 0, value },
			// The certificate's bitmap follows the group's order (by member id).
			new Map(precommits.map((p, i) => [group.indexOf(dev[i]!.member.id), p.signature!]))
		)
	);
	await Promise.all(
		members.map((member) => pool.run({ type: 'certificate', member, groupSize: n, certificate }))
	);
	const stages: StageCpu = { decode: 0, checks: 0, proofs: 0 };
	for (const { stageCpuMs } of prevotes)
		for (const stage of STAGES) stages[stage] += stageCpuMs?.[stage] ?? 0;
	return stages;
}

interface RunResult {
	transactions: number;
	seconds: number;
	tps: number;
	p50: number;
	p99: number;
	/** CPU ms one member spends decoding and checking one transaction (mean over members and transactions). */
	verifyMsPerTx: number;
	/** The same by stage. */
	stageMsPerTx: StageCpu;
}

async function runBlock(
	pool: MemberPool,
	n: number,
	batches: Uint8Array[],
	counts: number[],
	verify: boolean
): Promise<RunResult> {
	const start = performance.now();
	const latencies: number[] = [];
	const stageMs: StageCpu = { decode: 0, checks: 0, proofs: 0 };
	for (const [i, batch] of batches.entries()) {
		const stages = await agreeBatch(pool, n, i + 1, batch, verify);
		for (const stage of STAGES) stageMs[stage] += stages[stage];
		const at = (performance.now() - start) / 1000;
		for (let k = 0; k < counts[i]!; k++) latencies.push(at);
	}
	const seconds = (performance.now() - start) / 1000;
	const transactions = counts.reduce((a, b) => a + b, 0);
	const quantile = (q: number) =>
		latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
	return {
		transactions,
		seconds,
		tps: transactions / seconds,
		p50: quantile(0.5),
		p99: quantile(0.99),
		verifyMsPerTx: (stageMs.decode + stageMs.checks + stageMs.proofs) / (transactions * n),
		stageMsPerTx: {
			decode: stageMs.decode / (transactions * n),
			checks: stageMs.checks / (transactions * n),
			proofs: stageMs.proofs / (transactions * n)
		}
	};
}

/** Splits `txs` into protocol batches (≤ 1,024 transactions) totalling about `bytes`. */
function blockOf(
	txs: Transaction<MedicalBody>[],
	bytes: number
): { batches: Uint8Array[]; counts: number[] } {
	const batches: Uint8Array[] = [];
	const counts: number[] = [];
	let used = 0;
	let offset = 0;
	while (used < bytes && offset < txs.length) {
		let take = Math.min(MAX_PROPOSAL_TRANSACTIONS, txs.length - offset);
		const encode = (k: number) =>
			encodeBatchProposal({
				sequence: batches.length + 1,
				round: 1,
				institution: aster.id,
				transactions: txs.slice(offset, offset + k)
			} satisfies BatchProposal);
		let encoded = encode(take);
		if (used + encoded.length > bytes) {
			take = Math.max(1, Math.floor((take * (bytes - used)) / encoded.length));
			encoded = encode(take);
		}
		batches.push(encoded);
		counts.push(take);
		used += encoded.length;
		offset += take;
	}
	return { batches, counts };
}

/**
 * Fig. 10, keyblocks: a keyblock carries register transactions, and each of 4 members checks every one
 * (fees, the patient's signature) before it votes. Measured per register here, then scaled to blocks of
 * each size on this machine's cores (the vote and certificate costs of one height are in the table above).
 */
async function keyblockThroughput(sizes: number[], threads: number, count: number): Promise<void> {
	const patients = Array.from({ length: 64 }, (_, i) =>
		generateSigningKey(sha512(utf8ToBytes(`bench registrant ${i}`)).slice(0, 48))
	);
	const registers = Array.from({ length: count }, (_, i) =>
		signTransaction<RegisterBody>(
			{
				kind: 'register',
				patient: patients[i % patients.length]!.publicKey,
				institution: aster.id,
				round: 1 + i,
				fees: genesis.fees.register,
				identity: sha256(utf8ToBytes(`identity ${i}`))
			},
			patients[i % patients.length]!.secretKey
		)
	);
	const bytesPerRegister = encodeTransaction(registers[0]!).length;
	// CPU time of this process, not wall time: the machine is shared and wall time swings with others' load.
	const measure = () => {
		const start = process.cpuUsage();
		for (const tx of registers) checkTransaction(tx, genesis.fees);
		const used = process.cpuUsage(start);
		return (used.user + used.system) / 1000 / registers.length;
	};
	useSignatureVerifier(undefined);
	const nobleMs = measure();
	await installWasmBackends();
	const msPerRegister = measure();
	console.log(
		`\nkeyblocks (Fig. 10): ${msPerRegister.toFixed(2)} ms of CPU to check one register transaction (${bytesPerRegister} B) ` +
			`on libsecp256k1 (WASM), ${nobleMs.toFixed(2)} ms on @noble/curves`
	);
	for (const size of sizes) {
		const count = Math.floor((size * MB) / bytesPerRegister);
		const seconds = (count * msPerRegister * 4) / threads / 1000;
		console.log(
			`  ${size} MB keyblock: ${count} registers, checked by 4 members in ${seconds.toFixed(1)} s → ${(count / seconds).toFixed(0)} register TPS`
		);
	}
}

export default async function throughput(): Promise<void> {
	const full = process.env.BENCH_FULL === '1';
	const quick = process.env.BENCH_QUICK === '1';
	const pool = await proofPool();
	// BENCH_SIZES=1,2 and BENCH_MEMBERS=4,7 pick configurations; BENCH_RUNS=pipeline or libp2p one run.
	const list = (name: string) => process.env[name]?.split(',').map(Number);
	const sizes = list('BENCH_SIZES') ?? (quick ? [0.0625] : [1, 2, 4]);
	const groupSizes = list('BENCH_MEMBERS') ?? (full ? [4, 7, 10, 13] : [4, 7]);
	const runs = process.env.BENCH_RUNS?.split(',') ?? ['pipeline', 'libp2p'];
	const largest = Math.max(...sizes);
	const txs = transactions(genesis, pool, Math.ceil((largest * MB) / 400));
	const blocks = new Map(sizes.map((size) => [size, blockOf(txs, size * MB)]));
	const rows: Row[] = [];
	const threads = Math.max(1, availableParallelism());
	if (runs.includes('pipeline')) {
		const wasm = await MemberPool.start(threads, 'wasm');
		const noble = await MemberPool.start(threads, 'noble');
		console.log(
			`CPU pipeline: ${threads} member processes per back end; ${POOL_SIZE} distinct proofs reused across ${txs.length} signed transactions`
		);
		console.log(
			'pinned TPS and verification CPU: WASM back ends (libsecp256k1, mcl) beside @noble/curves (baseline), same run\n'
		);
		// Warm-up: each member process compiles its WASM and starts its proof-verification pool on one
		// small block first, so the first configuration is not charged for it.
		const warm = blockOf(txs.slice(0, quick ? 24 : 64), MB);
		for (const members of [wasm, noble]) await runBlock(members, 4, warm.batches, warm.counts, true);
		console.log(HEADER);
		try {
			for (const size of sizes)
				for (const n of groupSizes) {
					const { batches, counts } = blocks.get(size)!;
					const real = await runBlock(wasm, n, batches, counts, true);
					const baseline = await runBlock(noble, n, batches, counts, true);
					const ceiling = await runBlock(wasm, n, batches, counts, false);
					const row: Row = {
						run: 'pipeline',
						size,
						members: n,
						transactions: real.transactions,
						tps: real.tps,
						nobleTps: baseline.tps,
						p50: real.p50,
						p99: real.p99,
						msPerTx: real.verifyMsPerTx,
						nobleMsPerTx: baseline.verifyMsPerTx,
						ceilingTps: ceiling.tps,
						load: loadavg()[0]!
					};
					rows.push(row);
					console.log(formatRow(row));
					const stages = (r: RunResult) =>
						STAGES.map((stage) => `${stage} ${r.stageMsPerTx[stage].toFixed(2)}`).join(', ');
					console.log(`        CPU ms/tx by stage: ${stages(real)} (noble: ${stages(baseline)})`);
				}
		} finally {
			await wasm.stop();
			await noble.stop();
		}
	}
	if (runs.includes('libp2p')) {
		console.log(
			'\nlibp2p deployment: members as separate processes (the real FullNode), gossip over loopback, the' +
				'\nconsensus timers; every proof a fresh variant (no verdict reused); ms/tx = member process CPU / pinned tx / n'
		);
		for (const n of groupSizes) {
			let measured: Awaited<ReturnType<typeof deploymentThroughput>>;
			try {
				measured = await deploymentThroughput(
					n,
					pool,
					sizes.map((size) => ({ size, count: sum(blocks.get(size)!.counts) })),
					(line) => console.log(line)
				);
			} catch (error) {
				// One failed deployment (a set-up step timed out under load) leaves the others' rows.
				console.log(`  libp2p deployment of ${n} members failed: ${String(error).split('\n')[0]}`);
				continue;
			}
			for (const [size, d] of measured) {
				const row: Row = {
					run: 'libp2p',
					size,
					members: n,
					transactions: d.transactions,
					tps: d.tps,
					p50: d.p50,
					p99: d.p99,
					msPerTx: d.cpuMsPerTx,
					load: d.load
				};
				rows.push(row);
				console.log(
					`${formatRow(row)}\n        ${d.pinned} pinned in ${d.batches} batches, ${d.seconds.toFixed(1)} s` +
						(d.refused > 0 ? `; ${d.refused} refused at submission` : '') +
						(d.errors.length > 0 ? `; node errors: ${d.errors.join(' | ')}` : '')
				);
			}
		}
	}
	rows.sort((a, b) => a.size - b.size || a.members - b.members || b.run.localeCompare(a.run));
	console.log(`\nboth runs, by configuration (paper figures beside them)\n${HEADER}`);
	for (const row of rows) console.log(formatRow(row));
	console.log(
		'\npaper (4-core i5): 145 → 116 TPS at 1 MB for 4 → 13 members; 218 TPS at 2 MB, 4 members.' +
			'\ngoals (issue 15): ≥ 550 TPS with 4 members and ≥ 300 with 7 at 2 MB; ≥ 1,400 tx/s per core.'
	);
	await keyblockThroughput(sizes, threads, quick ? 300 : 2000);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
