/**
 * An institution's identity made on its own device (paper §4.1 Setup, §5.1): a Schnorr signing key, a
 * BLS12-381 key with its proof of possession (so a rogue-key attack on aggregated pin certificates is
 * impossible), and a chameleon-hash trapdoor, all drawn from the platform CSPRNG. The public half is the
 * `Institution` a genesis or an admission names; the secret half goes into the key vault and its backup
 * (secrets.ts), never anywhere else. Deterministic keys exist only in tests/fixtures.
 */
import { blsKeyPairFromSeed, blsProvePossession, blsPublicKey } from '../core/consensus/bls.ts';
import { generateTrapdoor, hashKeyOf } from '../core/chameleon.ts';
import { generateSigningKey, publicKeyOf, type Institution } from '../core/identity.ts';
import type { InstitutionSecrets } from './secrets.ts';

export interface InstitutionIdentity {
	institution: Institution;
	secrets: InstitutionSecrets;
}

/** Names are what clinicians and patients read in lists; keep them short, printable and trimmed. */
export const MAX_INSTITUTION_NAME = 64;

/** A name that is not usable for an institution (empty, too long, control characters). */
export class InstitutionNameError extends Error {
	override readonly name = 'InstitutionNameError';
	readonly code = 'institution-name';
}

export function checkInstitutionName(name: string): string {
	if (typeof name !== 'string') throw new InstitutionNameError('The institution name must be text.');
	const trimmed = name.trim();
	if (trimmed.length === 0) throw new InstitutionNameError('Give the institution a name.');
	if (trimmed.length > MAX_INSTITUTION_NAME)
		throw new InstitutionNameError(`Keep the institution name to ${MAX_INSTITUTION_NAME} characters.`);
	// eslint-disable-next-line no-control-regex
	if (/[\u0000-\u001f\u007f]/.test(trimmed))
		throw new InstitutionNameError('The institution name cannot contain control characters.');
	return trimmed;
}

/** Fresh keys from the CSPRNG (crypto.getRandomValues, in pages and in Node alike). */
export function createInstitutionIdentity(name: string): InstitutionIdentity {
	const checked = checkInstitutionName(name);
	const signing = generateSigningKey();
	const bls = blsKeyPairFromSeed(crypto.getRandomValues(new Uint8Array(48)));
	const trapdoor = generateTrapdoor();
	const secrets: InstitutionSecrets = {
		signingKey: signing.secretKey,
		blsKey: bls.secretKey,
		trapdoor: trapdoor.x
	};
	return { institution: institutionOf(checked, secrets), secrets };
}

/** The public record of an institution whose secrets are known (restored from a vault or a backup). */
export function institutionOf(name: string, secrets: InstitutionSecrets): Institution {
	return {
		id: publicKeyOf(secrets.signingKey),
		name: checkInstitutionName(name),
		blsKey: blsPublicKey(secrets.blsKey),
		blsPossession: blsProvePossession(secrets.blsKey),
		chameleonKey: hashKeyOf(secrets.trapdoor)
	};
}
