/**
 * The consent book on a real (memory) store, with the delivery to institutions played by the test: a
 * share stays pending until the grantee acknowledged it and is sent again until it does, and a revocation
 * stays due to each institution until it confirmed (or refused: it had heard), across runs.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, type Bytes } from '../../core/bytes.ts';
import { checkConsent } from '../../core/consent.ts';
import { encodeShareBundle } from '../../records/share.ts';
import { openMemoryStore } from '../../store/memory-store.ts';
import { clinics, patientKeys, testGenesis } from '../../../../tests/fixtures/chain.ts';
import { AppError } from '../types.ts';
import { ConsentBook, type ConsentBookOptions } from './consent-book.ts';

const alice = patientKeys('alice');
const genesis = testGenesis();
const [A, B, D] = [clinics[0]!, clinics[1]!, clinics[2]!];
const NOW = Date.UTC(2026, 10, 24, 12);

function book(send: ConsentBookOptions['send'], collect: ConsentBookOptions['collect'] = async () => []) {
	const sent: { to: string; kind: string; bundle?: string }[] = [];
	let changed = 0;
	const consents = new ConsentBook({
		store: openMemoryStore(),
		genesis,
		clock: () => NOW,
		patient: alice,
		holders: () => [A.institution.id, B.institution.id],
		collect,
		async send(institution, message) {
			sent.push({
				to: bytesToHex(institution),
				kind: 'share' in message ? 'share' : 'revoke',
				...('share' in message && { bundle: bytesToHex(encodeShareBundle(message.share)) })
			});
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

	it('sends a share again, unasked, until the grantee takes it: unreachable, then lagging, then taken', async () => {
		// What D answers to each delivery of the share: it is offline, then its chain lacks a record yet.
		const answers: (Error | undefined)[] = [
			offline('D'),
			offline('D'),
			new AppError('remote', 'The institution could not answer: a shared record is not on the chain')
		];
		let collected = 0;
		const { consents, sent, changed } = book(
			async (_institution, message) => {
				if ('share' in message && answers.length > 0) {
					const answer = answers.shift();
					if (answer) throw answer;
				}
			},
			async () => (collected++, [])
		);
		await expect(consents.share(share)).rejects.toMatchObject({ code: 'institution-offline' });
		expect(consents.sharesPending()).toBe(true);
		await consents.deliver(); // still offline
		await consents.deliver(); // online, refused: its chain lags
		expect((await consents.consents())[0]!.pending).toBe(true);
		expect(consents.sharesPending()).toBe(true);
		const before = changed();
		await consents.deliver(); // taken
		expect((await consents.consents())[0]!.pending).toBe(false);
		expect(consents.sharesPending()).toBe(false);
		expect(changed()).toBe(before + 1);
		// The same sealed bundle each time: the records were fetched from their holders once.
		const bundles = sent.filter((s) => s.kind === 'share').map((s) => s.bundle);
		expect(bundles).toHaveLength(4);
		expect(new Set(bundles).size).toBe(1);
		expect(collected).toBe(1);
		await consents.deliver(); // nothing left to send
		expect(sent.filter((s) => s.kind === 'share')).toHaveLength(4);
	});

	it('seals a share anew when its records could not be fetched, and drops one revoked before delivery', async () => {
		let holderOnline = false;
		let granteeOnline = true;
		const { consents, sent } = book(
			async (_institution, message) => {
				if ('share' in message && !granteeOnline) throw offline('D');
			},
			async () => {
				if (!holderOnline) throw new AppError('holder-offline', 'A is not reachable right now.');
				return [];
			}
		);
		await expect(consents.share(share)).rejects.toMatchObject({ code: 'holder-offline' });
		expect(sent).toHaveLength(0);
		holderOnline = true;
		await consents.deliver();
		expect(sent.filter((s) => s.kind === 'share')).toHaveLength(1);
		expect((await consents.consents())[0]!.pending).toBe(false);

		// A share still pending when the patient revokes its consent is not sent any more.
		granteeOnline = false;
		const second = await consents.share({ ...share, purpose: 'referral' }).catch(() => undefined);
		expect(second).toBeUndefined();
		const pending = (await consents.consents()).find((c) => c.purpose === 'referral')!;
		expect(pending.pending).toBe(true);
		granteeOnline = true;
		await consents.revoke(pending.id);
		expect(sent.filter((s) => s.kind === 'share')).toHaveLength(2);
		expect((await consents.consents()).find((c) => c.id === pending.id)!.pending).toBe(false);
	});
});
