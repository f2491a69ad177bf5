/**
 * A large attachment (a PDF or image of a visit) is kept beside its record, not in it, and encrypted the
 * same two ways, in chunks so no side needs it whole in memory:
 *
 *   hash      = SHA-256(attachment)              in the record as url urn:spchain:attachment:<hash hex>,
 *                                                with size and contentType (signed with the record)
 *   k_A,P     = HKDF(k_P, salt = hash, 'spchain/attachment-inner/v1')    the patient's layer
 *   k_A,M     = HKDF(k_M, salt = hash, 'spchain/attachment-outer/v1')    the holder's layer (k_M: envelope.ts)
 *   chunk i   = AES-GCM(k_A,M, iv₂, iv₁ ‖ AES-GCM(k_A,P, iv₁, part i, AD), AD)
 *   AD        = (layer, record nonce, hash, i, count)
 *
 * The associated data binds every chunk to its record, its attachment, its place and the number of
 * chunks, so a changed, swapped, repeated or dropped chunk fails to open, and a missing tail is caught
 * by the count; the SHA-256 over the opened parts is checked against the record last. The record the
 * patient signs (and the chameleon hash on chain) carries only the hash, so the chain stays small.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, concatBytes, equalBytes, fromHex, type Bytes } from '../core/bytes.ts';
import { encodeCanonical } from '../core/encoding.ts';
import { ValidationError } from '../core/errors.ts';
import { aesGcmDecrypt, aesGcmEncrypt, deriveKey, IV_LENGTH, randomIv } from './aead.ts';
import { deriveOuterKey, type RecordHeader } from './envelope.ts';

/** Plaintext bytes per chunk: a sealed chunk (two IVs and tags more) fits one network frame easily. */
export const ATTACHMENT_CHUNK_BYTES = 256 * 1024;
/** A sealed chunk's overhead: two IVs and two GCM tags. */
export const SEALED_CHUNK_OVERHEAD = 2 * (IV_LENGTH + 16);
const URL_PREFIX = 'urn:spchain:attachment:';

/** What the record says about an attachment kept beside it. */
export interface AttachmentRef {
	/** SHA-256 of the content. */
	hash: Bytes;
	size: number;
	contentType: string;
}

export function attachmentUrl(hash: Bytes): string {
	return `${URL_PREFIX}${bytesToHex(hash)}`;
}

/** The content hash an attachment URL names, or undefined for any other URL. */
export function attachmentHashOf(url: unknown): Bytes | undefined {
	if (typeof url !== 'string' || !url.startsWith(URL_PREFIX)) return undefined;
	const hex = url.slice(URL_PREFIX.length);
	return /^[0-9a-f]{64}$/.test(hex) ? fromHex(hex, 32) : undefined;
}

export function chunkCount(size: number): number {
	return Math.max(1, Math.ceil(size / ATTACHMENT_CHUNK_BYTES));
}

function innerKey(recordKey: Bytes, hash: Bytes): Bytes {
	return deriveKey(recordKey, hash, 'spchain/attachment-inner/v1');
}

function outerKey(storageKey: Bytes, header: RecordHeader, hash: Bytes): Bytes {
	return deriveKey(deriveOuterKey(storageKey, header), hash, 'spchain/attachment-outer/v1');
}

function chunkAad(layer: 'inner' | 'outer', header: RecordHeader, hash: Bytes, index: number, count: number) {
	return encodeCanonical({ layer, record: header.record, hash, index, count });
}

/** The clinic: the attachment's chunks sealed in both layers, one at a time. */
export async function* sealAttachment(
	content: Bytes,
	keys: { header: RecordHeader; recordKey: Bytes; storageKey: Bytes; hash: Bytes }
): AsyncGenerator<Bytes> {
	const { header, hash } = keys;
	const count = chunkCount(content.length);
	const inner = innerKey(keys.recordKey, hash);
	const outer = outerKey(keys.storageKey, header, hash);
	for (let index = 0; index < count; index++) {
		const part = content.subarray(index * ATTACHMENT_CHUNK_BYTES, (index + 1) * ATTACHMENT_CHUNK_BYTES);
		const iv1 = randomIv();
		const sealedInner = concatBytes(
			iv1,
			await aesGcmEncrypt(inner, iv1, part, chunkAad('inner', header, hash, index, count))
		);
		const iv2 = randomIv();
		yield concatBytes(
			iv2,
			await aesGcmEncrypt(outer, iv2, sealedInner, chunkAad('outer', header, hash, index, count))
		);
	}
}

/** The holder: removes its layer from one stored chunk before it leaves (as it does for records). */
export function removeHolderLayer(
	chunk: Bytes,
	at: { header: RecordHeader; storageKey: Bytes; hash: Bytes; index: number; count: number }
): Promise<Bytes> {
	const { header, hash, index, count } = at;
	return aesGcmDecrypt(
		outerKey(at.storageKey, header, hash),
		chunk.subarray(0, IV_LENGTH),
		chunk.subarray(IV_LENGTH),
		chunkAad('outer', header, hash, index, count),
		'attachment-stored',
		`part ${index + 1} of ${count} of the attachment is damaged in this institution's store`
	);
}

/**
 * The patient (or a grantee with the record key): opens the chunks the holder sends, in order, checking
 * each one and, at the end, the count, the size and the SHA-256 the signed record carries.
 */
export class AttachmentOpener {
	private readonly key: Bytes;
	private readonly digest = sha256.create();
	readonly count: number;
	private index = 0;
	private received = 0;

	constructor(
		private readonly ref: AttachmentRef,
		private readonly header: RecordHeader,
		recordKey: Bytes
	) {
		this.key = innerKey(recordKey, ref.hash);
		this.count = chunkCount(ref.size);
	}

	/** Opens the next chunk; throws a ValidationError naming the chunk when it was changed. */
	async open(chunk: Bytes): Promise<Bytes> {
		const { index, count } = this;
		if (index >= count)
			throw new ValidationError(
				'attachment-chunk',
				`The document arrived with more than its ${count} parts; it was changed after the clinic stored it. Ask the clinic to check its copy.`
			);
		const part = await aesGcmDecrypt(
			this.key,
			chunk.subarray(0, IV_LENGTH),
			chunk.subarray(IV_LENGTH),
			chunkAad('inner', this.header, this.ref.hash, index, count),
			'attachment-chunk',
			`Part ${index + 1} of ${count} of the document was changed on the way or at the clinic, so it was not opened. Try again; if it happens again, ask the clinic to check its copy.`
		);
		this.index++;
		this.received += part.length;
		this.digest.update(part);
		return part;
	}

	/** Bytes opened so far (for progress). */
	get bytes(): number {
		return this.received;
	}

	/** Checks that every part arrived and the whole is what the record signed. */
	finish(): void {
		if (this.index < this.count)
			throw new ValidationError(
				'attachment-chunk',
				`Only ${this.index} of the document's ${this.count} parts arrived. Try again when the clinic is reachable.`
			);
		if (this.received !== this.ref.size || !equalBytes(this.digest.digest(), this.ref.hash))
			throw new ValidationError(
				'attachment-hash',
				'The document that arrived is not the one the record signed (its SHA-256 differs), so it was not opened. Ask the clinic to check its copy.'
			);
	}
}
