/**
 * The sync bench's Node full node, run as a child process (libp2p needs --experimental-websocket): a
 * fresh FullNode of the development genesis, as a headless clinic node runs it (the LevelDB store in the
 * directory the bench passes and removes, the Groth16 batch verifier, no institution role), dials the
 * serving peer, syncs its whole journal certificate-first (runtime/certified-sync.ts), and reports on stdout:
 *   PROGRESS {"received", "total", "height", "verified", "seconds"}   every 10 s
 *   RESULT {…}   once every fact is verified: `usableSeconds` when every fact was applied certified
 *                (the chain answers reads), `seconds` when every signature and proof was verified
 * The verifier is wrapped to time the Groth16 batch verification the sync does; after the sync, a few
 * of the chain's own signatures, pins and transaction ids are timed alone so the report can say where
 * the time goes (estimates: count × cost of one).
 *
 *   node --experimental-websocket --import tsx bench/sync/node-sync.ts <peer multiaddr> <facts> <dir>
 */
import '../../src/lib/node/polyfills.ts';
import type { ChameleonVerifier } from '../../src/lib/core/chameleon.ts';
import { devGenesis } from '../../tests/fixtures/genesis-dev.ts';
import { keyblockHash } from '../../src/lib/core/keyblock.ts';
import { decodePin, verifyKeyblockPin } from '../../src/lib/core/pinning.ts';
import { checkTransaction, transactionId, type Transaction } from '../../src/lib/core/transaction.ts';
import { loadVerificationKey } from '../../src/lib/crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../../src/lib/crypto/batch-verifier.ts';
import { installWasmBackends } from '../../src/lib/crypto/wasm-backends.node.ts';
import { loadSchnorrWasmVerifier } from '../../src/lib/crypto/schnorr-wasm.node.ts';
import { useSignatureVerifier } from '../../src/lib/core/identity.ts';
import { terminateCurve } from '../../src/lib/crypto/snark.node.ts';
import { createPeerNet } from '../../src/lib/net/peer-net.node.ts';
import { FullNode } from '../../src/lib/runtime/full-node.ts';
import { openStore } from '../../src/lib/store/store.node.ts';

const [peer, expectedText, dir] = process.argv.slice(2) as [string, string, string];
const expected = Number(expectedText);
const genesis = devGenesis();
// The WASM signature and BLS back ends, as a headless clinic node installs them (clinic-node.ts).
await installWasmBackends();
const inner = await Groth16BatchVerifier.create(await loadVerificationKey());
let verifyMs = 0;
let proofs = 0;
const verifier: ChameleonVerifier = {
	async verifyAll(statements) {
		const started = performance.now();
		try {
			return await inner.verifyAll(statements);
		} finally {
			verifyMs += performance.now() - started;
			proofs += statements.length;
		}
	}
};
const store = await openStore(dir);

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const seconds = (at = performance.now()) => (at - t0) / 1000;
const net = await createPeerNet({ bootstrap: [peer] });
const node = await FullNode.start({ genesis, store, net, verifier });
const errors: string[] = [];
let firstFact: number | undefined;
const done = new Promise<number>((resolve) => {
	const check = () => {
		if (firstFact === undefined && node.chain.length > 0) firstFact = performance.now();
		if (node.chain.length >= expected) resolve(performance.now());
	};
	node.on((event) => {
		if (event.type === 'error') errors.push(event.message);
		check();
	});
	check();
});
const ticker = setInterval(() => {
	const sync = node.status().syncing;
	process.stdout.write(
		`PROGRESS ${JSON.stringify({ received: sync?.received ?? node.chain.length, total: sync?.total ?? expected, height: node.chain.height, verified: node.chain.verification.verifiedLength, seconds: seconds() })}\n`
	);
}, 10_000);
const usable = await done;
await node.chain.verification.settled();
const end = performance.now();
const verification = node.chain.verification.progress();
if (verification.state !== 'verified') errors.push(`verification ended ${JSON.stringify(verification)}`);
clearInterval(ticker);
// CPU of this process and its threads (the curve's pool included) while it synced: on a shared machine
// this says what the sync costs whatever else runs.
const cpu = process.cpuUsage(cpu0);

const { ledger } = node.chain;
let records = 0;
const sample: Transaction[] = [];
for (const block of ledger.patientBlocks())
	for (const leaf of block.leaves) {
		records += leaf.entries.length;
		for (const entry of leaf.entries.slice(0, 2)) if (sample.length < 300) sample.push(entry.tx);
	}

// ---- costs of one operation, measured alone on the chain's own data (for the breakdown)
// (signatures on the WASM back end without its remembered verdicts: the sync checked these already)
useSignatureVerifier(await loadSchnorrWasmVerifier());
const per = (runs: number, fn: (i: number) => void) => {
	const started = performance.now();
	for (let i = 0; i < runs; i++) fn(i);
	return (performance.now() - started) / runs;
};
const signatureMs = per(sample.length, (i) => checkTransaction(sample[i]!, genesis.fees));
const txIdMs = per(3000, (i) => transactionId(sample[i % sample.length]!.body));
const pinMs = per(20, (i) => {
	const { block } = ledger.keyblock(i + 1)!;
	verifyKeyblockPin(
		decodePin(block.pin!),
		{ height: i + 1, keyblockHash: keyblockHash(block.header) },
		node.chain.groupFor(i + 1)!
	);
});

process.stdout.write(
	`RESULT ${JSON.stringify({
		seconds: seconds(end),
		usableSeconds: seconds(usable),
		signaturesVerified: verification.signatures,
		streamSeconds: firstFact === undefined ? null : (usable - firstFact) / 1000,
		cpuSeconds: (cpu.user + cpu.system) / 1e6,
		facts: node.chain.length,
		height: node.chain.height,
		batches: node.chain.batchCount,
		patients: ledger.patientCount,
		records,
		proofs,
		verifySeconds: verifyMs / 1000,
		signatureMs,
		txIdMs,
		pinMs,
		rssBytes: process.memoryUsage().rss,
		errors
	})}\n`
);
await node.stop();
await net.stop();
await store.close();
await terminateCurve();
process.exit(0);
