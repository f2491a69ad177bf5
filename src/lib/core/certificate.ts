/**
 * Certificates: what makes a pinned keyblock, a pinned transaction batch or a group hand-over final.
 * A certificate is the BLS aggregate of the precommit signatures of a quorum of the consensus group for
 * one statement, with a bitmap saying who signed:
 *   (kind, height, round, value hash, signer bitmap, aggregate signature).
 * Any node verifies it with ONE aggregate check: the signers' public keys are summed (G1 additions) and a
 * single pairing equation e(g1, σ) = e(Σ pk_i, H(statement)) is checked.
 *
 * Statements are domain separated: the signed bytes are a tagged hash of (protocol tag, group hash,
 * kind, height, round, step, value), so a signature is useless for another group, another kind of
 * decision (keyblock/transactions/membership), another height or round, or another step (a prevote is
 * not a precommit). Replays are therefore rejected by the signature check itself; the explicit checks
 * before it give clearer errors.
 */
import { bytesToHex, type Bytes } from './bytes.ts';
import {
	blsAggregateSignatures,
	blsVerify,
	blsVerifyAggregate,
	BLS_SIGNATURE_LENGTH
} from './consensus/bls.ts';
import type { ConsensusGroup } from './consensus/group.ts';
import { decodeCanonical, encodeCanonical, type Canonical } from './encoding.ts';
import { ensure, ValidationError } from './errors.ts';
import { HASH_LENGTH, taggedHash } from './hash.ts';
import * as read from './schema.ts';

/** The three things the group decides on (section 5.1.2 pinned blocks, 5.3 steps (3)/(6), hand-over). */
export const CONSENSUS_KINDS = ['keyblock', 'transactions', 'membership'] as const;
export type ConsensusKind = (typeof CONSENSUS_KINDS)[number];

export const VOTE_STEPS = ['proposal', 'prevote', 'precommit'] as const;
export type VoteStep = (typeof VOTE_STEPS)[number];

/** Upper bound on rounds within a height, far above any realistic run; bounds what peers can make us store. */
export const MAX_ROUND = 1_000_000;

/** What a member signs. `value` null is a nil vote; `validRound` only for proposals (-1 = none). */
export interface Statement {
	kind: ConsensusKind;
	height: number;
	round: number;
	step: VoteStep;
	value: Bytes | null;
	validRound?: number;
}

/** The exact bytes a member signs for `statement` in `group` (see header on domain separation). */
export function statementBytes(group: ConsensusGroup, statement: Statement): Bytes {
	const body: Record<string, Canonical> = {
		protocol: 'SPChain/consensus/v1',
		group: group.hash,
		kind: statement.kind,
		height: statement.height,
		round: statement.round,
		step: statement.step,
		value: statement.value
	};
	if (statement.step === 'proposal') body.validRound = statement.validRound ?? -1;
	return taggedHash('SPChain/consensus-statement', encodeCanonical(body));
}

export interface Certificate {
	kind: ConsensusKind;
	height: number;
	round: number;
	/** The decided 32-byte hash (keyblock hash, batch hash, member-set hash). */
	value: Bytes;
	/** Bit i (byte i>>3, bit i&7, least significant first) set when member i of the group signed. */
	signers: Bytes;
	signature: Bytes;
}

export function bitmapLength(groupSize: number): number {
	return Math.ceil(groupSize / 8);
}

export function signerIndices(signers: Bytes): number[] {
	const out: number[] = [];
	for (let i = 0; i < signers.length * 8; i++) if (signers[i >> 3]! & (1 << (i & 7))) out.push(i);
	return out;
}

/**
 * The signature operations consensus needs, behind an interface so a node can put a cache (or a worker)
 * in front of them. ValidationError on malformed keys/signatures; false on a signature that does not verify.
 */
export interface SignatureScheme {
	verify(publicKey: Bytes, message: Bytes, signature: Bytes): boolean;
	aggregate(signatures: readonly Bytes[]): Bytes;
	verifyAggregate(publicKeys: readonly Bytes[], message: Bytes, signature: Bytes): boolean;
}

export const blsScheme: SignatureScheme = {
	verify: blsVerify,
	aggregate: blsAggregateSignatures,
	verifyAggregate: blsVerifyAggregate
};

