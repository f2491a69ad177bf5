/**
 * The double encryption of a record, E_M(E_P(EMR)) (paper §5.3 Upload, Fig. 9), and its content address.
 * Why this file is long (~450 lines): sealing, opening and the checks against the chain are one format.
 *
 *   header   = (patient, holder, record)         record: 32 random bytes chosen by the patient's device
 *   k_P      = HKDF(master_P, salt = record, 'spchain/record-key/v1' ‖ patient ‖ holder)
 *   inner    = AES-GCM(k_P, iv₁, pad(content), AD = ('inner', header))               = E_P(EMR)
 *   k_M      = HKDF(storage_M, salt = record, 'spchain/record-outer/v1' ‖ patient ‖ holder)
 *   outer    = AES-GCM(k_M, iv₂, (iv₁, inner), AD = ('outer', header))               = E_M(E_P(EMR))
 *   stored   = canonical CBOR (v, patient, holder, record, iv₂, outer)
 *   Pointer.digest = SHA-256(stored)   — also the chameleon message source (chameleon.messageFromDigest)
 *
 * The patient's master key never leaves the patient's device: for each record the device derives k_P and
 * hands that one key to the writing clinic (which wrote the plaintext anyway). The holder's storage key
 * storage_M is derived from its signing secret, so the key backup that restores the institution restores
 * every record; the per-record outer key k_M is what the holder releases to the patient to "remove its
 * layer" for that one record (share.ts). Content is padded to a multiple of 256 bytes so the ciphertext
 * size reveals only a coarse size class. docs/privacy.md explains every choice.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { equalBytes, type Bytes } from '../core/bytes.ts';
import { decodeCanonical, encodeCanonical, type Canonical } from '../core/encoding.ts';
import { ensure, ValidationError } from '../core/errors.ts';
import { HASH_LENGTH, taggedHash } from '../core/hash.ts';
import {
	PUBLIC_KEY_LENGTH,
	SIGNATURE_LENGTH,
	sign,
	verifySignature,
	type PublicKey
} from '../core/identity.ts';
import * as read from '../core/schema.ts';
import {
	aesGcmDecrypt,
	aesGcmEncrypt,
	boxToCanonical,
	deriveKey,
	IV_LENGTH,
	KEY_LENGTH,
	randomIv,
	readBox,
	TAG_LENGTH,
	type Box
} from './aead.ts';

export const MASTER_KEY_LENGTH = 32;
export const RECORD_NONCE_LENGTH = 32;
export const ENVELOPE_VERSION = 1;
/** Largest FHIR resource text a record carries (attachments belong elsewhere). */
export const MAX_RESOURCE_LENGTH = 1024 * 1024;
/** Bound of a record's content and of each ciphertext layer on the wire. */
export const MAX_CONTENT_BYTES = MAX_RESOURCE_LENGTH * 4 + 1024;
export const MAX_SEALED_BYTES = MAX_CONTENT_BYTES + 1024;
const PAD_BLOCK = 256;

/** The cleartext part of a stored record: whose it is, who holds it, and its per-record nonce. */
export interface RecordHeader {
	patient: PublicKey;
	holder: PublicKey;
	/** 32 random bytes: the HKDF salt of both layers' keys, and the record's id off chain. */
	record: Bytes;
}

/** E_M(E_P(EMR)) as stored by the holder. */
export interface SealedRecord extends RecordHeader {
	iv: Bytes;
	ciphertext: Bytes;
}

/** E_P(EMR): what is left once the holder's layer is removed. */
export interface InnerRecord {
	iv: Bytes;
	ciphertext: Bytes;
}

/** A label's corrected record says which record it corrects and why (the label transaction says who). */
export interface Correction {
	/** Transaction id of the record being corrected (the label transaction's target). */
	target: Bytes;
	reason: string;
}

export const MAX_REASON_LENGTH = 500;

/**
 * What the inner layer protects: the FHIR resource (JSON text), for a corrected record the correction,
 * and the author's signature over all of it, so the patient, and a clinic the patient shares it with,
 * know which institution wrote it for whom, and why it corrected a record.
 */
export interface RecordContentBody {
	resource: string;
	authoredAt: number;
	correction?: Correction;
}

export interface RecordContent extends RecordContentBody {
	/** BIP-340 signature of header.holder over recordContentDigest(header, body). */
	signature: Bytes;
}

// ---------------------------------------------------------------- keys

export function generateMasterKey(): Bytes {
	return randomBytes(MASTER_KEY_LENGTH);
}

