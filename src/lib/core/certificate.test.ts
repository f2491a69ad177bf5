import { describe, expect, it } from 'vitest';
import type { Bytes } from './bytes.ts';
import {
	assembleCertificate,
	decodeCertificate,
	encodeCertificate,
	statementBytes,
	verifyCertificate,
	type Certificate,
	type ConsensusKind
} from './certificate.ts';
import { blsProvePossession, blsSign, blsVerifyPossession } from './consensus/bls.ts';
import { devMembers } from '../../../tests/fixtures/dev-members.ts';
import { ConsensusGroup } from './consensus/group.ts';
import { ValidationError } from './errors.ts';
import { sha256 } from './hash.ts';

const dev = devMembers([0.9, 0.8, 0.1, 0.1]);
const group = new ConsensusGroup(dev.map((d) => d.member));
const value = sha256(new Uint8Array([1, 2, 3]));
const decision = { kind: 'keyblock' as ConsensusKind, height: 7, round: 1, value };

function signers(names: number[], what = decision): Map<number, Bytes> {
	const statement = statementBytes(group, { ...what, step: 'precommit' });
	return new Map(
		names.map((i) => [group.indexOf(dev[i]!.member.id), blsSign(dev[i]!.secretKey, statement)] as const)
	);
}

function code(fn: () => void): string {
	try {
		fn();
	} catch (error) {
		if (error instanceof ValidationError) return error.code;
		throw error;
	}
	return 'accepted';
}

const good = assembleCertificate(group, decision, signers([0, 1, 2]));

describe('certificates', () => {
	it('a quorum certificate verifies with one aggregate check and survives encoding', () => {
		expect(code(() => verifyCertificate(good, group, { kind: 'keyblock', height: 7, value }))).toBe(
			'accepted'
		);
		const decoded = decodeCertificate(encodeCertificate(good));
		expect(decoded).toEqual(good);
		expect(code(() => verifyCertificate(decoded, group))).toBe('accepted');
	});

	it('rejects too few signers even when they hold most reputation', () => {
		// Members 0 and 1 hold 1.7 of 1.9 reputation but are only 2 of 4 members.
		const statement = statementBytes(group, { ...decision, step: 'precommit' });
		const two = new Map(
			[0, 1].map((i) => [group.indexOf(dev[i]!.member.id), blsSign(dev[i]!.secretKey, statement)] as const)
		);
		expect(() => assembleCertificate(group, decision, two)).toThrow(
			expect.objectContaining({ code: 'certificate-quorum' })
		);
		const forged = { ...good, signers: bitmap([0, 1]) };
		expect(code(() => verifyCertificate(forged, group))).toBe('certificate-signers');
	});

	it('rejects three of four members that hold too little reputation', () => {
		// Members 1, 2, 3 are 3 of 4 but hold 1.0 of 1.9 reputation (< 2/3).
		const sigs = signers([1, 2, 3]);
		expect(() => assembleCertificate(group, decision, sigs)).toThrow(
			expect.objectContaining({ code: 'certificate-quorum' })
		);
		const certificate: Certificate = { ...good, signers: bitmap([1, 2, 3]) };
		expect(code(() => verifyCertificate(certificate, group))).toBe('certificate-reputation');
	});

	it('rejects signers outside the group and bitmap length mismatches', () => {
		const outside = new Uint8Array(good.signers);
		outside[0]! |= 1 << 5;
		expect(code(() => verifyCertificate({ ...good, signers: outside }, group))).toBe('certificate-bitmap');
		expect(code(() => verifyCertificate({ ...good, signers: new Uint8Array(2) }, group))).toBe(
			'certificate-bitmap'
		);
	});

	it('rejects a certificate whose bitmap claims a signer that did not sign', () => {
		const all = bitmap([0, 1, 2, 3]);
		expect(code(() => verifyCertificate({ ...good, signers: all }, group))).toBe('certificate-signature');
	});

	it('rejects a wrong value and replays for another height, round or kind', () => {
		expect(code(() => verifyCertificate(good, group, { value: sha256(new Uint8Array([9])) }))).toBe(
			'certificate-value'
		);
		expect(code(() => verifyCertificate(good, group, { height: 8 }))).toBe('certificate-height');
		expect(code(() => verifyCertificate(good, group, { kind: 'transactions' }))).toBe('certificate-kind');
		// Rewriting the fields instead breaks the signature: the statement is domain separated.
		for (const replay of [
			{ ...good, height: 8 },
			{ ...good, round: 2 },
			{ ...good, kind: 'transactions' as const },
			{ ...good, value: sha256(new Uint8Array([9])) }
		])
			expect(code(() => verifyCertificate(replay, group))).toBe('certificate-signature');
	});

	it('rejects prevote signatures presented as a precommit certificate', () => {
		const statement = statementBytes(group, { ...decision, step: 'prevote' });
		const prevotes = new Map(
			[0, 1, 2].map((i) => [group.indexOf(dev[i]!.member.id), blsSign(dev[i]!.secretKey, statement)] as const)
		);
		const certificate = assembleCertificate(group, decision, prevotes);
		expect(code(() => verifyCertificate(certificate, group))).toBe('certificate-signature');
	});

	it('is bound to its group: the same members in another epoch do not accept it', () => {
		const later = new ConsensusGroup(
			dev.map((d) => d.member),
			1
		);
		expect(code(() => verifyCertificate(good, later))).toBe('certificate-signature');
	});

	it('rejects malformed encodings and signatures', () => {
		expect(code(() => decodeCertificate(new Uint8Array([1, 2, 3])))).toBe('encoding');
		const badSignature = { ...good, signature: new Uint8Array(96).fill(7) };
		expect(code(() => verifyCertificate(badSignature, group))).toBe('bls-signature');
	});

	it('proofs of possession verify only for their own key', () => {
		const proof = blsProvePossession(dev[0]!.secretKey);
		expect(blsVerifyPossession(dev[0]!.member.blsPublicKey, proof)).toBe(true);
		expect(blsVerifyPossession(dev[1]!.member.blsPublicKey, proof)).toBe(false);
	});
});

/** Bitmap naming dev members (by their index in `dev`). */
function bitmap(members: number[]): Bytes {
	const out = new Uint8Array(1);
	for (const i of members) out[0]! |= 1 << group.indexOf(dev[i]!.member.id);
	return out;
}
