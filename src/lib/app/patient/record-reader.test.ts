/**
 * The patient's record reader with no network: Aster's real holder answers the ciphertext protocol over
 * an in-process loopback (tests/fixtures/loopback-net.ts), the directory's lookup is a map. The record
 * is written as a clinic writes it (a key the patient's master key grants, sealed twice, signed by its
 * author) and read back: both layers opened on the device and checked against the chain's pointer, the
 * patient's own reads kept sealed and served from the copy, an unreachable holder and a holder that
 * answers with other bytes refused with a sentence.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../../core/bytes.ts';
import { createAccessRequest } from '../../core/access-request.ts';
import { Ledger } from '../../core/chain.ts';
import type { LeafEntry } from '../../core/patient-block.ts';
import { transactionId } from '../../core/transaction.ts';
import { call, serve } from '../../net/protocol.ts';
import { generateMasterKey } from '../../records/envelope.ts';
import { recordFromForm, type RecordResource } from '../../records/fhir.ts';
import { acceptRecordKey, grantRecordKey, sealResource } from '../../records/upload.ts';
import { openMemoryStore } from '../../store/memory-store.ts';
import { aster, medicalTx, patientKeys, testGenesis } from '../../../../tests/fixtures/chain.ts';
import { loopback } from '../../../../tests/fixtures/loopback-net.ts';
import { holderKeys, signerOf } from '../../../../tests/fixtures/records.ts';
import { Holder } from '../holder.ts';
import { CIPHERTEXT } from '../wire.ts';
import { RecordCache } from './record-cache.ts';
import { RecordReader } from './record-reader.ts';

const genesis = testGenesis();
const NOW = Date.UTC(2030, 0, 1);
const alice = patientKeys('reader alice');
const asthma = recordFromForm('Condition', { patient: 'spp1alice', code: 'Asthma' }, new Date(NOW));

function setup() {
	const wire = loopback();
	const masterKey = generateMasterKey();
	const holder = new Holder({
		store: openMemoryStore(),
		net: wire.net('aster'),
		ledger: new Ledger(genesis),
		institution: signerOf(aster),
		clock: () => NOW
	});
	const net = wire.net('alice-phone');
	const online = new Map([[bytesToHex(aster.institution.id), 'aster']]);
	const cache = new RecordCache(openMemoryStore(), masterKey);
	const reader = new RecordReader({
		net,
		directory: { locate: async (id) => online.get(bytesToHex(id)) },
		genesis,
		cache,
		clock: () => NOW,
		patient: alice,
		masterKey
	});

	/** Aster writes `resource` for alice, as the record writer does, and holds it: the chain's entry. */
	async function written(resource: RecordResource): Promise<LeafEntry> {
		const grant = await grantRecordKey(masterKey, alice, aster.institution.id);
		const { header, key } = await acceptRecordKey(grant, signerOf(aster));
		const { bytes, digest } = await sealResource({
			resource,
			header,
			recordKey: key,
			holder: holderKeys(aster),
			now: NOW
		});
		const tx = medicalTx(genesis, alice, aster, 2, { digest });
		await holder.put({
			digest,
			patient: alice.publicKey,
			sealed: bytes,
			recordKey: key,
			r: 1n,
			kind: 'medical',
			transactionId: transactionId(tx.body),
			summary: 'a condition',
			createdAt: NOW
		});
		return { tx, pin: new Uint8Array(32) };
	}
	return { reader, net, online, written, wire };
}

describe("the patient's record reader", () => {
	it('opens a record from its holder, checked against the pointer, and keeps a sealed copy', async () => {
		const { reader, net, written } = setup();
		const entry = await written(asthma);
		const opened = await reader.read(entry);
		expect(JSON.parse(opened.content.resource)).toEqual(asthma);
		expect(opened.header.holder).toEqual(aster.institution.id);
		expect(net.asked).toEqual(['/spchain/ciphertext/1.0.0']);
		// Read again: served from the device's copy, the holder is not asked.
		expect(await reader.read(entry)).toEqual(opened);
		expect(net.asked).toHaveLength(1);
		// Found by transaction id among the patient's entries.
		expect(await reader.readById([entry], transactionId(entry.tx.body))).toEqual(opened);
		await expect(reader.readById([entry], new Uint8Array(32))).rejects.toMatchObject({
			code: 'label-target'
		});
	});

	it('says which holder is not reachable', async () => {
		const { reader, online, written } = setup();
		const entry = await written(asthma);
		online.clear();
		await expect(reader.read(entry)).rejects.toMatchObject({
			name: 'AppError',
			code: 'holder-offline',
			message: `${aster.institution.name} is not reachable right now.`
		});
	});

	it('refuses an answer that is not the record the chain points at, and keeps nothing of it', async () => {
		const { reader, online, written, wire } = setup();
		const entry = await written(asthma);
		const other = await written(recordFromForm('Condition', { patient: 'spp1alice', code: 'Eczema' }));
		// A holder that answers every request with Aster's real answer for the other record.
		const request = createAccessRequest(
			{
				holder: aster.institution.id,
				digest: other.tx.body.record.pointer.digest,
				authority: { kind: 'patient' },
				time: NOW
			},
			alice.secretKey,
			alice.publicKey
		);
		const answer = await call(wire.net('recorder'), 'aster', CIPHERTEXT, request);
		serve(wire.net('liar'), CIPHERTEXT, async () => answer);
		online.set(bytesToHex(aster.institution.id), 'liar');
		await expect(reader.read(entry)).rejects.toMatchObject({
			name: 'ValidationError',
			code: 'envelope-digest'
		});
		// Nothing was kept from it: once the real holder answers, the record opens.
		online.set(bytesToHex(aster.institution.id), 'aster');
		expect(JSON.parse((await reader.read(entry)).content.resource)).toEqual(asthma);
	});
});
