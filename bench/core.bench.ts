/**
 * Protocol core throughput: encode / decode / hash / sign / verify per second for each structure,
 * single-threaded in Node. Figures only.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { Ledger } from '../src/lib/core/chain.ts';
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
import { clinics, mineNext, patientKeys, registerTx, testGenesis, timeOf } from '../tests/fixtures/chain.ts';

function rate(label: string, fn: () => unknown, minMs = 400): void {
	let n = 0;
	const start = performance.now();
	let elapsed = 0;
	while (elapsed < minMs) {
		for (let i = 0; i < 16; i++) fn();
		n += 16;
		elapsed = performance.now() - start;
	}
	console.log(`${label.padEnd(40)} ${((n / elapsed) * 1000).toFixed(0).padStart(10)} ops/s`);
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
}
