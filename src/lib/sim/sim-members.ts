/**
 * Consensus members for simulated groups. The simulator uses the group's own rules (ConsensusGroup's
 * proposer rotation and double quorum), which need real BLS public keys; nothing is ever signed with
 * them, and their secret keys come from the platform CSPRNG and are dropped at once (no key anywhere
 * outside tests/ is derived from a public value). Ids are public labels derived from the index (the same labels as the test members), so the
 * id order (bitmap order, proposer rotation) and hence every result is the same for the same seed.
 */
import { randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import type { Bytes } from '../core/bytes.ts';
import { blsKeyPairFromSeed } from '../core/consensus/bls.ts';
import type { GroupMember } from '../core/consensus/group.ts';
import { sha256 } from '../core/hash.ts';

const keys = new Map<number, Bytes>();

/** Simulated member `index` with reputation R (its key is generated once per process). */
export function simulatedMember(index: number, reputation: number): GroupMember {
	if (!Number.isSafeInteger(index) || index < 0)
		throw new RangeError(`member index must be ≥ 0, got ${index}`);
	let blsPublicKey = keys.get(index);
	if (!blsPublicKey) {
		blsPublicKey = blsKeyPairFromSeed(randomBytes(48)).publicKey;
		keys.set(index, blsPublicKey);
	}
	return { id: sha256(utf8ToBytes(`spchain/dev-consensus-id/${index}`)), blsPublicKey, reputation };
}