/** Patient device: k_P for one record. Deterministic, so the device re-derives it whenever needed. */
export function deriveRecordKey(masterKey: Bytes, header: RecordHeader): Bytes {
	ensure(masterKey.length === MASTER_KEY_LENGTH, 'envelope-key', 'the master key must be 32 bytes');
	return deriveKey(masterKey, header.record, 'spchain/record-key/v1', header.patient, header.holder);
}

/**
 * Patient device, at Upload: a fresh record nonce and its key k_P, handed to `holder` (the writing
 * clinic) for this record only. The nonce is chosen here, not by the clinic, so a clinic cannot make
 * the device derive the key of a record it does not hold (the holder is in the derivation too).
 */
export function issueRecordKey(
	masterKey: Bytes,
	patient: PublicKey,
	holder: PublicKey
): { header: RecordHeader; key: Bytes } {
	const header = { patient, holder, record: randomBytes(RECORD_NONCE_LENGTH) };
	return { header, key: deriveRecordKey(masterKey, header) };
}

/** Institution: its storage key K_M, derived from its signing secret (restored with the key backup). */
export function deriveStorageKey(institutionSecretKey: Bytes): Bytes {
	return deriveKey(institutionSecretKey, new Uint8Array(0), 'spchain/storage-key/v1');
}

/** Institution: the outer-layer key of one record; releasing it opens that record's outer layer only. */
export function deriveOuterKey(storageKey: Bytes, header: RecordHeader): Bytes {
	return deriveKey(storageKey, header.record, 'spchain/record-outer/v1', header.patient, header.holder);
}

// ---------------------------------------------------------------- encodings

export function headerToCanonical(h: RecordHeader): { patient: Bytes; holder: Bytes; record: Bytes } {
	return { patient: h.patient, holder: h.holder, record: h.record };
}

function associatedData(layer: 'inner' | 'outer', h: RecordHeader): Bytes {
	return encodeCanonical({ layer, v: ENVELOPE_VERSION, ...headerToCanonical(h) });
}

export function readHeader(value: unknown, where: string): RecordHeader {
	const o = read.object(value, where, ['patient', 'holder', 'record']);
	return {
		patient: read.bytes(o.patient, `${where}.patient`, PUBLIC_KEY_LENGTH),
		holder: read.bytes(o.holder, `${where}.holder`, PUBLIC_KEY_LENGTH),
		record: read.bytes(o.record, `${where}.record`, RECORD_NONCE_LENGTH)
	};
}

export function headerOf(r: RecordHeader): RecordHeader {
	return { patient: r.patient, holder: r.holder, record: r.record };
}

export function encodeHeader(h: RecordHeader): Bytes {
	return encodeCanonical(headerToCanonical(h));
}

export function encodeSealedRecord(s: SealedRecord): Bytes {
	return encodeCanonical({
		v: ENVELOPE_VERSION,
		...headerToCanonical(s),
		iv: s.iv,
		ciphertext: s.ciphertext
	});
}

/** Strictly decodes stored or fetched ciphertext bytes (the header is cleartext). */
export function decodeSealedRecord(bytes: Bytes): SealedRecord {
	const where = 'sealed';
	const o = read.object(decodeCanonical(bytes, MAX_SEALED_BYTES + 512), where, [
		'v',
		'patient',
		'holder',
		'record',
		'iv',
		'ciphertext'
	]);
	ensure(o.v === ENVELOPE_VERSION, 'envelope-version', `unsupported record envelope version ${String(o.v)}`);
	return {
		...readHeader({ patient: o.patient, holder: o.holder, record: o.record }, where),
		iv: read.bytes(o.iv, `${where}.iv`, IV_LENGTH),
		ciphertext: read.bytes(o.ciphertext, `${where}.ciphertext`, { min: TAG_LENGTH, max: MAX_SEALED_BYTES })
	};
}

function encodeInner(inner: InnerRecord): Bytes {
	return encodeCanonical({ iv: inner.iv, ciphertext: inner.ciphertext });
}

function decodeInner(bytes: Bytes): InnerRecord {
	const o = read.object(decodeCanonical(bytes, MAX_SEALED_BYTES), 'inner', ['iv', 'ciphertext']);
	return {
		iv: read.bytes(o.iv, 'inner.iv', IV_LENGTH),
		ciphertext: read.bytes(o.ciphertext, 'inner.ciphertext', {
			min: TAG_LENGTH,
			max: MAX_CONTENT_BYTES + 512
		})
	};
}

