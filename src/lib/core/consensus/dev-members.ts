/**
 * Deterministic consensus members for development: tests, the simulation and benchmarks. The secret keys
 * derive from public seeds, so these members must never sign anything real (like genesis-dev.ts).
 */
import { utf8ToBytes } from '@noble/hashes/utils.js';
import type { Bytes } from '../bytes.ts';
import { sha256 } from '../hash.ts';
import { blsKeyPairFromSeed, blsSign } from './bls.ts';
import type { GroupMember } from './group.ts';
import type { StatementSigner } from './machine.ts';

export interface DevMember {
	member: GroupMember;
	secretKey: Bytes;
	signer: StatementSigner;
}

const cache = new Map<number, { id: Bytes; secretKey: Bytes; publicKey: Bytes }>();

/** Member `index` with the given reputation; keys are cached (key generation costs a few ms). */
export function devMember(index: number, reputation: number): DevMember {
	let keys = cache.get(index);
	if (!keys) {
		const seed = sha256(utf8ToBytes(`spchain/dev-consensus-member/${index}`));
		const { secretKey, publicKey } = blsKeyPairFromSeed(new Uint8Array([...seed, ...seed.slice(0, 16)]));
		keys = { id: sha256(utf8ToBytes(`spchain/dev-consensus-id/${index}`)), secretKey, publicKey };
		cache.set(index, keys);
	}
	const { id, secretKey, publicKey } = keys;
	return {
		member: { id, blsPublicKey: publicKey, reputation },
		secretKey,
		signer: { id, sign: (message) => blsSign(secretKey, message) }
	};
}

export function devMembers(reputations: readonly number[]): DevMember[] {
	return reputations.map((reputation, i) => devMember(i, reputation));
}
