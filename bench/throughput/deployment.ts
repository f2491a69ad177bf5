/**
 * The libp2p deployment of the throughput bench: the n members of a consensus group as separate
 * processes (deployment-member.ts, the real FullNode with its unmodified rules), gossiping over real
 * libp2p on loopback (WebSockets, gossipsub, each member dialling the others directly) with the
 * consensus machine's own timers. The genesis names the n members first and Aster, the records'
 * author, after them (deployment-protocol.ts).
 *
 * Set-up: the members mine keyblocks until one carries the registrations of the bench's 256 patients
 * (submitted to the first member), then stop mining, so the measurement is of pinned transactions
 * alone and the 2 cores are not shared with n miners. Then, for each block size, the transactions of
 * that block (the same count as the CPU pipeline's row, each proof a fresh variant of a pooled one, so that every one
 * is a statement the nodes have not verified before: rerandomize.ts) are split round-robin over the members,
 * each of which submits its share through its node's admission path at once (a backlog). The members
 * agree batches of up to the node's T_m (512) transactions one after another, as many as the block
 * needs. Measured: pinned TPS (transactions / time from the first submission to the last pin), the
 * latency of each transaction from its submission to its member applying the certified batch, and the
 * CPU of the member processes (from /proc, worker threads included: everything a member does, not only
 * verification) per pinned transaction and member.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { bytesToHex } from '../../src/lib/core/bytes.ts';
import { encodeTransaction, type Transaction } from '../../src/lib/core/transaction.ts';
import { loadVerificationKey } from '../../src/lib/crypto/artifacts.node.ts';
import { freePort, MemberProcess } from '../attack/member-process.ts';
import {
	deploymentGenesis,
	GROUP_NAMES,
	type DeploymentCommand,
	type DeploymentReport,
	type DeploymentSetup
} from './deployment-protocol.ts';
import { ProofVariants } from './rerandomize.ts';
import { aster, patientRegisters, transactions, type PoolEntry } from './transactions.ts';

/** Each set-up step's limit: generous, since under other jobs' load the members get little CPU. */
const SETUP_TIMEOUT_MS = 600_000;
const MEMBER_SCRIPT = new URL('./deployment-member.ts', import.meta.url).pathname;

