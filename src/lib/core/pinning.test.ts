import { describe, expect, it } from 'vitest';
import type { Bytes } from './bytes.ts';
import { assembleCertificate, statementBytes, type Certificate, type ConsensusKind } from './certificate.ts';
import { blsSign } from './consensus/bls.ts';
import { devMembers } from '../../../tests/fixtures/dev-members.ts';
import { ConsensusGroup } from './consensus/group.ts';
import { encodeCanonical } from './encoding.ts';
import { sha256 } from './hash.ts';
import { merkleProof, merkleRoot, rootFromProof } from './merkle.ts';
import {
	assertNotConflictingWithPins,
	batchHash,
	decodePin,
	decodePinnedBatch,
	decodeVerifiedPinnedBatch,
	encodePin,
	encodePinnedBatch,
	isConflictingWithPin,
	verifyKeyblockPin,
	verifyPinnedBatch,
	type PinnedBatch,
	type TransactionBatch
} from './pinning.ts';

const dev = devMembers([0.5, 0.6, 0.7, 0.8]);
const group = new ConsensusGroup(dev.map((d) => d.member));
const h = (...bytes: number[]): Bytes => sha256(new Uint8Array(bytes));

function certify(kind: ConsensusKind, height: number, value: Bytes): Certificate {
	const decision = { kind, height, round: 0, value };
	const statement = statementBytes(group, { ...decision, step: 'precommit' });
	return assembleCertificate(
		group,
		decision,
		new Map(
			[0, 1, 2, 3].map((i) => [group.indexOf(dev[i]!.member.id), blsSign(dev[i]!.secretKey, statement)])
		)
	);
}

describe('pinned keyblocks', () => {
	const pinned = { height: 5, keyblockHash: h(5) };

	it('isConflictingWithPin: another block at the pinned height, or a child of something else', () => {
		expect(isConflictingWithPin({ height: 5, hash: h(5), prev: h(4) }, pinned)).toBe(false);
		expect(isConflictingWithPin({ height: 5, hash: h(55), prev: h(4) }, pinned)).toBe(true);
		expect(isConflictingWithPin({ height: 6, hash: h(6), prev: h(5) }, pinned)).toBe(false);
		expect(isConflictingWithPin({ height: 6, hash: h(66), prev: h(55) }, pinned)).toBe(true);
		expect(isConflictingWithPin({ height: 9, hash: h(9), prev: h(8) }, pinned)).toBe(false);
		expect(() => assertNotConflictingWithPins({ height: 5, hash: h(55), prev: h(4) }, [pinned])).toThrow(
			expect.objectContaining({ code: 'keyblock-conflicts-pin' })
		);
	});

	it('a pin certificate verifies for its keyblock only, and round-trips through the keyblock pin field', () => {
		const certificate = certify('keyblock', 5, pinned.keyblockHash);
		const stored = decodePin(encodePin(certificate));
		expect(() => verifyKeyblockPin(stored, pinned, group)).not.toThrow();
		expect(() => verifyKeyblockPin(stored, { height: 5, keyblockHash: h(55) }, group)).toThrow(
			expect.objectContaining({ code: 'certificate-value' })
		);
		expect(() => verifyKeyblockPin(stored, { height: 6, keyblockHash: pinned.keyblockHash }, group)).toThrow(
			expect.objectContaining({ code: 'certificate-height' })
		);
		const forBatch = certify('transactions', 5, pinned.keyblockHash);
		expect(() => verifyKeyblockPin(forBatch, pinned, group)).toThrow(
			expect.objectContaining({ code: 'certificate-kind' })
		);
		expect(() => decodePin(new Uint8Array(5000))).toThrow(expect.objectContaining({ code: 'pin-size' }));
	});
});

describe('pinned transaction batches', () => {
	const batch: TransactionBatch = { round: 3, institution: h(0xaa), transactions: [h(1), h(2), h(3)] };
	const pinned: PinnedBatch = {
		sequence: 1,
		batch,
		certificate: certify('transactions', 1, batchHash(batch))
	};

	it('verifies, round-trips, and lets a patient block prove inclusion with a Merkle path', () => {
		const decoded = decodePinnedBatch(encodePinnedBatch(pinned));
		expect(() => verifyPinnedBatch(decoded, group)).not.toThrow();
		const root = merkleRoot(batch.transactions);
		expect(rootFromProof(h(2), merkleProof(batch.transactions, 1))).toEqual(root);
	});

	it('rejects a batch altered after pinning, empty or duplicated batches', () => {
		const altered = { ...pinned, batch: { ...batch, transactions: [h(1), h(3), h(2)] } };
		expect(() => verifyPinnedBatch(altered, group)).toThrow(
			expect.objectContaining({ code: 'certificate-value' })
		);
		expect(() => verifyPinnedBatch({ ...pinned, sequence: 2 }, group)).toThrow(
			expect.objectContaining({ code: 'certificate-height' })
		);
		expect(() => batchHash({ ...batch, transactions: [] })).toThrow(
			expect.objectContaining({ code: 'batch-empty' })
		);
		expect(() => batchHash({ ...batch, transactions: [h(1), h(1)] })).toThrow(
			expect.objectContaining({ code: 'batch-duplicate' })
		);
	});

	it('reads a verified journal batch without cborg as decodePinnedBatch decodes it, with its checks', () => {
		const many = { ...batch, transactions: Array.from({ length: 300 }, (_, i) => h(i >> 8, i)) };
		for (const p of [pinned, { ...pinned, sequence: 70_000, batch: many }]) {
			const bytes = encodePinnedBatch(p);
			expect(decodeVerifiedPinnedBatch(bytes)).toEqual(decodePinnedBatch(bytes));
		}
		// The batch's own checks still run: a repeated id, a short id, a short institution.
		const fields = {
			sequence: 1,
			round: 3,
			institution: batch.institution,
			transactions: batch.transactions,
			certificate: encodePin(pinned.certificate)
		};
		const edits: [Partial<typeof fields>, string][] = [
			[{ transactions: [h(1), h(1)] }, 'batch-duplicate'],
			[{ transactions: [h(1).subarray(1)] }, 'batch-transaction-id'],
			[{ institution: h(1).subarray(1) }, 'batch-institution']
		];
		for (const [edit, code] of edits)
			expect(() => decodeVerifiedPinnedBatch(encodeCanonical({ ...fields, ...edit }))).toThrow(
				expect.objectContaining({ code })
			);
		// Bytes the walk does not expect fail as the full decoding fails.
		const bytes = encodePinnedBatch(pinned);
		for (const odd of [
			bytes.subarray(0, bytes.length - 1),
			encodeCanonical({ ...fields, extra: 1 }),
			encodeCanonical({ ...fields, round: 'three' })
		]) {
			const error = (() => {
				try {
					decodePinnedBatch(odd);
				} catch (e) {
					return e as Error;
				}
			})();
			expect(error).toBeDefined();
			expect(() => decodeVerifiedPinnedBatch(odd)).toThrow(error!.message);
		}
	});
});
