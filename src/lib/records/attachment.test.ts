import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import { equalBytes, type Bytes } from '../core/bytes.ts';
import { ValidationError } from '../core/errors.ts';
import {
	ATTACHMENT_CHUNK_BYTES,
	AttachmentOpener,
	attachmentHashOf,
	attachmentUrl,
	removeHolderLayer,
	sealAttachment,
	type AttachmentRef
} from './attachment.ts';
import type { RecordHeader } from './envelope.ts';

const header: RecordHeader = { patient: randomBytes(32), holder: randomBytes(32), record: randomBytes(32) };
const recordKey = randomBytes(32);
const storageKey = randomBytes(32);
const content = Uint8Array.from({ length: 3 * ATTACHMENT_CHUNK_BYTES + 1234 }, (_, i) => (i * 7919) % 251);
const hash = sha256(content);
const ref: AttachmentRef = { hash, size: content.length, contentType: 'application/pdf' };

async function sealed(): Promise<Bytes[]> {
	const chunks: Bytes[] = [];
	for await (const chunk of sealAttachment(content, { header, recordKey, storageKey, hash }))
		chunks.push(chunk);
	return chunks;
}

/** What the holder sends: each chunk with its layer removed. */
async function served(chunks: Bytes[]): Promise<Bytes[]> {
	return Promise.all(
		chunks.map((chunk, index) =>
			removeHolderLayer(chunk, { header, storageKey, hash, index, count: chunks.length })
		)
	);
}

async function openAll(
	chunks: Bytes[],
	opener = new AttachmentOpener(ref, header, recordKey)
): Promise<Bytes> {
	const parts: Bytes[] = [];
	for (const chunk of chunks) parts.push(await opener.open(chunk));
	opener.finish();
	return new Uint8Array(await new Blob(parts.map((p) => p.slice().buffer as ArrayBuffer)).arrayBuffer());
}

async function refusal(promise: Promise<unknown>): Promise<ValidationError> {
	const error = await promise.then(
		() => undefined,
		(e: unknown) => e
	);
	expect(error).toBeInstanceOf(ValidationError);
	return error as ValidationError;
}

describe('an attachment kept beside its record', () => {
	it('is sealed in chunks under both layers and opens back to the same bytes', async () => {
		const chunks = await sealed();
		expect(chunks).toHaveLength(4);
		expect(equalBytes(await openAll(await served(chunks)), content)).toBe(true);
		// Without the holder's layer removed, nothing opens.
		expect((await refusal(openAll(chunks))).code).toBe('attachment-chunk');
		expect(attachmentHashOf(attachmentUrl(hash))).toEqual(hash);
		expect(attachmentHashOf('urn:spchain:attachment:zz')).toBeUndefined();
	});

	it('a changed chunk is reported as a sentence naming the part', async () => {
		const inner = await served(await sealed());
		inner[2]![100]! ^= 1;
		const error = await refusal(openAll(inner));
		expect(error.code).toBe('attachment-chunk');
		expect(error.message).toMatch(/^Part 3 of 4 of the document was changed on the way or at the clinic/);
	});

	it('swapped, dropped or extra chunks, and a chunk damaged at the holder, are refused', async () => {
		const inner = await served(await sealed());
		expect((await refusal(openAll([inner[1]!, inner[0]!, inner[2]!, inner[3]!]))).message).toMatch(
			/^Part 1 of 4/
		);
		expect((await refusal(openAll(inner.slice(0, 3)))).message).toBe(
			"Only 3 of the document's 4 parts arrived. Try again when the clinic is reachable."
		);
		expect((await refusal(openAll([...inner, inner[3]!]))).message).toMatch(/more than its 4 parts/);
		const stored = await sealed();
		stored[1]![40]! ^= 1;
		const error = await refusal(served(stored));
		expect(error.code).toBe('attachment-stored');
		expect(error.message).toContain("part 2 of 4 of the attachment is damaged in this institution's store");
	});

	it('a record naming another hash or size does not accept the content', async () => {
		const inner = await served(await sealed());
		const shorter = new AttachmentOpener({ ...ref, size: content.length - 1 }, header, recordKey);
		expect((await refusal(openAll(inner, shorter))).code).toBe('attachment-hash');
		// Chunks of another record (another nonce) do not open under this record's header.
		const other = new AttachmentOpener(ref, { ...header, record: randomBytes(32) }, recordKey);
		expect((await refusal(openAll(inner, other))).code).toBe('attachment-chunk');
	});
});