/** The content address of stored ciphertext: Pointer.digest. */
export function contentAddress(sealedBytes: Bytes): Bytes {
	return sha256(sealedBytes);
}

// ---------------------------------------------------------------- content and its author

function correctionToCanonical(c: Correction): { target: Bytes; reason: string } {
	return { target: c.target, reason: c.reason };
}

export function recordContentDigest(header: RecordHeader, body: RecordContentBody): Bytes {
	const value: { [key: string]: Canonical } = {
		...headerToCanonical(header),
		resource: sha256(utf8ToBytes(body.resource)),
		authoredAt: body.authoredAt
	};
	if (body.correction) value.correction = correctionToCanonical(body.correction);
	return taggedHash('spchain/record-content', encodeCanonical(value));
}

/** Institution: signs the content it wrote for the record `header` (header.holder must be its id). */
export function signRecordContent(
	header: RecordHeader,
	body: RecordContentBody,
	institutionSecretKey: Bytes
): RecordContent {
	ensure(body.resource.length <= MAX_RESOURCE_LENGTH, 'record-size', 'the record is too large');
	if (body.correction) {
		ensure(
			body.correction.target.length === HASH_LENGTH,
			'record-correction',
			'a correction names a record id'
		);
		ensure(
			body.correction.reason.trim() !== '' && body.correction.reason.length <= MAX_REASON_LENGTH,
			'record-correction',
			`a correction needs a reason of at most ${MAX_REASON_LENGTH} characters`
		);
	}
	const content: RecordContentBody = { resource: body.resource, authoredAt: body.authoredAt };
	if (body.correction) content.correction = correctionToCanonical(body.correction);
	return { ...content, signature: sign(institutionSecretKey, recordContentDigest(header, content)) };
}

/**
 * Throws ValidationError 'record-author' unless the holder signed this content for this record with
 * `author`: its signing key in force at the record's round (Ledger.recordAuthorKey,
 * InstitutionRegistry.signingKeyAt), which is its id until it rotates its key.
 */
export function checkRecordContent(
	header: RecordHeader,
	content: RecordContent,
	author: PublicKey = header.holder
): void {
	ensure(
		verifySignature(author, recordContentDigest(header, content), content.signature),
		'record-author',
		'the record is not signed by the institution that holds it, with its signing key of that round'
	);
}

export function encodeRecordContent(c: RecordContent): Bytes {
	const value: { [key: string]: Canonical } = {
		resource: c.resource,
		authoredAt: c.authoredAt,
		signature: c.signature
	};
	if (c.correction) value.correction = correctionToCanonical(c.correction);
	return encodeCanonical(value);
}

export function decodeRecordContent(bytes: Bytes): RecordContent {
	const o = read.object(
		decodeCanonical(bytes, MAX_CONTENT_BYTES),
		'content',
		['resource', 'authoredAt', 'signature'],
		['correction']
	);
	const content: RecordContent = {
		resource: read.string(o.resource, 'content.resource', MAX_RESOURCE_LENGTH),
		authoredAt: read.uint(o.authoredAt, 'content.authoredAt'),
		signature: read.bytes(o.signature, 'content.signature', SIGNATURE_LENGTH)
	};
	if (o.correction !== undefined) {
		const c = read.object(o.correction, 'content.correction', ['target', 'reason']);
		content.correction = {
			target: read.bytes(c.target, 'content.correction.target', HASH_LENGTH),
			reason: read.string(c.reason, 'content.correction.reason', MAX_REASON_LENGTH)
		};
	}
	return content;
}

// ---------------------------------------------------------------- padding

/** ISO/IEC 7816-4 padding to a multiple of 256 bytes: data ‖ 0x80 ‖ 0x00…. */
export function pad(data: Bytes): Bytes {
	const length = Math.ceil((data.length + 1) / PAD_BLOCK) * PAD_BLOCK;
	const out = new Uint8Array(length);
	out.set(data);
	out[data.length] = 0x80;
	return out;
}

export function unpad(padded: Bytes): Bytes {
	let end = padded.length - 1;
	while (end >= 0 && padded[end] === 0) end--;
	if (end < 0 || padded[end] !== 0x80 || padded.length % PAD_BLOCK !== 0)
		throw new ValidationError('envelope-padding', 'the decrypted record is not correctly padded');
	return padded.subarray(0, end);
}

// ---------------------------------------------------------------- sealing and opening

export interface Sealed {
	sealed: SealedRecord;
	/** The stored bytes (what the holder keeps and serves). */
	bytes: Bytes;
	/** SHA-256(bytes): Pointer.digest. */
	digest: Bytes;
}