/** Aggregates precommit signatures (already verified one by one) into a certificate. */
export function assembleCertificate(
	group: ConsensusGroup,
	decision: { kind: ConsensusKind; height: number; round: number; value: Bytes },
	precommits: ReadonlyMap<number, Bytes>,
	scheme: SignatureScheme = blsScheme
): Certificate {
	const indices = [...precommits.keys()].sort((a, b) => a - b);
	ensure(group.isQuorum(indices), 'certificate-quorum', 'not enough precommits for a certificate');
	const signers = new Uint8Array(bitmapLength(group.size));
	for (const i of indices) signers[i >> 3]! |= 1 << (i & 7);
	return {
		...decision,
		signers,
		signature: scheme.aggregate(indices.map((i) => precommits.get(i)!))
	};
}

export interface CertificateExpectation {
	kind?: ConsensusKind;
	height?: number;
	value?: Bytes;
}

/**
 * Throws a ValidationError unless `certificate` is a valid precommit quorum of `group` (and matches
 * what the caller expects). Codes: certificate-kind, certificate-height, certificate-value,
 * certificate-bitmap, certificate-signers, certificate-reputation, certificate-signature.
 */
export function verifyCertificate(
	certificate: Certificate,
	group: ConsensusGroup,
	expected: CertificateExpectation = {},
	scheme: SignatureScheme = blsScheme
): void {
	if (expected.kind !== undefined && certificate.kind !== expected.kind)
		throw new ValidationError(
			'certificate-kind',
			`certificate is for ${certificate.kind}, expected ${expected.kind}`
		);
	if (expected.height !== undefined && certificate.height !== expected.height)
		throw new ValidationError(
			'certificate-height',
			`certificate is for height ${certificate.height}, expected ${expected.height}`
		);
	if (expected.value !== undefined && bytesToHex(expected.value) !== bytesToHex(certificate.value))
		throw new ValidationError('certificate-value', 'certificate is for another value');
	verifyQuorumSignature(
		group,
		certificate.signers,
		certificate.signature,
		statementBytes(group, { ...certificate, step: 'precommit' }),
		scheme
	);
}

/**
 * The double quorum of section 5.3 (6) over `message`: the bitmap fits the group, more than 2/3 of the
 * members AND of their reputation signed, and the aggregate verifies under the signers' summed keys.
 * Shared by pin certificates and by the group's approvals of registry facts (core/registry-approval.ts).
 */
export function verifyQuorumSignature(
	group: ConsensusGroup,
	signers: Bytes,
	signature: Bytes,
	message: Bytes,
	scheme: SignatureScheme = blsScheme
): void {
	ensure(
		signers.length === bitmapLength(group.size),
		'certificate-bitmap',
		`signer bitmap has ${signers.length} bytes, the group of ${group.size} needs ${bitmapLength(group.size)}`
	);
	const indices = signerIndices(signers);
	ensure(
		indices.every((i) => i < group.size),
		'certificate-bitmap',
		'signer bitmap names a member outside the group'
	);
	const count = indices.length;
	ensure(
		3 * count > 2 * group.size,
		'certificate-signers',
		`${count} of ${group.size} members signed; more than two thirds are needed`
	);
	const weight = indices.reduce((sum, i) => sum + group.weights[i]!, 0);
	ensure(
		3 * weight > 2 * group.totalWeight,
		'certificate-reputation',
		`signers hold ${weight} of ${group.totalWeight} reputation units; more than two thirds are needed`
	);
	const ok = scheme.verifyAggregate(
		indices.map((i) => group.members[i]!.blsPublicKey),
		message,
		signature
	);
	ensure(ok, 'certificate-signature', 'aggregate signature does not match the statement and signers');
}

export function certificateToCanonical(c: Certificate): { [key: string]: Canonical } {
	return {
		kind: c.kind,
		height: c.height,
		round: c.round,
		value: c.value,
		signers: c.signers,
		signature: c.signature
	};
}

export function readCertificate(value: unknown, where = 'certificate'): Certificate {
	const r = read.object(value, where, ['kind', 'height', 'round', 'value', 'signers', 'signature']);
	return {
		kind: read.oneOf(r.kind, `${where}.kind`, CONSENSUS_KINDS),
		height: read.uint(r.height, `${where}.height`),
		round: read.uint(r.round, `${where}.round`, MAX_ROUND),
		value: read.bytes(r.value, `${where}.value`, HASH_LENGTH),
		signers: read.bytes(r.signers, `${where}.signers`, { min: 1, max: 32 }),
		signature: read.bytes(r.signature, `${where}.signature`, BLS_SIGNATURE_LENGTH)
	};
}

export function encodeCertificate(c: Certificate): Bytes {
	return encodeCanonical(certificateToCanonical(c));
}

export function decodeCertificate(bytes: Bytes): Certificate {
	return readCertificate(decodeCanonical(bytes, 1024));
}
