/**
 * Protocol core throughput: encode / decode / hash / sign / verify per second for each structure,
 * single-threaded in Node, then the signature back ends side by side: BIP-340 verification on
 * @noble/curves and on libsecp256k1 (WASM), BLS12-381 votes on @noble/curves and on mcl (WASM).
 * Figures only.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { Ledger } from '../src/lib/core/chain.ts';
import {
	blsAggregateSignatures,
	blsKeyPairFromSeed,
	blsSign,
	blsVerify,
	blsVerifyAggregate,
	useBlsBackend
} from '../src/lib/core/consensus/bls.ts';
import { sign, useSignatureVerifier, verifySignature } from '../src/lib/core/identity.ts';
import { encodeKeyblock, decodeKeyblock, keyblockHash, checkKeyblock } from '../src/lib/core/keyblock.ts';
import {
	createPatientBlocks,
	decodePatientBlock,
	encodePatientBlock,
	patientBlockHash
} from '../src/lib/core/patient-block.ts';
import {
	checkTransaction,
	decodeTransaction,
	encodeTransaction,
	signTransaction,
	transactionId,
	type MedicalBody
} from '../src/lib/core/transaction.ts';
import { loadSchnorrWasmVerifier } from '../src/lib/crypto/schnorr-wasm.node.ts';
import { installWasmBackends } from '../src/lib/crypto/wasm-backends.node.ts';
import { clinics, mineNext, patientKeys, registerTx, testGenesis, timeOf } from '../tests/fixtures/chain.ts';

function rate(label: string, fn: () => unknown, minMs = 400): number {
	let n = 0;
	const start = performance.now();
	let elapsed = 0;
	while (elapsed < minMs) {
		for (let i = 0; i < 16; i++) fn();
		n += 16;
		elapsed = performance.now() - start;
	}
	const perSecond = (n / elapsed) * 1000;
	console.log(`${label.padEnd(40)} ${perSecond.toFixed(0).padStart(10)} ops/s`);
	return perSecond;
}

/**
 * Operations per second of this process's CPU time (not wall time): the machine is shared, and CPU
 * time is what a back end saves whatever else runs beside it.
 */
function cpuRate(label: string, fn: () => unknown, minMs: number): number {
	let n = 0;
	const start = process.cpuUsage();
	let elapsed = 0;
	while (elapsed < minMs) {
		for (let i = 0; i < 4; i++) fn();
		n += 4;
		const used = process.cpuUsage(start);
		elapsed = (used.user + used.system) / 1000;
	}
	const perSecond = (n / elapsed) * 1000;
	console.log(`${label.padEnd(48)} ${perSecond.toFixed(0).padStart(10)} ops/CPU-s`);
	return perSecond;
}

/** Each operation on @noble/curves, then on the WASM back ends, with the ratio. */
async function backends(): Promise<void> {
	const signer = patientKeys('bench signer');
	const digest = sha256(Uint8Array.of(7));
	const signature = sign(signer.secretKey, digest);
	const members = [1, 2, 3, 4].map((i) => blsKeyPairFromSeed(new Uint8Array(48).fill(i)));
	const statement = sha256(Uint8Array.of(9));
	const votes = members.map((m) => blsSign(m.secretKey, statement));
	const aggregate = blsAggregateSignatures(votes);
	const keys = members.map((m) => m.publicKey);
	let count = 0;
	const fresh = () => sha256(Uint8Array.of(count & 0xff, (count >> 8) & 0xff, (count++ >> 16) & 0xff, 1));
	const operations: [string, () => unknown, number][] = [
		['BIP-340 verify', () => verifySignature(signer.publicKey, digest, signature), 400],
		['BLS sign (vote, statement hashed once)', () => blsSign(members[0]!.secretKey, statement), 600],
		['BLS verify (one vote)', () => blsVerify(keys[0]!, statement, votes[0]!), 600],
		['BLS verify aggregate (4 signers)', () => blsVerifyAggregate(keys, statement, aggregate), 600],
		// A forged vote: its own statement each time, so hash-to-G2 is paid every time (and it fails).
		['BLS verify, new statement (forged vote)', () => blsVerify(keys[0]!, fresh(), votes[0]!), 600]
	];
	console.log('\nsignature back ends (per CPU second): @noble/curves, then WASM (libsecp256k1 / mcl)');
	const before: number[] = [];
	useSignatureVerifier(undefined);
	useBlsBackend(undefined);
	for (const [label, fn, ms] of operations) before.push(cpuRate(`${label} (noble)`, fn, ms));
	const installed = await installWasmBackends();
	// The raw verifier: a node's remembered verdicts would answer this repeated input from memory.
	useSignatureVerifier(await loadSchnorrWasmVerifier());
	for (const [i, [label, fn, ms]] of operations.entries()) {
		const after = cpuRate(`${label} (WASM)`, fn, ms);
		console.log(`${''.padEnd(48)} ${(after / before[i]!).toFixed(1).padStart(10)} × noble`);
	}
	console.log(`installed: ${installed.signatures}, ${installed.bls}`);
	useSignatureVerifier(undefined);
	useBlsBackend(undefined);
}

