/**
 * The consent book on a real (memory) store, with the delivery to institutions played by the test: a
 * share stays pending until the grantee acknowledged it, and a revocation stays due to each institution
 * until it confirmed (or refused: it had heard), across runs.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, type Bytes } from '../../core/bytes.ts';
import { checkConsent } from '../../core/consent.ts';
import { openMemoryStore } from '../../store/memory-store.ts';
import { clinics, patientKeys, testGenesis } from '../../../../tests/fixtures/chain.ts';
import { AppError } from '../types.ts';
import { ConsentBook, type ConsentBookOptions } from './consent-book.ts';

const alice = patientKeys('alice');
const genesis = testGenesis();
const [A, B, D] = [clinics[0]!, clinics[1]!, clinics[2]!];
const NOW = Date.UTC(2026, 10, 24, 12);

function book(send: ConsentBookOptions['send']) {
	const sent: { to: string; kind: string }[] = [];
	let changed = 0;
	const consents = new ConsentBook({
		store: openMemoryStore(),
		genesis,
		clock: () => NOW,
		patient: alice,
		holders: () => [A.institution.id, B.institution.id],
		collect: async () => [],
		async send(institution, message) {
			sent.push({ to: bytesToHex(institution), kind: 'share' in message ? 'share' : 'revoke' });
			if ('share' in message) expect(() => checkConsent(message.share.consent, NOW)).not.toThrow();
			await send(institution, message);
		},
		changed: () => changed++
	});
	return { consents, sent, changed: () => changed };
}

const share = { institution: D.institution.name, scope: 'all' as const, purpose: 'second opinion', days: 30 };
const offline = (name: string) => new AppError('institution-offline', `${name} is not reachable right now.`);

describe('the consent book', () => {
	it('lists a share the grantee did not acknowledge as pending, and one it did as given', async () => {
		let reachable = false;
		const { consents } = book(async () => {
			if (!reachable) throw offline('D');
		});
		await expect(consents.share(share)).rejects.toMatchObject({ code: 'institution-offline' });
		expect((await consents.consents()).map((c) => c.pending)).toEqual([true]);
		reachable = true;
		const given = await consents.share({ ...share, purpose: 'referral' });
		expect(given).toMatchObject({ pending: false, revoked: false, grantee: { name: D.institution.name } });
		const listed = await consents.consents();
		expect(listed.find((c) => c.id === given.id)?.pending).toBe(false);
		await expect(consents.share({ ...share, institution: 'Nowhere Clinic' })).rejects.toMatchObject({
			code: 'institution'
		});
	});

	it('keeps a revocation due to each institution until it confirmed or had heard', async () => {
		const down = new Set<string>([bytesToHex(B.institution.id)]);
		const { consents, sent } = book(async (institution: Bytes, message) => {
			if ('share' in message) return;
			if (down.has(bytesToHex(institution))) throw offline('B');
			if (bytesToHex(institution) === bytesToHex(A.institution.id))
				throw new AppError('refused', 'A refused: this consent was already revoked');
		});
		const consent = await consents.share(share);
		await consents.revoke(consent.id);
		const [after] = await consents.consents();
		expect(after!.revoked).toBe(true);
		// D confirmed, A refused (it had heard): done; B was unreachable: still due, and said so.
		expect(after!.revocationNotDelivered.map((i) => i.name)).toEqual([B.institution.name]);
		expect(
			sent
				.filter((s) => s.kind === 'revoke')
				.map((s) => s.to)
				.sort()
		).toEqual([A, B, D].map((c) => bytesToHex(c.institution.id)).sort());
		down.clear();
		await consents.deliver();
		expect((await consents.consents())[0]!.revocationNotDelivered).toEqual([]);
		await expect(consents.revoke('00'.repeat(32))).rejects.toMatchObject({ code: 'consent-unknown' });
	});

	it('runs the list again when an institution comes online while a run is passing it', async () => {
		let cameOnline = false;
		// B is offline when the run reaches it and comes online right after (the directory calls deliver).
		const { consents, sent } = book(async (institution: Bytes, message) => {
			if ('share' in message || bytesToHex(institution) !== bytesToHex(B.institution.id) || cameOnline)
				return;
			cameOnline = true;
			void consents.deliver();
			throw offline('B');
		});
		const consent = await consents.share(share);
		await consents.revoke(consent.id);
		expect((await consents.consents())[0]!.revocationNotDelivered).toEqual([]);
		expect(sent.filter((s) => s.kind === 'revoke' && s.to === bytesToHex(B.institution.id))).toHaveLength(2);
	});
});
