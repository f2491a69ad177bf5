/**
 * Binary Merkle tree over 32-byte leaf hashes (paper Fig. 5: the institution hash root, and the root
 * of a keyblock's register transactions).
 *
 * Odd levels promote their last node unchanged instead of duplicating it (Bitcoin duplicates, which
 * lets two different leaf lists share a root: CVE-2012-2459). Inner nodes and the empty tree use their
 * own tags, so a leaf can never pass for an inner node.
 */
import { concatBytes, type Bytes } from './bytes.ts';
import { taggedHash } from './hash.ts';

const NODE_TAG = 'spchain/merkle-node';
export const EMPTY_ROOT = taggedHash('spchain/merkle-empty', new Uint8Array());

function nextLevel(level: readonly Bytes[]): Bytes[] {
	const next: Bytes[] = [];
	for (let i = 0; i + 1 < level.length; i += 2)
		next.push(taggedHash(NODE_TAG, concatBytes(level[i]!, level[i + 1]!)));
	if (level.length % 2 === 1) next.push(level[level.length - 1]!);
	return next;
}

export function merkleRoot(leaves: readonly Bytes[]): Bytes {
	if (leaves.length === 0) return EMPTY_ROOT;
	let level = leaves.slice();
	while (level.length > 1) {
		level = nextLevel(level);
	}
	return level[0]!;
}

/** Sibling path for leaf `index`: each step says whether the sibling sits on the left. */
export interface MerkleStep {
	sibling: Bytes;
	left: boolean;
}

export function merkleProof(leaves: readonly Bytes[], index: number): MerkleStep[] {
	const path: MerkleStep[] = [];
	let level = leaves.slice();
	let position = index;
	while (level.length > 1) {
		const pair = position ^ 1;
		if (pair < level.length) path.push({ sibling: level[pair]!, left: pair < position });
		level = nextLevel(level);
		position = Math.floor(position / 2);
	}
	return path;
}

export function rootFromProof(leaf: Bytes, path: readonly MerkleStep[]): Bytes {
	return path.reduce(
		(node, step) =>
			taggedHash(NODE_TAG, step.left ? concatBytes(step.sibling, node) : concatBytes(node, step.sibling)),
		leaf
	);
}