export interface DeploymentRow {
	transactions: number;
	pinned: number;
	batches: number;
	seconds: number;
	tps: number;
	p50: number;
	p99: number;
	/** CPU ms of a member process per pinned transaction (mean over members). */
	cpuMsPerTx: number;
	load: number;
	refused: number;
	errors: string[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean, timeoutMs: number, members: MemberProcess[]) {
	const deadline = Date.now() + timeoutMs;
	while (!condition()) {
		const gone = members.find((m) => m.exited);
		if (gone) throw new Error(`a member exited while waiting for ${what}:\n${gone.lastErrors()}`);
		if (Date.now() > deadline)
			throw new Error(
				`timed out waiting for ${what}: ${members.map((m) => JSON.stringify(m.status)).join(' ')}\n${members[0]!.lastErrors()}`
			);
		await sleep(250);
	}
}

/** The next report of `type` from `member`. */
function next<T extends DeploymentReport['type']>(
	member: MemberProcess,
	type: T
): Promise<Extract<DeploymentReport, { type: T }>> {
	return new Promise((resolve) => {
		const off = member.onReport((report) => {
			if (report.type !== type) return;
			off();
			resolve(report as Extract<DeploymentReport, { type: T }>);
		});
	});
}

/** Runs one deployment of n members and measures each block size on it, in turn. */
export async function deploymentThroughput(
	n: number,
	pool: PoolEntry[],
	blocks: { size: number; count: number }[],
	log: (line: string) => void
): Promise<Map<number, DeploymentRow>> {
	const names = [...GROUP_NAMES.slice(0, n), aster.name];
	const genesisTimestamp = Date.now() - 60_000;
	const genesis = deploymentGenesis(genesisTimestamp, names, n);
	const keys = await Promise.all(names.slice(0, n).map(() => generateKeyPair('Ed25519')));
	const ids = keys.map((k) => peerIdFromPrivateKey(k).toString());
	const ports: number[] = [];
	for (let i = 0; i < n; i++) ports.push(await freePort());
	const address = (i: number) => `/ip4/127.0.0.1/tcp/${ports[i]}/ws/p2p/${ids[i]}`;
	const dir = await mkdtemp(join(tmpdir(), 'spchain-throughput-'));
	const members: MemberProcess[] = [];
	const send = (member: MemberProcess, command: DeploymentCommand) => member.send(JSON.stringify(command));
	const results = new Map<number, DeploymentRow>();
	try {
		for (let i = 0; i < n; i++) {
			const setup: DeploymentSetup = {
				index: i,
				storeDir: join(dir, `member-${i}`),
				bootstrap: ids
					.map((_, j) => j)
					.filter((j) => j !== i)
					.map(address),
				listen: [`/ip4/127.0.0.1/tcp/${ports[i]}/ws`],
				genesisTimestamp,
				privateKey: bytesToHex(privateKeyToProtobuf(keys[i]!)),
				protectedIds: ids,
				institutions: names,
				groupSize: n
			};
			members.push(MemberProcess.spawn(setup, MEMBER_SCRIPT));
		}
		const started = Date.now();
		await until(
			'the members to connect and pin keyblock 1',
			() => members.every((m) => m.status.peers >= n - 1 && m.status.height >= 1),
			SETUP_TIMEOUT_MS,
			members
		);
		// The patients register in a keyblock (the next one mined), then mining stops.
		const registers = patientRegisters(genesis, members[0]!.status.height);
		const registerFile = join(dir, 'registers.json');
		await writeFile(registerFile, JSON.stringify(registers.map((tx) => bytesToHex(encodeTransaction(tx)))));
		send(members[0]!, { type: 'submit', file: registerFile, track: false });
		await until(
			'the patients’ registrations',
			() => members.every((m) => (m.status.patients ?? 0) >= registers.length),
			SETUP_TIMEOUT_MS,
			members
		);
		for (const m of members) send(m, { type: 'mining', on: false });
		// A keyblock already being agreed may still be pinned: wait until every height is the same for 2 s.
		let stable = 0;
		let last = -1;
		while (stable < 2) {
			await sleep(1000);
			const heights = new Set(members.map((m) => m.status.height));
			const height = members[0]!.status.height;
			stable = heights.size === 1 && height === last ? stable + 1 : 0;
			last = height;
		}
		const round = last;
		log(
			`  libp2p deployment of ${n} members ready in ${((Date.now() - started) / 1000).toFixed(0)} s ` +
				`(keyblock ${round}, ${registers.length} patients registered; mining stopped)`
		);

		const variants = new ProofVariants(await loadVerificationKey());
		for (const { size, count } of blocks) {
			const txs = transactions(genesis, pool, count, {
				round: () => round,
				proof: (entry) => variants.next(entry.hash.proof)
			});
			const shares: Transaction[][] = members.map(() => []);
			for (const [i, tx] of txs.entries()) shares[i % n]!.push(tx);
			const files = await Promise.all(
				shares.map(async (share, i) => {
					const file = join(dir, `share-${size}-${i}.json`);
					await writeFile(file, JSON.stringify(share.map((tx) => bytesToHex(encodeTransaction(tx)))));
					return file;
				})
			);
			// Transactions pinned per member since the start (each member applies every batch itself).
			const pinned = members.map(() => 0);
			let batches = 0;
			const offs = members.map((m, i) =>
				m.onReport((report) => {
					if (report.type !== 'batch') return;
					pinned[i] = pinned[i]! + (report as Extract<DeploymentReport, { type: 'batch' }>).count;
					if (i === 0) batches++;
				})
			);
			const submitted = members.map((m) => next(m, 'submitted'));
			const cpuBefore = members.map((m) => m.cpuSeconds());
			const start = Date.now();
			for (const [i, m] of members.entries()) send(m, { type: 'submit', file: files[i]!, track: true });
			const refused = (await Promise.all(submitted)).reduce((sum, s) => sum + s.refused, 0);
			// Generous: the 1 MB row needed more than 453 s at load 20 (1,536 of 1,665 pinned by then).
			const timeoutMs = 300_000 + count * 500;
			const deadline = start + timeoutMs;
			while (
				pinned.some((p) => p < count - refused) &&
				Date.now() < deadline &&
				!members.some((m) => m.exited)
			)
				await sleep(250);
			for (const off of offs) off();
			const cpu = members.reduce((sum, m, i) => sum + m.cpuSeconds() - cpuBefore[i]!, 0);
			const answers = members.map((m) => next(m, 'latencies'));
			for (const m of members) send(m, { type: 'report' });
			const reports = await Promise.all(answers);
			const latencies = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
			const end = Math.max(...reports.map((r) => r.lastPinAt));
			const seconds = (end - start) / 1000;
			const quantile = (q: number) =>
				(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN) / 1000;
			results.set(size, {
				transactions: count,
				pinned: latencies.length,
				batches,
				seconds,
				tps: latencies.length / seconds,
				p50: quantile(0.5),
				p99: quantile(0.99),
				cpuMsPerTx: (cpu * 1000) / Math.max(1, latencies.length) / n,
				load: loadavg()[0]!,
				refused,
				errors: summarize(reports.flatMap((r) => r.errors))
			});
			if (latencies.length < count)
				log(
					`  ${size} MB, ${n} members: only ${latencies.length} of ${count} pinned in ${timeoutMs / 1000} s`
				);
		}
	} finally {
		await Promise.all(members.map((m) => m.stop()));
		await rm(dir, { recursive: true, force: true });
	}
	return results;
}

/** The members' error lines, alike ones (up to their numbers) counted together. */
function summarize(errors: string[]): string[] {
	const counts = new Map<string, number>();
	for (const line of errors) {
		const [, message = line, count = '1'] = /^(.*) \(×(\d+)\)$/.exec(line) ?? [];
		const key = message.replace(/\d+/g, 'N');
		counts.set(key, (counts.get(key) ?? 0) + Number(count));
	}
	return [...counts].map(([message, count]) => `${message} (×${count})`);
}
