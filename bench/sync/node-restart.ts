/**
 * The sync bench's restart: a clinic node's process opening the store a synced node left (LevelDB, in
 * the directory the bench passes) and its chain, as clinic-node.ts does on every start, and reporting
 * on stdout how long that took, how the chain was opened (restored from the verified journal, or
 * verified again), and the process's memory while it holds that chain:
 *   RESTART {"openStoreMs", "openChainMs", "opened", "height", …, "rssBytes", "heapBytes", "diskBytes",
 *            "light": {"syncMs", "storedBytes", …}}
 * and, from that node, a light client's catch-up (hand-overs and batch headers) and the verification of
 * one patient's records (runtime/light-client.ts).
 * `--tamper` first rewrites one stored keyblock with another's certificate, to time (and show) the
 * re-verification an edited journal gets instead (it is refused).
 *
 *   node --expose-gc --import tsx bench/sync/node-restart.ts <store dir> [--tamper | --synthetic]
 */
import '../../src/lib/node/polyfills.ts';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ChameleonVerifier } from '../../src/lib/core/chameleon.ts';
import { devGenesis } from '../../tests/fixtures/genesis-dev.ts';
import { decodeKeyblock, encodeKeyblock } from '../../src/lib/core/keyblock.ts';
import { loadVerificationKey } from '../../src/lib/crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../../src/lib/crypto/batch-verifier.ts';
import { terminateCurve } from '../../src/lib/crypto/snark.node.ts';
import { installWasmBackends } from '../../src/lib/crypto/wasm-backends.node.ts';
import { epochOf } from '../../src/lib/core/consensus/membership.ts';
import { ChainState } from '../../src/lib/runtime/chain-state.ts';
import { LightClient, lightFacts, recordProver } from '../../src/lib/runtime/light-client.ts';
import { genesisGroup } from '../../src/lib/runtime/genesis-group.ts';
import { openStore } from '../../src/lib/store/store.node.ts';

const [dir, flag] = process.argv.slice(2) as [string, string | undefined];
const genesis = devGenesis();

function diskBytes(path: string): number {
	let total = 0;
	for (const entry of readdirSync(path, { withFileTypes: true }))
		total += entry.isDirectory() ? diskBytes(join(path, entry.name)) : statSync(join(path, entry.name)).size;
	return total;
}

if (flag === '--tamper') {
	const store = await openStore(dir);
	const rows = await store.list('keyblocks');
	const first = decodeKeyblock(rows[0]![1], genesis.maxRegistersPerKeyblock);
	const [at, bytes] = rows[rows.length - 1]!;
	const last = decodeKeyblock(bytes, genesis.maxRegistersPerKeyblock);
	await store.write([{ table: 'keyblocks', key: at, value: encodeKeyblock({ ...last, pin: first.pin }) }]);
	await store.close();
}

// The back ends (and the native SHA-256 of the journal) and the verifier a clinic node opens with:
// loading them is part of its start, not of opening the chain.
await installWasmBackends();
const inner = await Groth16BatchVerifier.create(await loadVerificationKey());
let proofs = 0;
const verifier: ChameleonVerifier = {
	verifyAll: (statements) => {
		proofs += statements.length;
		return inner.verifyAll(statements);
	}
};
/**
 * A light client (a phone) catching up from this node: the hand-overs and batch headers it is served
 * (computed here, not timed), verified by the client (timed), then every record of one patient verified
 * from its inclusion proof. In process: the network is not part of this figure.
 */
async function lightClientRun(chain: ChainState) {
	const facts = lightFacts(chain);
	const started = performance.now();
	const light = new LightClient(genesis, genesisGroup(genesis));
	// Hand-overs and batches in the order the chain needs them: each batch after the epochs it names.
	let h = 0;
	for (const header of facts.batches) {
		const previous = facts.batches[header.sequence - 2];
		const epoch = previous ? epochOf(Math.max(1, previous.round), chain.membershipParams) : 0;
		while (light.epochs <= epoch) light.applyHandover(facts.handovers[h++]!);
		light.applyBatch(header);
	}
	while (h < facts.handovers.length) light.applyHandover(facts.handovers[h++]!);
	const syncMs = performance.now() - started;
	const patient = [...chain.ledger.patientBlocks()].find((b) => b.leaves.some((l) => l.entries.length > 0));
	const entries = patient ? patient.leaves.flatMap((l) => l.entries) : [];
	const prove = recordProver(chain);
	const proofs = entries.map((entry) => prove(entry)!);
	const verifyStarted = performance.now();
	entries.forEach((entry, i) => light.verifyRecord(entry, proofs[i]!));
	return {
		syncMs,
		storedBytes: light.storedBytes,
		handovers: facts.handovers.length,
		batches: facts.batches.length,
		records: entries.length,
		verifyMs: performance.now() - verifyStarted
	};
}

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const store = await openStore(dir);
const t1 = performance.now();
let result: Record<string, unknown>;
try {
	const chain = await ChainState.open({ genesis, store, group: genesisGroup(genesis), verifier });
	const t2 = performance.now();
	// CPU of this process (all its threads) while it opened: what the restart costs whatever else runs.
	const cpu = process.cpuUsage(cpu0);
	globalThis.gc?.();
	const memory = process.memoryUsage();
	// A synthetic store (synthetic-store.ts) holds certificates of other values: no light client on it.
	const light = flag === '--synthetic' ? null : await lightClientRun(chain);
	result = {
		openStoreMs: t1 - t0,
		openChainMs: t2 - t1,
		cpuMs: (cpu.user + cpu.system) / 1000,
		opened: chain.opened,
		distrust: chain.distrust ?? null,
		proofsVerified: proofs,
		facts: chain.length,
		height: chain.height,
		batches: chain.batchCount,
		patients: chain.ledger.patientCount,
		rssBytes: memory.rss,
		heapBytes: memory.heapUsed,
		diskBytes: diskBytes(dir),
		light
	};
} catch (error) {
	result = { refused: String(error), openChainMs: performance.now() - t1, proofsVerified: proofs };
}
process.stdout.write(`RESTART ${JSON.stringify(result)}\n`);
await store.close();
await terminateCurve();
process.exit(0);
