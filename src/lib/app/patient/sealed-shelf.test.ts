/**
 * The patient device's sealed shelf on a real (memory) store: what is put is kept only as ciphertext
 * and comes back as it was; a value moved under another id, damaged at rest, read with another master
 * key or by another shelf (prefix and label) reads as absent, for the caller to fetch it again.
 */
import { describe, expect, it } from 'vitest';
import { randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { bytesToHex } from '../../core/bytes.ts';
import { containsBytes, generateMasterKey } from '../../records/envelope.ts';
import { openMemoryStore } from '../../store/memory-store.ts';
import { SealedShelf } from './sealed-shelf.ts';

const plain = utf8ToBytes('Peanut allergy, severe');

function setup() {
	const store = openMemoryStore();
	const masterKey = generateMasterKey();
	const shelf = new SealedShelf(store, masterKey, 'cache:', 'spchain/patient-cache/v1');
	return { store, masterKey, shelf };
}

describe("the patient device's sealed shelf", () => {
	it('keeps only ciphertext under its prefix and gives the value back, also to a new shelf', async () => {
		const { store, masterKey, shelf } = setup();
		const id = randomBytes(32);
		await shelf.put(id, plain);
		const rows = await store.list('meta');
		expect(rows.map(([key]) => key)).toEqual([`cache:${bytesToHex(id)}`]);
		expect(containsBytes(rows[0]![1], plain)).toBe(false);
		expect(await shelf.get(id)).toEqual(plain);
		const again = new SealedShelf(store, masterKey, 'cache:', 'spchain/patient-cache/v1');
		expect(await again.get(id)).toEqual(plain);
		expect(await shelf.get(randomBytes(32))).toBeUndefined();
	});

	it('reads a moved, damaged or foreign value as absent', async () => {
		const { store, masterKey, shelf } = setup();
		const id = randomBytes(32);
		await shelf.put(id, plain);
		const [[key, sealed]] = (await store.list('meta')) as [[string, Uint8Array]];

		// Moved under another id: the id is bound to the value.
		const elsewhere = randomBytes(32);
		await store.write([{ table: 'meta', key: `cache:${bytesToHex(elsewhere)}`, value: sealed }]);
		expect(await shelf.get(elsewhere)).toBeUndefined();

		// Another device's master key, or another shelf's label over the same rows.
		expect(
			await new SealedShelf(store, generateMasterKey(), 'cache:', 'spchain/patient-cache/v1').get(id)
		).toBeUndefined();
		expect(await new SealedShelf(store, masterKey, 'cache:', 'spchain/other/v1').get(id)).toBeUndefined();

		// One bit flipped at rest.
		const damaged = sealed.slice();
		damaged[damaged.length - 1]! ^= 1;
		await store.write([{ table: 'meta', key, value: damaged }]);
		expect(await shelf.get(id)).toBeUndefined();
	});
});
