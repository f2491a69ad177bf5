/**
 * Restart without re-verifying (verified-journal.ts, ChainState.open): a chain of real facts (PoW
 * keyblocks with BLS pins, a pinned batch, an attachment with Groth16 proofs) is written to the LevelDB
 * store, then reopened intact (restored, no proof verified, every lookup answered as the verifying node
 * did), with its journal edited (verified in full, the edit refused), with its derived values edited
 * (verified in full, derived again), in older layouts, without a head (verified once, restored after)
 * and cut short.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChameleonVerifier } from '../core/chameleon.ts';
import { decodeKeyblock, encodeKeyblock } from '../core/keyblock.ts';
import { decodePinnedBatch, pinnedBatchId } from '../core/pinning.ts';
import type { LeafRecord } from '../core/patient-block.ts';
import { loadVerificationKey } from '../crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../crypto/batch-verifier.ts';
import type { ChameleonProver } from '../crypto/chameleon-prover.ts';
import { createNodeProver } from '../crypto/prover.node.ts';
import { openStore } from '../store/store.node.ts';
import { clinics, mineNext } from '../../../tests/fixtures/chain.ts';
import {
	alice,
	buildSmallChain,
	clock,
	genesis,
	group,
	NOW,
	pinned
} from '../../../tests/fixtures/small-chain.ts';
import { decodeFact } from './chain-fact.ts';
import { ChainState } from './chain-state.ts';
import { readStoredJournal } from './stored-journal.ts';
import {
	checkJournal,
	derivedKey,
	EMPTY_HEAD,
	extendHead,
	headWrite,
	VERIFIED_HEAD_KEY
} from './verified-journal.ts';

let prover: ChameleonProver;
let inner: Groth16BatchVerifier;
let proofsVerified = 0;
const cedar = clinics[2]!;
const verifier: ChameleonVerifier = {
	async verifyAll(statements) {
		proofsVerified += statements.length;
		return inner.verifyAll(statements);
	}
};
const dirs: string[] = [];
let original: string;
let txId: Uint8Array;
let verifiedBalances: Map<string, bigint>;
let verifiedLeaves: LeafRecord[];
let verifiedLookups: ReturnType<typeof lookups>;

/** What a node answers of its chain from the Ledger's indexes and the patient blocks' headers. */
function lookups(chain: ChainState) {
	const { ledger } = chain;
	const heights = Array.from({ length: ledger.height }, (_, i) => i + 1);
	return {
		keyblocks: heights.map((h) => ({ hash: ledger.keyblock(h)!.hash, microTip: ledger.microTip(h) })),
		tip: ledger.tipHash,
		header: ledger.patientBlock(alice.publicKey)!.header,
		blockHash: ledger.patientBlockHash(alice.publicKey),
		pin: ledger.pinOf(txId),
		sequence: ledger.pinnedSequence(txId),
		pinned: chain.isPinned(txId),
		location: ledger.recordLocation(txId),
		author: ledger.recordAuthorKey(txId),
		batches: Array.from({ length: chain.batchCount }, (_, i) => chain.batch(i + 1)),
		unknown: [ledger.pinOf(new Uint8Array(32)), ledger.recordLocation(new Uint8Array(32))]
	};
}

/** A copy of the original chain's store directory, to edit and reopen. */
async function copyOfChain(): Promise<string> {
	const dir = await mkdtemp(join(tmpdir(), 'spchain-verified-'));
	dirs.push(dir);
	await cp(original, dir, { recursive: true });
	return dir;
}

async function open(dir: string) {
	const store = await openStore(dir);
	proofsVerified = 0;
	try {
		return { chain: await ChainState.open({ genesis, store, group, verifier, clock }), store };
	} catch (error) {
		await store.close();
		throw error;
	}
}

beforeAll(async () => {
	prover = await createNodeProver();
	inner = await Groth16BatchVerifier.create(await loadVerificationKey());
	original = await mkdtemp(join(tmpdir(), 'spchain-verified-'));
	dirs.push(original);
	const store = await openStore(original);
	let chain;
	({ chain, txId } = await buildSmallChain(store, prover, verifier));
	verifiedBalances = chain.accounts.all();
	verifiedLeaves = chain.ledger.patientBlock(alice.publicKey)!.leaves.map((l) => ({ ...l }));
	verifiedLookups = lookups(chain);
	await store.close();
}, 180_000);