/** The writing institution: E_M(E_P(content)) for `header`, under k_P (from the patient) and its storage key. */
export async function sealRecord(
	header: RecordHeader,
	recordKey: Bytes,
	storageKey: Bytes,
	content: RecordContent
): Promise<Sealed> {
	ensure(recordKey.length === KEY_LENGTH, 'envelope-key', 'the record key must be 32 bytes');
	const h = headerOf(header);
	const innerIv = randomIv();
	const inner = await aesGcmEncrypt(
		recordKey,
		innerIv,
		pad(encodeRecordContent(content)),
		associatedData('inner', h)
	);
	const iv = randomIv();
	const ciphertext = await aesGcmEncrypt(
		deriveOuterKey(storageKey, h),
		iv,
		encodeInner({ iv: innerIv, ciphertext: inner }),
		associatedData('outer', h)
	);
	const sealed = { ...h, iv, ciphertext };
	const bytes = encodeSealedRecord(sealed);
	return { sealed, bytes, digest: contentAddress(bytes) };
}

/** Removes the holder's layer with the record's outer key; 'envelope-outer' if the key or bytes are wrong. */
export async function openOuter(sealed: SealedRecord, outerKey: Bytes): Promise<InnerRecord> {
	const plain = await aesGcmDecrypt(
		outerKey,
		sealed.iv,
		sealed.ciphertext,
		associatedData('outer', headerOf(sealed)),
		'envelope-outer',
		"the holding institution's layer does not open: wrong key, or the stored record was altered"
	);
	return decodeInner(plain);
}

/** Removes the patient's layer with k_P; 'envelope-inner' if the key or bytes are wrong. */
export async function openInner(
	header: RecordHeader,
	inner: InnerRecord,
	recordKey: Bytes
): Promise<RecordContent> {
	const plain = await aesGcmDecrypt(
		recordKey,
		inner.iv,
		inner.ciphertext,
		associatedData('inner', headerOf(header)),
		'envelope-inner',
		"the patient's layer does not open: wrong key, or the record was altered"
	);
	return decodeRecordContent(unpad(plain));
}

/**
 * Opens stored bytes end to end: checks the content address against `digest` (the on-chain pointer)
 * when given, removes both layers and checks the author's signature (with `author` when given: the
 * holder's signing key of the record's round, else its id).
 */
export async function openRecord(
	bytes: Bytes,
	keys: { outerKey: Bytes; recordKey: Bytes },
	expect?: { digest?: Bytes; patient?: PublicKey; holder?: PublicKey; author?: PublicKey }
): Promise<{ header: RecordHeader; content: RecordContent }> {
	if (expect?.digest)
		ensure(
			equalBytes(contentAddress(bytes), expect.digest),
			'envelope-digest',
			'the ciphertext does not match the content address on the chain'
		);
	const sealed = decodeSealedRecord(bytes);
	const header = headerOf(sealed);
	if (expect?.patient)
		ensure(
			equalBytes(header.patient, expect.patient),
			'envelope-patient',
			'the record belongs to another patient'
		);
	if (expect?.holder)
		ensure(
			equalBytes(header.holder, expect.holder),
			'envelope-holder',
			'the record is held by another institution'
		);
	const content = await openInner(header, await openOuter(sealed, keys.outerKey), keys.recordKey);
	checkRecordContent(header, content, expect?.author);
	return { header, content };
}

/**
 * A record released by its holder to one person: the stored bytes and that record's outer key sealed to
 * the recipient (share.ts AccessResponse, upload.ts UploadReview).
 */
export interface ReleasedRecord {
	sealed: Bytes;
	key: Box;
}

export function encodeReleasedRecord(r: ReleasedRecord): Bytes {
	return encodeCanonical({ sealed: r.sealed, key: boxToCanonical(r.key) });
}

export function decodeReleasedRecord(bytes: Bytes): ReleasedRecord {
	const o = read.object(decodeCanonical(bytes, MAX_SEALED_BYTES + 1024), 'released', ['sealed', 'key']);
	return {
		sealed: read.bytes(o.sealed, 'released.sealed', { min: 1, max: MAX_SEALED_BYTES + 512 }),
		key: readBox(o.key, 'released.key', 64)
	};
}

/** For tests and diagnostics: does `haystack` contain `needle` anywhere? */
export function containsBytes(haystack: Bytes, needle: Bytes): boolean {
	if (needle.length === 0) return true;
	outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
		for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
		return true;
	}
	return false;
}
