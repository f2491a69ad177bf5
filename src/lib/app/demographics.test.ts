/**
 * Who the patient is, over real libp2p on loopback: the phone tells a clinic that adds it the name and
 * birth date the patient chose, sealed to that clinic alone; the clinic keeps the box sealed and reads
 * it back after a restart (its store); nothing readable is at rest on either side; a patient who chose
 * not to say tells nothing, and a peer that is not an institution is refused.
 */
import '../node/polyfills.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../core/identity.ts';
import { createPeerNet } from '../net/peer-net.node.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { ProtocolError, call } from '../net/protocol.ts';
import { openMemoryStore } from '../store/memory-store.ts';
import {
	askDemographics,
	DEMOGRAPHICS,
	keepDemographics,
	knownDemographics,
	readDemographics,
	serveDemographics
} from './demographics.ts';
import { AppError } from './types.ts';

const NAME = 'Ada Lovelace';
const patient = generateSigningKey();
const clinic = generateSigningKey();
const other = generateSigningKey();
const phoneStore = openMemoryStore();
let phone: PeerNet;
let clinicNet: PeerNet;
let stranger: PeerNet;

beforeAll(async () => {
	phone = await createPeerNet({ bootstrap: [] });
	clinicNet = await createPeerNet({ bootstrap: phone.addresses() });
	stranger = await createPeerNet({ bootstrap: phone.addresses() });
	serveDemographics(phone, {
		store: phoneStore,
		patient: patient.publicKey,
		secretKey: patient.secretKey,
		// The phone knows the clinic's peer from the directory; the stranger is no institution.
		institutionAt: async (peer) => (peer === clinicNet.peerId ? clinic.publicKey : undefined)
	});
}, 60_000);

afterAll(async () => {
	await Promise.all([phone?.stop(), clinicNet?.stop(), stranger?.stop()]);
});

/** Whether any value of the store holds `text` in UTF-8. */
async function atRest(store: ReturnType<typeof openMemoryStore>, text: string): Promise<boolean> {
	const rows = await store.list('meta');
	return rows.some(([, value]) => Buffer.from(value).toString('utf8').includes(text));
}

describe('demographics for the clinics the patient lets know', () => {
	it('connects the clinic and a stranger to the phone', async () => {
		await expect.poll(() => clinicNet.peers(), { timeout: 30_000, interval: 200 }).toContain(phone.peerId);
		await expect.poll(() => stranger.peers(), { timeout: 30_000, interval: 200 }).toContain(phone.peerId);
	}, 40_000);

	it('reaches the clinic sealed to it, and survives the clinic’s restart', async () => {
		await keepDemographics(phoneStore, patient.publicKey, { name: NAME, birthDate: '1985-12-10' });
		const clinicStore = openMemoryStore();
		const told = await askDemographics(clinicNet, phone.peerId, {
			store: clinicStore,
			patient: patient.publicKey,
			institution: clinic.publicKey,
			secretKey: clinic.secretKey
		});
		expect(told).toEqual({ name: NAME, birthDate: '1985-12-10' });
		expect(await atRest(phoneStore, NAME)).toBe(false);
		expect(await atRest(clinicStore, NAME)).toBe(false);
		// Read back from the store, as after a reload; another institution's key opens nothing.
		const known = await knownDemographics(clinicStore, clinic.publicKey, clinic.secretKey);
		expect([...known.values()]).toEqual([{ name: NAME, birthDate: '1985-12-10' }]);
		expect((await knownDemographics(clinicStore, other.publicKey, other.secretKey)).size).toBe(0);
	}, 60_000);

	it('tells nothing when the patient chose so, and refuses a peer that is not an institution', async () => {
		await keepDemographics(phoneStore, patient.publicKey, undefined);
		const clinicStore = openMemoryStore();
		expect(
			await askDemographics(clinicNet, phone.peerId, {
				store: clinicStore,
				patient: patient.publicKey,
				institution: clinic.publicKey,
				secretKey: clinic.secretKey
			})
		).toBeUndefined();
		expect(await clinicStore.list('meta')).toEqual([]);
		const refused = await call(stranger, phone.peerId, DEMOGRAPHICS, null).catch((e: unknown) => e);
		expect(refused).toBeInstanceOf(AppError);
		expect((refused as AppError).message).toMatch(/only consortium institutions may ask/);
		expect(refused).not.toBeInstanceOf(ProtocolError);
	}, 60_000);

	it('checks what the patient typed before anything is kept', () => {
		expect(() => readDemographics({ name: '  ', birthDate: '1985-12-10' })).toThrow('Type your full name.');
		for (const birthDate of ['1985-02-30', '10/12/1985', '2999-01-01'])
			expect(() => readDemographics({ name: NAME, birthDate })).toThrow(/date of birth/);
	});
});
