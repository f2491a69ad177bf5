/**
 * Locating someone (directory.ts) over real libp2p (WebSockets on loopback): a clinic known to speak for
 * an identity whose connection dropped is dialled again, not waited for; one that is really gone is
 * reported within the time asked. Connections are made by hand (no bootstrap, no discovery dials), so
 * nothing else would bring the link back.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { describe, expect, it } from 'vitest';
import { createPresence } from '../core/presence.ts';
import { clinics } from '../../../tests/fixtures/chain.ts';
import { handWiredNodes } from '../../../tests/fixtures/hand-wired-nodes.ts';
import { Directory } from './directory.ts';

const node = handWiredNodes();

/** A clinic's node announcing its institution key, and a patient's node that knows it. */
async function clinicAndPatient() {
	const aster = clinics[0]!;
	const clinic = await node();
	const patient = await node();
	const key = aster.institution.id;
	new Directory(clinic.net, () => [
		createPresence('institution', aster.secrets.signingKey, key, clinic.net.peerId, Date.now())
	]);
	const directory = new Directory(patient.net, () => []);
	await patient.node.dial(multiaddr(clinic.net.addresses()[0]!));
	expect(await directory.locate(key, 10_000)).toBe(clinic.net.peerId);
	return { clinic, patient, directory, key };
}

describe('locating an institution', () => {
	it('dials a known clinic again when its connection dropped', async () => {
		const { clinic, patient, directory, key } = await clinicAndPatient();
		await patient.node.hangUp(clinic.node.peerId);
		await expect.poll(() => patient.net.peers()).toEqual([]);
		expect(directory.isOnline(key)).toBe(false);
		expect(await directory.locate(key, 8000)).toBe(clinic.net.peerId);
		expect(patient.net.peers()).toEqual([clinic.net.peerId]);
	}, 30_000);

	it('says it is not reachable, within the time asked, when the clinic is gone', async () => {
		const { clinic, directory, key } = await clinicAndPatient();
		await clinic.net.stop();
		const began = Date.now();
		expect(await directory.locate(key, 3000)).toBeUndefined();
		expect(Date.now() - began).toBeLessThan(6000);
	}, 30_000);
});
