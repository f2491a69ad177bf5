import { describe, expect, it } from 'vitest';
import { blsVerifyPossession } from '../core/consensus/bls.ts';
import { decodeHashKey } from '../core/chameleon.ts';
import { publicKeyOf } from '../core/identity.ts';
import {
	checkInstitutionName,
	createInstitutionIdentity,
	InstitutionNameError,
	institutionOf
} from './institution.ts';

describe('institution identity', () => {
	it('draws every key from the CSPRNG: two identities of one name share nothing', () => {
		const a = createInstitutionIdentity('Aster Clinic');
		const b = createInstitutionIdentity('Aster Clinic');
		expect(a.institution.id).not.toEqual(b.institution.id);
		expect(a.secrets.blsKey).not.toEqual(b.secrets.blsKey);
		expect(a.secrets.trapdoor).not.toEqual(b.secrets.trapdoor);
	});

	it('publishes keys that match its secrets, with a valid proof of possession', () => {
		const { institution, secrets } = createInstitutionIdentity('  Birch Hospital ');
		expect(institution.name).toBe('Birch Hospital');
		expect(institution.id).toEqual(publicKeyOf(secrets.signingKey));
		expect(blsVerifyPossession(institution.blsKey, institution.blsPossession)).toBe(true);
		expect(() => decodeHashKey(institution.chameleonKey)).not.toThrow();
		expect(institutionOf(institution.name, secrets)).toEqual(institution);
		// Another institution's possession proof does not pass for this key.
		const other = createInstitutionIdentity('Cedar Health').institution;
		expect(blsVerifyPossession(institution.blsKey, other.blsPossession)).toBe(false);
	});

	it('refuses empty, long and control-character names', () => {
		for (const bad of ['', '   ', 'x'.repeat(65), 'a\nb'])
			expect(() => checkInstitutionName(bad)).toThrow(InstitutionNameError);
		expect(() => createInstitutionIdentity('')).toThrow(InstitutionNameError);
	});
});