afterAll(async () => {
	await prover.close();
	for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('restart without re-verifying', () => {
	it('restores an intact journal without verifying a proof, to the state verification built', async () => {
		const dir = await copyOfChain();
		const { chain, store } = await open(dir);
		expect(chain.opened).toBe('restored');
		expect(chain.distrust).toBeUndefined();
		expect(proofsVerified).toBe(0);
		expect(chain.height).toBe(2);
		expect(chain.batchCount).toBe(1);
		expect(chain.isPinned(txId)).toBe(true);
		expect(chain.ledger.recordLocation(txId)).toMatchObject({ leaf: 0, index: 0 });
		// Its indexes and the patient blocks' headers (hashes restored from the derived values) answer
		// every lookup as the verifying node's did.
		expect(lookups(chain)).toEqual(verifiedLookups);
		expect(verifiedLookups.sequence).toBe(1);
		// The restored leaves keep their entries encoded; read, they are the entries verified (encoded-leaf.ts).
		const leaves = chain.ledger.patientBlock(alice.publicKey)!.leaves;
		expect(leaves[0]!.entries).toHaveLength(1);
		expect(leaves.map((l) => ({ ...l }))).toEqual(verifiedLeaves);
		// Balances are replayed from the restored facts: fees debited, rewards credited as when verified.
		expect(chain.accounts.all()).toEqual(verifiedBalances);
		// The restored state is the whole state: the next keyblock is checked against it and applies,
		// and facts already there (keyblocks, the batch read without cborg, the attachment keyed by the
		// head check's digest of its ids) are known.
		const next = pinned(mineNext(chain.ledger, cedar, [], NOW - 500));
		expect(await chain.apply({ type: 'keyblock', block: next })).toBe('applied');
		const types: string[] = [];
		for await (const fact of chain.journal(0)) {
			types.push(fact.type);
			expect(await chain.apply(decodeFact(fact.type, fact.bytes, genesis))).toBe('known');
		}
		expect(types).toEqual(expect.arrayContaining(['keyblock', 'batch', 'attachment']));
		await store.close();
		// The head now covers the fact applied after the restore.
		const again = await open(dir);
		expect(again.chain.opened).toBe('restored');
		expect(again.chain.height).toBe(3);
		await again.store.close();
	});

	it('verifies an edited journal in full and refuses the edit', async () => {
		const dir = await copyOfChain();
		const store = await openStore(dir);
		// Keyblock 2 with keyblock 1's certificate: well-formed bytes that only verification refuses.
		const [[, first], [at, second]] = (await store.list('keyblocks')) as [
			[string, Uint8Array],
			[string, Uint8Array]
		];
		const k1 = decodeKeyblock(first, genesis.maxRegistersPerKeyblock);
		const k2 = decodeKeyblock(second, genesis.maxRegistersPerKeyblock);
		await store.write([{ table: 'keyblocks', key: at, value: encodeKeyblock({ ...k2, pin: k1.pin }) }]);
		await store.close();
		await expect(open(dir)).rejects.toMatchObject({ name: 'ValidationError' });
	});

	it('verifies a journal whose head is missing, then writes the head and restores next time', async () => {
		const dir = await copyOfChain();
		let store = await openStore(dir);
		await store.write([{ table: 'meta', key: VERIFIED_HEAD_KEY, value: null }]);
		await store.close();
		let opened = await open(dir);
		expect(opened.chain).toMatchObject({ opened: 'verified', distrust: 'no-head', height: 2 });
		expect(proofsVerified).toBe(2); // the record's proof and the leaf's
		await opened.store.close();
		opened = await open(dir);
		expect(opened.chain).toMatchObject({ opened: 'restored', height: 2 });
		expect(proofsVerified).toBe(0);
		await opened.store.close();
		// A damaged head is no head.
		store = await openStore(dir);
		await store.write([{ table: 'meta', key: VERIFIED_HEAD_KEY, value: new Uint8Array(40).fill(7) }]);
		await store.close();
		opened = await open(dir);
		expect(opened.chain).toMatchObject({ opened: 'verified', distrust: 'length' });
		await opened.store.close();
	});

	it('verifies a journal whose stored derived values were edited, and derives them again', async () => {
		// Keyblock 1's derived value: its hash, then alice's block's institution root, register id and hash.
		const key = derivedKey(0);
		for (const part of [0, 1, 2, 3]) {
			const dir = await copyOfChain();
			const store = await openStore(dir);
			const derived = (await store.get('meta', key))!;
			expect(derived).toHaveLength(4 * 32);
			const edited = derived.slice();
			edited.fill(1, part * 32, part * 32 + 32);
			await store.write([{ table: 'meta', key, value: edited }]);
			await store.close();
			let opened = await open(dir);
			expect(opened.chain).toMatchObject({ opened: 'verified', distrust: 'hash', height: 2 });
			expect(lookups(opened.chain)).toEqual(verifiedLookups);
			await opened.store.close();
			opened = await open(dir);
			expect(opened.chain.opened).toBe('restored');
			expect(lookups(opened.chain)).toEqual(verifiedLookups);
			expect(opened.chain.ledger.patientBlock(alice.publicKey)!.header.institutionRoot).toEqual(
				derived.subarray(32, 64)
			);
			await opened.store.close();
		}
	});

	it('verifies a journal whose stored batch id or attachment ids were edited, and indexes the ids again', async () => {
		for (const table of ['certificates', 'patientBlocks'] as const) {
			const dir = await copyOfChain();
			const store = await openStore(dir);
			const [[at]] = (await store.list(table)) as [[string, Uint8Array]];
			const key = derivedKey(Number(at));
			const derived = (await store.get('meta', key))!;
			expect(derived).toHaveLength(32); // the batch's id; the attachment's one transaction id
			await store.write([{ table: 'meta', key, value: new Uint8Array(32).fill(2) }]);
			await store.close();
			const opened = await open(dir);
			expect(opened.chain).toMatchObject({ opened: 'verified', distrust: 'hash' });
			expect(lookups(opened.chain)).toEqual(verifiedLookups);
			expect(await opened.store.get('meta', key)).toEqual(derived);
			await opened.store.close();
		}
	});

	it('restores a journal whose keyblocks kept only their roots as derived values, to the same blocks', async () => {
		const dir = await copyOfChain();
		const store = await openStore(dir);
		const key = derivedKey(0);
		const derived = (await store.get('meta', key))!;
		// As a node left it before keyblocks kept their hashes: the roots alone, and a head over them.
		await store.write([{ table: 'meta', key, value: derived.slice(32, 64) }]);
		const { journal } = await readStoredJournal(store);
		await store.write([headWrite((await checkJournal(journal, undefined)).head)]);
		await store.close();
		const opened = await open(dir);
		expect(opened.chain).toMatchObject({ opened: 'restored', height: 2 });
		expect(lookups(opened.chain)).toEqual(verifiedLookups);
		await opened.store.close();
	});

	it('restores a journal written before batches kept their id as derived value, and serves the same id', async () => {
		const dir = await copyOfChain();
		const store = await openStore(dir);
		const [[at]] = (await store.list('certificates')) as [[string, Uint8Array]];
		const key = derivedKey(Number(at));
		const id = (await store.get('meta', key))!;
		expect(id).toEqual(pinnedBatchId(decodePinnedBatch((await store.get('certificates', at))!)));
		// As such a node left it: no derived row for the batch, and a head over an empty one.
		await store.write([{ table: 'meta', key, value: null }]);
		const { journal } = await readStoredJournal(store);
		await store.write([headWrite((await checkJournal(journal, undefined)).head)]);
		await store.close();
		const opened = await open(dir);
		expect(opened.chain).toMatchObject({ opened: 'restored', batchCount: 1 });
		expect(opened.chain.ledger.pinOf(txId)).toEqual(id);
		await opened.store.close();
	});

	it('verifies a journal that lost its last fact (the head counts more facts than are there)', async () => {
		const dir = await copyOfChain();
		const store = await openStore(dir);
		const [[at]] = (await store.list('patientBlocks')) as [[string, Uint8Array]];
		await store.write([{ table: 'patientBlocks', key: at, value: null }]);
		await store.close();
		const { chain, store: reopened } = await open(dir);
		expect(chain).toMatchObject({ opened: 'verified', distrust: 'length', height: 2, length: 3 });
		expect(chain.ledger.patientBlock(alice.publicKey)!.leaves[0]!.entries).toHaveLength(0);
		await reopened.close();
	});

	it('hash chain: any change to a fact, its type or its position changes the head', async () => {
		const facts = [1, 2, 3].map((n) => ({ position: n - 1, type: n % 5, bytes: new Uint8Array([n, n]) }));
		const { head } = await checkJournal(facts, undefined);
		expect((await checkJournal(facts, head)).distrust).toBeUndefined();
		const changed = [
			facts.map((f, i) => (i === 1 ? { ...f, bytes: new Uint8Array([2, 3]) } : f)),
			facts.map((f, i) => (i === 1 ? { ...f, type: 4 } : f)),
			[facts[0]!, { ...facts[2]!, position: 1 }, { ...facts[1]!, position: 2 }]
		];
		for (const journal of changed) expect((await checkJournal(journal, head)).distrust).toBe('hash');
		expect((await checkJournal(facts.slice(0, 2), head)).distrust).toBe('length');
		expect((await checkJournal([facts[0]!, facts[2]!], head)).distrust).toBe('length');
		expect((await extendHead(EMPTY_HEAD, 0, 1, new Uint8Array([1, 1]))).hash).toEqual(
			(await checkJournal(facts.slice(0, 1), undefined)).head.hash
		);
	});
});