export default async function (): Promise<void> {
	const genesis = testGenesis();
	const aster = clinics[0]!;
	const alice = patientKeys('alice');

	const register = registerTx(genesis, alice, aster, 1);
	const medical = signTransaction<MedicalBody>(
		{
			kind: 'medical',
			patient: alice.publicKey,
			institution: aster.institution.id,
			round: 1,
			fees: genesis.fees.medical,
			record: {
				chameleon: { h: new Uint8Array(32).fill(3), proof: new Uint8Array(256).fill(4) },
				pointer: { digest: sha256(Uint8Array.of(1)), holder: aster.institution.id }
			}
		},
		alice.secretKey
	);
	for (const [name, tx] of [
		['register tx', register],
		['medical tx', medical]
	] as const) {
		const bytes = encodeTransaction(tx);
		console.log(`${name}: ${bytes.length} bytes`);
		rate(`${name} encode`, () => encodeTransaction(tx));
		rate(`${name} decode`, () => decodeTransaction(bytes));
		rate(`${name} hash (id)`, () => transactionId(tx.body));
		rate(`${name} sign`, () => signTransaction(tx.body as never, alice.secretKey));
		rate(`${name} verify (signature + rules)`, () => checkTransaction(tx, genesis.fees));
	}

	const ledger = new Ledger(genesis);
	const registers = Array.from({ length: 100 }, (_, i) =>
		registerTx(genesis, patientKeys(`p${i}`), aster, 1)
	);
	const keyblock = mineNext(ledger, aster, registers, timeOf(ledger, 1));
	const kbBytes = encodeKeyblock(keyblock);
	console.log(`keyblock with 100 registers: ${kbBytes.length} bytes`);
	rate('keyblock(100) encode', () => encodeKeyblock(keyblock), 300);
	rate('keyblock(100) decode', () => decodeKeyblock(kbBytes, 4096), 300);
	rate('keyblock header hash', () => keyblockHash(keyblock.header));
	rate('keyblock(100) verify (PoW, sigs, root)', () => checkKeyblock(keyblock, genesis.fees, 4096), 300);

	const { blocks } = createPatientBlocks(keyblock, genesis.genesisMicroblock, genesis.institutions);
	const pb = blocks[0]!;
	const pbBytes = encodePatientBlock(pb);
	console.log(`empty patient block: ${pbBytes.length} bytes`);
	rate('patient block encode', () => encodePatientBlock(pb));
	rate('patient block decode', () => decodePatientBlock(pbBytes, 64));
	rate('patient block hash', () => patientBlockHash(pb.header));
	rate(
		'patient blocks created per round (100)',
		() => createPatientBlocks(keyblock, genesis.genesisMicroblock, genesis.institutions),
		300
	);
	await backends();
}
