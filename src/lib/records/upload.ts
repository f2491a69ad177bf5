/**
 * Upload (paper §5.3 steps 4-6, cases 1-3) as the two devices run it, around envelope.ts:
 *
 *   patient → clinic  RecordKeyGrant: a fresh record header and its k_P, sealed to the clinic's key and
 *                     signed by the patient (the master key never leaves the device; the clinic gets the
 *                     key of this one record, bound to itself as holder).
 *   clinic            acceptRecordKey, then sealResource: validates the FHIR resource, signs it as author,
 *                     seals E_M(E_P(·)), keeps the bytes; Pointer = (SHA-256(bytes), clinic id).
 *   clinic → patient  UploadReview: the sealed bytes and this record's outer key sealed to the patient, so
 *                     the patient's device opens exactly what will be pinned, shows it, and only then
 *                     signs the medical (or label) transaction whose pointer.digest is review.digest.
 */
import { equalBytes, type Bytes } from '../core/bytes.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { ensure } from '../core/errors.ts';
import { taggedHash } from '../core/hash.ts';
import { SIGNATURE_LENGTH, sign, verifySignature, type PublicKey } from '../core/identity.ts';
import * as read from '../core/schema.ts';
import { boxToCanonical, openBox, readBox, sealTo, type Box } from './aead.ts';
import {
	contentAddress,
	decodeReleasedRecord,
	decodeSealedRecord,
	encodeReleasedRecord,
	type ReleasedRecord,
	deriveOuterKey,
	deriveRecordKey,
	encodeHeader,
	headerToCanonical,
	headerOf,
	issueRecordKey,
	openRecord,
	readHeader,
	sealRecord,
	signRecordContent,
	type Correction,
	type RecordContent,
	type RecordHeader,
	type Sealed
} from './envelope.ts';
import { ensureValidResource, parseResource, type RecordResource } from './fhir.ts';
import type { HolderKeys } from './share.ts';

export interface RecordKeyGrant {
	header: RecordHeader;
	/** k_P sealed to header.holder. */
	key: Box;
	/** The patient's signature over (header, key). */
	signature: Bytes;
}

function grantDigest(header: RecordHeader, key: Box): Bytes {
	return taggedHash(
		'spchain/record-key-grant',
		encodeCanonical({ header: headerToCanonical(header), key: boxToCanonical(key) })
	);
}

/** Patient device: a new record for `holder`, its key sealed to the holder and signed. */
export async function grantRecordKey(
	masterKey: Bytes,
	patient: { publicKey: PublicKey; secretKey: Bytes },
	holder: PublicKey
): Promise<RecordKeyGrant> {
	const { header, key } = issueRecordKey(masterKey, patient.publicKey, holder);
	const box = await sealTo(holder, key, 'record-key', encodeHeader(header));
	return { header, key: box, signature: sign(patient.secretKey, grantDigest(header, box)) };
}

/** Clinic: checks the grant is for it and from the patient it names, and opens k_P. */
export async function acceptRecordKey(
	grant: RecordKeyGrant,
	holder: { id: PublicKey; secretKey: Bytes }
): Promise<{ header: RecordHeader; key: Bytes }> {
	ensure(
		equalBytes(grant.header.holder, holder.id),
		'grant-holder',
		'this record key was issued to another institution'
	);
	ensure(
		verifySignature(grant.header.patient, grantDigest(grant.header, grant.key), grant.signature),
		'grant-signature',
		'the record key is not signed by the patient it names'
	);
	const key = await openBox(grant.key, holder.secretKey, holder.id, 'record-key', encodeHeader(grant.header));
	return { header: headerOf(grant.header), key };
}

export function encodeRecordKeyGrant(g: RecordKeyGrant): Bytes {
	return encodeCanonical({
		header: headerToCanonical(g.header),
		key: boxToCanonical(g.key),
		signature: g.signature
	});
}

export function decodeRecordKeyGrant(bytes: Bytes): RecordKeyGrant {
	const o = read.object(decodeCanonical(bytes, 1024), 'grant', ['header', 'key', 'signature']);
	return {
		header: readHeader(o.header, 'grant.header'),
		key: readBox(o.key, 'grant.key', 64),
		signature: read.bytes(o.signature, 'grant.signature', SIGNATURE_LENGTH)
	};
}

/** Clinic: validates the resource (FHIR R4, fhir/validator.ts), signs it as author and seals both layers. */
export async function sealResource(options: {
	resource: RecordResource;
	header: RecordHeader;
	recordKey: Bytes;
	holder: HolderKeys;
	now: number;
	/** For a label: the record corrected and why. */
	correction?: Correction;
	/** The signing secret in force for the record's round, after a key rotation (default holder.secretKey). */
	author?: Bytes;
}): Promise<Sealed & { content: RecordContent }> {
	const { header, holder } = options;
	ensure(equalBytes(header.holder, holder.id), 'grant-holder', 'the record header names another institution');
	const resource = parseResource(options.resource);
	await ensureValidResource(resource); // the full R4 validator: the clinic's side only (fhir/validator.ts)
	const content = signRecordContent(
		header,
		{ resource: JSON.stringify(resource), authoredAt: options.now, correction: options.correction },
		options.author ?? holder.secretKey
	);
	const sealed = await sealRecord(header, options.recordKey, holder.storageKey, content);
	return { ...sealed, content };
}

/** Anyone holding decrypted content: the FHIR resource, validated again (content is only as good as its author). */
export function resourceOf(content: RecordContent): RecordResource {
	return parseResource(content.resource);
}

/** The stored bytes and the record's outer key sealed to the patient, bound to the ciphertext's digest. */
export type UploadReview = ReleasedRecord;
export const encodeUploadReview = encodeReleasedRecord;
export const decodeUploadReview = decodeReleasedRecord;

/** Clinic: what the patient's device needs to check the ciphertext before signing the transaction. */
export async function reviewUpload(sealedBytes: Bytes, holder: HolderKeys): Promise<UploadReview> {
	const header = headerOf(decodeSealedRecord(sealedBytes));
	ensure(equalBytes(header.holder, holder.id), 'grant-holder', 'the record names another institution');
	const key = await sealTo(
		header.patient,
		deriveOuterKey(holder.storageKey, header),
		'review',
		contentAddress(sealedBytes)
	);
	return { sealed: sealedBytes, key };
}

/**
 * Patient device: opens the clinic's review with its own keys. Returns the pointer digest to sign in the
 * medical transaction, the header, the author-checked content and the validated resource.
 */
export async function openUploadReview(
	review: UploadReview,
	options: {
		patient: { publicKey: PublicKey; secretKey: Bytes };
		masterKey: Bytes;
		holder: PublicKey;
		/** The holder's signing key at the transaction's round (it may have rotated); default its id. */
		author?: PublicKey;
	}
): Promise<{ digest: Bytes; header: RecordHeader; content: RecordContent; resource: RecordResource }> {
	const digest = contentAddress(review.sealed);
	const header = headerOf(decodeSealedRecord(review.sealed));
	const { patient } = options;
	const outerKey = await openBox(review.key, patient.secretKey, patient.publicKey, 'review', digest);
	const opened = await openRecord(
		review.sealed,
		{ outerKey, recordKey: deriveRecordKey(options.masterKey, header) },
		{ patient: patient.publicKey, holder: options.holder, author: options.author }
	);
	return { digest, ...opened, resource: resourceOf(opened.content) };
}
