/**
 * One member of the throughput bench's libp2p deployment in a process of its own: the real FullNode
 * (attack/member-node.ts) with the WASM back ends a clinic node installs. Commands arrive as JSON lines
 * on stdin (deployment-protocol.ts): mining on or off, and files of transactions to submit through the
 * node's own admission path (`FullNode.submit`: checked, then gossiped). It reports its status every
 * second, every batch it applies, and on request the latency of each tracked transaction: from the
 * moment it was handed to `submit` to the moment this node applied the certified batch that pins it.
 */
import '../../src/lib/node/polyfills.ts';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { bytesToHex, fromHex } from '../../src/lib/core/bytes.ts';
import { decodeTransaction, transactionId } from '../../src/lib/core/transaction.ts';
import { installWasmBackends } from '../../src/lib/crypto/wasm-backends.node.ts';
import { startMemberNode } from '../attack/member-node.ts';
import { MEMBER_PREFIX } from '../attack/protocol.ts';
import {
	deploymentGenesis,
	type DeploymentCommand,
	type DeploymentReport,
	type DeploymentSetup
} from './deployment-protocol.ts';

const setup = JSON.parse(process.env.SPCHAIN_ATTACK_MEMBER ?? '{}') as DeploymentSetup;
const say = (message: object) => process.stdout.write(`${MEMBER_PREFIX}${JSON.stringify(message)}\n`);
const report = (message: DeploymentReport) => say(message);

// A clean exit on SIGTERM (MemberProcess.stop), so a profile asked for by BENCH_MEMBER_FLAGS is written.
process.on('SIGTERM', () => process.exit(0));

await installWasmBackends();
const genesis = deploymentGenesis(setup.genesisTimestamp, setup.institutions, setup.groupSize);
const { net, node } = await startMemberNode(setup, genesis, setup.institutions[setup.index]!);
node.startMining();

/** Tracked transactions not pinned yet: id → when they were handed to submit (ms since epoch). */
const waiting = new Map<string, number>();
const latencies: number[] = [];
let lastPinAt = 0;
/** The node's error events by message, with how often each came (a few distinct ones kept). */
const errors = new Map<string, number>();

node.on((event) => {
	if (event.type === 'error') {
		if (errors.has(event.message) || errors.size < 5)
			errors.set(event.message, (errors.get(event.message) ?? 0) + 1);
		return;
	}
	if (event.type !== 'fact' || event.fact.type !== 'batch') return;
	const at = Date.now();
	const { pinned } = event.fact;
	for (const id of pinned.batch.transactions) {
		const key = bytesToHex(id);
		const submitted = waiting.get(key);
		if (submitted === undefined) continue;
		waiting.delete(key);
		latencies.push(at - submitted);
		lastPinAt = at;
	}
	report({ type: 'batch', sequence: pinned.sequence, count: pinned.batch.transactions.length, at });
});

setInterval(() => {
	const status = node.status();
	say({
		type: 'status',
		height: status.height,
		peers: status.peers,
		banned: net.stats().banned,
		batches: status.batches,
		patients: status.patients,
		mempool: status.mempool
	});
}, 1000);

async function submitFile(file: string, track: boolean): Promise<void> {
	const encoded = JSON.parse(readFileSync(file, 'utf8')) as string[];
	let refused = 0;
	let firstRefusal: string | undefined;
	for (const hex of encoded) {
		const tx = decodeTransaction(fromHex(hex));
		if (track) waiting.set(bytesToHex(transactionId(tx.body)), Date.now());
		try {
			await node.submit(tx);
		} catch (error) {
			refused++;
			firstRefusal ??= error instanceof Error ? error.message : String(error);
		}
	}
	report({ type: 'submitted', count: encoded.length, refused, firstRefusal, at: Date.now() });
}

// Commands run in turn (a report waits for the submissions before it).
let work: Promise<void> = Promise.resolve();
createInterface({ input: process.stdin }).on('line', (line) => {
	const command = JSON.parse(line) as DeploymentCommand;
	work = work.then(async () => {
		if (command.type === 'mining') {
			if (command.on) node.startMining();
			else node.stopMining();
		} else if (command.type === 'submit') await submitFile(command.file, command.track);
		else {
			const seen = [...errors].map(([message, count]) => `${message} (×${count})`);
			errors.clear();
			report({ type: 'latencies', latencies: latencies.splice(0), lastPinAt, errors: seen });
		}
	});
});
