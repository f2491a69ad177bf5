/**
 * Issuing a key rotation (docs/consortium.md "Key rotation"): an admitted institution makes a new
 * signing key, keeps it at rest before anything leaves the node, signs the rotation with the key in
 * force and the new key, and asks the group to certify it the way an applicant asks to be admitted
 * (runtime/admission.ts seekRotation). Nothing else changes here: from the keyblock after the one that
 * carries the rotation, the registry names the new key, and the node's miner and record writer pick
 * the secret in force for each height (InstitutionRegistry.secretInForce).
 */
import { equalBytes, type Bytes } from '../core/bytes.ts';
import { generateSigningKey, publicKeyOf, type PublicKey } from '../core/identity.ts';
import { signRotation } from '../core/registry-facts.ts';
import type { InstitutionIdentity } from '../keys/institution.ts';
import type { InstitutionSecrets } from '../keys/secrets.ts';
import { seekRotation, type AdmissionStatus } from '../runtime/admission.ts';
import type { FullNode } from '../runtime/full-node.ts';

export interface RotateOptions {
	node: FullNode;
	identity: InstitutionIdentity;
	/** Keeps the secrets, new signing key included, at rest (the vault) before the rotation is sent. */
	save(secrets: InstitutionSecrets): Promise<void>;
	onStatus?: (status: AdmissionStatus) => void;
	signal?: AbortSignal;
	retryMs?: number;
}

/** Not admitted, or the key in force is not among the keys this node holds. */
export class RotationError extends Error {
	override readonly name = 'RotationError';
	readonly code = 'rotation-refused';
}

/** Rotates the institution's signing key; resolves once the chain holds the new key, from `from`. */
export async function rotateSigningKey(options: RotateOptions): Promise<{ key: PublicKey; from: number }> {
	const { node, identity } = options;
	const { ledger } = node.chain;
	const { institution, secrets } = identity;
	const registered = ledger.registry.memberAt(institution.id, ledger.height + 1);
	if (!registered) throw new RotationError(`${institution.name} is not admitted yet: nothing to rotate`);
	const inForce = registered.keys.at(-1)!.key;
	const rotated = (secrets.rotatedSigningKeys ??= []);
	const previous = [secrets.signingKey, ...rotated].find((s) => equalBytes(publicKeyOf(s), inForce));
	if (!previous)
		throw new RotationError(
			'the signing key in force is not among the keys this node holds (restore the latest key backup)'
		);
	const next: Bytes = generateSigningKey().secretKey;
	// The same array the node's miner reads (institution-node.ts institutionKeys): kept before sending.
	rotated.push(next);
	try {
		await options.save(secrets);
	} catch (error) {
		rotated.pop();
		throw error;
	}
	const rotation = signRotation(
		{
			network: ledger.genesisHash,
			institution: institution.id,
			sequence: registered.keys.length,
			previousKey: inForce,
			nextKey: publicKeyOf(next)
		},
		previous,
		next
	);
	const from = await seekRotation({
		node,
		net: node.net,
		rotation,
		own: { id: institution.id, blsKey: secrets.blsKey },
		onStatus: options.onStatus,
		signal: options.signal,
		retryMs: options.retryMs
	});
	return { key: rotation.nextKey, from };
}
