/**
 * The restart half of the sync bench at the full chain's size when that chain is not generated (it
 * takes the better part of an hour here): a node's LevelDB store holding a journal of the full chain's
 * shape (1,000 keyblocks of 10 registers, 200 batches of 500 ids, 1,000 attachments of 100 records,
 * 99 hand-overs: 100,000 transactions), written as a node that had verified it would have left it (facts,
 * derived values, verified head), so a restart restores it.
 *
 * Its facts are copies of the cached quick chain's real facts (their real encodings, proofs and
 * certificates) with what must differ to be distinct changed: heights, patients (fresh keys), record
 * digests, batch ids. Their signatures, PoW and certificates therefore do not verify: this store times
 * a restore, which checks none of them, and must never be served or verified (the bench only reopens
 * it). Memory and restart time depend on the sizes and counts, which are the full chain's.
 *
 *   node --import tsx bench/sync/synthetic-store.ts <template journal.bin> <store dir> [<writes file>]
 *   → SYNTHETIC {"facts", "transactions", "keyblocks", "batches", "patients", "bytes", "seconds"}
 * With a writes file, the store's write batches are also saved there (store-writes.ts), for a page.
 */
import '../../src/lib/node/polyfills.ts';
import { writeFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import type { Bytes } from '../../src/lib/core/bytes.ts';
import { devGenesis } from '../../tests/fixtures/genesis-dev.ts';
import { generateSigningKey } from '../../src/lib/core/identity.ts';
import type { Keyblock } from '../../src/lib/core/keyblock.ts';
import { institutionRoot } from '../../src/lib/core/patient-block.ts';
import { pinnedBatchId, type PinnedBatch } from '../../src/lib/core/pinning.ts';
import {
	transactionId,
	type MedicalBody,
	type RegisterBody,
	type Transaction
} from '../../src/lib/core/transaction.ts';
import type { Attachment } from '../../src/lib/core/gossip.ts';
import type { Handover } from '../../src/lib/core/consensus/membership.ts';
import { decodeFact, encodeFact, FACT_TYPES, type ChainFact } from '../../src/lib/runtime/chain-fact.ts';
import { JOURNAL_FORMAT } from '../../src/lib/runtime/stored-journal.ts';
import { checkJournal, derivedOf, headWrite, joinHashes } from '../../src/lib/runtime/verified-journal.ts';
import { Ledger } from '../../src/lib/core/chain.ts';
import { openStore } from '../../src/lib/store/store.node.ts';
import type { StoreWrite } from '../../src/lib/store/store.ts';
import { layOutJournal } from '../../src/lib/runtime/journal-segments.ts';
import { readJournal } from './journal.ts';
import { encodeWrites } from './store-writes.ts';

const KEYBLOCKS = 1000;
const REGISTERS = 10;
const BATCH_EVERY = 5;
const ATTACHMENTS_PER_BATCH = 5;
const ENTRIES = 100;

const [templateFile, dir, writesFile] = process.argv.slice(2) as [string, string, string | undefined];
const started = performance.now();
const genesis = devGenesis();
const templates = readJournal(templateFile).map((f) => decodeFact(f.type, f.bytes, genesis));
const first = <T extends ChainFact['type']>(type: T) =>
	templates.find((f) => f.type === type) as Extract<ChainFact, { type: T }>;
const keyblock: Keyblock = first('keyblock').block;
const register = keyblock.registers[0]! as Transaction<RegisterBody>;
const attachment: Attachment = first('attachment').attachment;
const record = attachment.entries[0]!.tx as Transaction<MedicalBody>;
const batch: PinnedBatch = first('batch').pinned;
const handover: Handover = first('handover').handover;
const institutions = genesis.institutions;

const facts: { fact: ChainFact; derived?: Bytes }[] = [];
const ledger = new Ledger(genesis);
let transactions = 0;
let batches = 0;
let epochs = 0;
const unique = (n: number) => sha256(new TextEncoder().encode(`synthetic ${n}`));
for (let height = 1; height <= KEYBLOCKS; height++) {
	const patients = Array.from({ length: REGISTERS }, () => generateSigningKey().publicKey);
	const registers = patients.map((patient, i) => ({
		...register,
		body: { ...register.body, patient, identity: unique(height * REGISTERS + i), round: height }
	}));
	const block: Keyblock = { ...keyblock, header: { ...keyblock.header, height }, registers };
	// What a verifying node derives from the keyblock (its patient blocks' roots and hashes).
	const roots = patients.map((p) => institutionRoot(p, institutions));
	ledger.restoreKeyblock(block, { institutionRoots: roots });
	facts.push({ fact: { type: 'keyblock', block }, derived: derivedOf({ type: 'keyblock', block }, ledger) });
	if (height % BATCH_EVERY === BATCH_EVERY - 1) {
		// One batch of 5 × 100 records, then one attachment of 100 per patient of this keyblock.
		const attached = patients.slice(0, ATTACHMENTS_PER_BATCH).map((patient) =>
			Array.from({ length: ENTRIES }, () => {
				const body: MedicalBody = {
					...record.body,
					patient,
					round: height,
					record: {
						...record.body.record,
						pointer: { ...record.body.record.pointer, digest: unique(1e9 + transactions++) }
					}
				};
				return { tx: { ...record, body }, id: transactionId(body) };
			})
		);
		const pinned: PinnedBatch = {
			...batch,
			sequence: ++batches,
			batch: { ...batch.batch, round: height, transactions: attached.flat().map((e) => e.id) }
		};
		const pin = pinnedBatchId(pinned);
		facts.push({ fact: { type: 'batch', pinned }, derived: pin });
		attached.forEach((entries, i) => {
			const a: Attachment = {
				...attachment,
				patient: patients[i]!,
				institution: record.body.institution,
				entries: entries.map((e) => ({ tx: e.tx, pin }))
			};
			facts.push({
				fact: { type: 'attachment', attachment: a },
				derived: joinHashes(entries.map((e) => e.id))
			});
		});
	}
	if (height % genesis.epochLength === 0 && height < KEYBLOCKS)
		facts.push({ fact: { type: 'handover', handover: { ...handover, epoch: ++epochs } } });
}

const rows = facts.map(({ fact, derived }, position) => ({
	position,
	type: FACT_TYPES.indexOf(fact.type),
	bytes: encodeFact(fact),
	derived
}));
// Laid out as a node that applied these facts keeps them (journal-segments.ts), in batches of at most
// 200 writes or 1 MB, as small as a node's: LevelDB flushes its memtable only between batches, so one
// batch of the whole journal would be replayed from LevelDB's log at the next open (1.3 s here).
const { writes } = layOutJournal(rows);
const batchesOfWrites: StoreWrite[][] = [[{ table: 'meta', key: 'journal-format', value: JOURNAL_FORMAT }]];
let open: StoreWrite[] = [];
let openBytes = 0;
for (const write of writes) {
	open.push(write);
	openBytes += write.value?.length ?? 0;
	if (open.length < 200 && openBytes < 1_000_000) continue;
	batchesOfWrites.push(open);
	open = [];
	openBytes = 0;
}
if (open.length > 0) batchesOfWrites.push(open);
batchesOfWrites.push([headWrite((await checkJournal(rows, undefined)).head)]);
const store = await openStore(dir);
for (const writes of batchesOfWrites) await store.write(writes);
await store.close();
// The same batches for a browser's IndexedDB (browser-restart.ts replays them with BrowserStore).
if (writesFile) writeFileSync(writesFile, encodeWrites(batchesOfWrites));
process.stdout.write(
	`SYNTHETIC ${JSON.stringify({
		facts: rows.length,
		transactions,
		keyblocks: KEYBLOCKS,
		batches,
		patients: KEYBLOCKS * REGISTERS,
		bytes: rows.reduce((sum, r) => sum + r.bytes.length, 0),
		seconds: (performance.now() - started) / 1000
	})}\n`
);
process.exit(0);
