/**
 * The patient's sealed copies on a real (memory) store: no plaintext at rest, the author's signature
 * checked when read back, and a damaged or moved copy read as absent (fetched again from the holder).
 */
import { describe, expect, it } from 'vitest';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex } from '../../core/bytes.ts';
import {
	containsBytes,
	generateMasterKey,
	issueRecordKey,
	signRecordContent
} from '../../records/envelope.ts';
import { recordFromForm } from '../../records/fhir.ts';
import { openMemoryStore } from '../../store/memory-store.ts';
import { clinics, patientKeys } from '../../../../tests/fixtures/chain.ts';
import { RecordCache } from './record-cache.ts';

const alice = patientKeys('alice');
const A = clinics[0]!;

function opened(masterKey: Uint8Array, text: string) {
	const { header } = issueRecordKey(masterKey, alice.publicKey, A.institution.id);
	const resource = recordFromForm('Condition', { patient: 'spp1alice', code: text });
	const content = signRecordContent(
		header,
		{ resource: JSON.stringify(resource), authoredAt: 1 },
		A.secrets.signingKey
	);
	return { header, content };
}

describe('the record cache', () => {
	it('keeps records sealed and returns them checked, also to a new session on the same store', async () => {
		const store = openMemoryStore();
		const masterKey = generateMasterKey();
		const id = randomBytes(32);
		const record = opened(masterKey, 'Tonsillitis quokka');
		await new RecordCache(store, masterKey).put(id, record);
		for (const [, value] of await store.list('meta'))
			expect(containsBytes(value, utf8ToBytes('quokka'))).toBe(false);
		expect(await new RecordCache(store, masterKey).get(id)).toEqual(record);
		// Another master key (another patient) opens nothing.
		expect(await new RecordCache(store, generateMasterKey()).get(id)).toBeUndefined();
	});

	it('reads a damaged copy, or a copy moved under another id, as absent', async () => {
		const store = openMemoryStore();
		const masterKey = generateMasterKey();
		const id = randomBytes(32);
		await new RecordCache(store, masterKey).put(id, opened(masterKey, 'Asthma'));
		const [[key, value]] = (await store.list('meta')) as [[string, Uint8Array]];
		const other = randomBytes(32);
		await store.write([{ table: 'meta', key: `cache:${bytesToHex(other)}`, value }]);
		expect(await new RecordCache(store, masterKey).get(other)).toBeUndefined();
		const flipped = value.slice();
		flipped[flipped.length - 1]! ^= 1;
		await store.write([{ table: 'meta', key, value: flipped }]);
		expect(await new RecordCache(store, masterKey).get(id)).toBeUndefined();
	});
});
