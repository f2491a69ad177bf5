import { describe, expect, it } from 'vitest';
import { devGenesis } from '../../../tests/fixtures/genesis-dev.ts';
import { bytesToHex } from '../core/bytes.ts';
import { Ledger } from '../core/chain.ts';
import { generateSigningKey, publicKeyOf } from '../core/identity.ts';
import { ProtectedPeers } from './protected-peers.ts';

describe('protected peers: the consortium first', () => {
	const genesis = devGenesis();
	const ledger = new Ledger(genesis);
	const founder = bytesToHex(genesis.institutions[0]!.id);
	const stranger = bytesToHex(publicKeyOf(generateSigningKey().secretKey));
	const speaks: Record<string, string[]> = { member: [founder], outsider: [stranger], patient: [] };
	const directory = { identitiesOf: (peer: string) => speaks[peer] ?? [] };

	it('protects nobody until the directory is bound', () => {
		const protection = new ProtectedPeers();
		expect(protection.isProtected('member')).toBe(false);
	});

	it('protects a peer that speaks for an institution of the registry, and no one else', () => {
		const protection = new ProtectedPeers();
		protection.bind(directory, ledger);
		expect(protection.isProtected('member')).toBe(true);
		expect(protection.isProtected('outsider')).toBe(false);
		expect(protection.isProtected('patient')).toBe(false);
		expect(protection.isProtected('unknown')).toBe(false);
	});
});
