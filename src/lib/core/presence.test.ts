import { describe, expect, it } from 'vitest';
import { checkPresence, createPresence, decodePresences, encodePresences } from './presence.ts';
import { patientKeys } from '../../../tests/fixtures/chain.ts';

const alice = patientKeys('alice');
const mallory = patientKeys('mallory');
const NOW = Date.UTC(2026, 10, 24);

describe('presence', () => {
	const presence = createPresence('patient', alice.secretKey, alice.publicKey, '12D3KooWpeer', NOW);

	it('round-trips and verifies for the peer it names', () => {
		const [decoded] = decodePresences(encodePresences([presence]));
		expect(decoded).toEqual(presence);
		expect(() => checkPresence(decoded!, '12D3KooWpeer', NOW + 1000)).not.toThrow();
	});

	it('refuses another peer, a forged key, a stale or future presence', () => {
		expect(() => checkPresence(presence, '12D3KooWother', NOW)).toThrow(
			expect.objectContaining({ code: 'presence-peer' })
		);
		const forged = { ...presence, publicKey: mallory.publicKey };
		expect(() => checkPresence(forged, '12D3KooWpeer', NOW)).toThrow(
			expect.objectContaining({ code: 'presence-signature' })
		);
		expect(() => checkPresence(presence, '12D3KooWpeer', NOW + 2 * 86_400_000)).toThrow(
			expect.objectContaining({ code: 'presence-stale' })
		);
		expect(() => checkPresence(presence, '12D3KooWpeer', NOW - 3_600_000)).toThrow(
			expect.objectContaining({ code: 'presence-future' })
		);
	});
});
