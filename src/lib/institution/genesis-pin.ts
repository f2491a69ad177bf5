/**
 * A node's store belongs to one chain. The first time a store opens under a genesis it records the
 * genesis hash; from then on it opens only under that genesis, and says so plainly otherwise, instead
 * of replaying another chain's journal into rules it cannot satisfy. A store with chain data but no
 * recorded genesis was written before genesis files existed (the fixed development chain): it is
 * refused the same way.
 */
import { bytesToHex, equalBytes } from '../core/bytes.ts';
import { genesisFingerprint, genesisHash, type GenesisConfig } from '../core/genesis.ts';
import type { Store } from '../store/store.ts';

const GENESIS_KEY = 'genesis-hash';

/** The store holds another chain than the genesis it was opened with. */
export class GenesisMismatchError extends Error {
	override readonly name = 'GenesisMismatchError';
	readonly code = 'genesis-mismatch';
}

/** The genesis hash this store was first opened under, if any. */
export async function pinnedGenesis(store: Store): Promise<Uint8Array | undefined> {
	return store.get('meta', GENESIS_KEY);
}

export async function pinGenesis(store: Store, genesis: GenesisConfig): Promise<void> {
	const hash = genesisHash(genesis);
	const pinned = await pinnedGenesis(store);
	if (pinned && equalBytes(pinned, hash)) return;
	if (pinned)
		throw new GenesisMismatchError(
			`This node's data belongs to another network (genesis ${bytesToHex(pinned).slice(0, 16)}…), not to ${genesis.network} (genesis ${genesisFingerprint(genesis)}).`
		);
	if ((await store.list('keyblocks', { limit: 1 })).length > 0)
		throw new GenesisMismatchError(
			`This node's data was written for an earlier network, not for ${genesis.network} (genesis ${genesisFingerprint(genesis)}).`
		);
	await store.write([{ table: 'meta', key: GENESIS_KEY, value: hash }]);
}
