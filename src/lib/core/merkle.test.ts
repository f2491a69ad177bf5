import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EMPTY_ROOT, merkleProof, merkleRoot, rootFromProof } from './merkle.ts';
import { sha256 } from './hash.ts';

const leaf = (i: number) => sha256(Uint8Array.of(i));

describe('Merkle tree', () => {
	it('has a fixed empty root and a single leaf as its own root', () => {
		expect(merkleRoot([])).toEqual(EMPTY_ROOT);
		expect(merkleRoot([leaf(1)])).toEqual(leaf(1));
	});

	it('does not let a duplicated last leaf share a root (CVE-2012-2459)', () => {
		const three = [leaf(1), leaf(2), leaf(3)];
		expect(merkleRoot(three)).not.toEqual(merkleRoot([...three, leaf(3)]));
	});

	it('changes its root when any leaf changes or leaves swap', () => {
		const leaves = [0, 1, 2, 3, 4].map(leaf);
		const root = merkleRoot(leaves);
		expect(merkleRoot([leaves[1]!, leaves[0]!, ...leaves.slice(2)])).not.toEqual(root);
		expect(merkleRoot([...leaves.slice(0, 4), leaf(9)])).not.toEqual(root);
	});

	it('proves membership of every leaf for every tree size (odd and even levels)', () => {
		fc.assert(
			fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), (n, pick) => {
				const leaves = Array.from({ length: n }, (_, i) => leaf(i));
				const index = pick % n;
				const path = merkleProof(leaves, index);
				expect(rootFromProof(leaves[index]!, path)).toEqual(merkleRoot(leaves));
				expect(rootFromProof(leaf(200), path)).not.toEqual(merkleRoot(leaves));
			}),
			{ numRuns: 200 }
		);
	});
});
