/**
 * The holder's attachments: the sealed chunks of each large attachment (records/attachment.ts), kept in
 * the `ciphertexts` table under `~attachment:<record nonce>:<hash>:<index>` (the `~` sorts after every
 * record's hex key, so the records' listing leaves them out), with a row `~attachment:<record nonce>:<hash>`
 * saying how many chunks and bytes there are. They are written and read one chunk at a time, and served
 * (attachment-wire.ts) to whoever may fetch the record they belong to, with the holder's layer removed;
 * each release is an entry of the patient's access log, naming the attachment.
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import { checkAccessRequest, type AccessGrant } from '../core/access-request.ts';
import type { Revocation } from '../core/consent.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { ValidationError } from '../core/errors.ts';
import * as read from '../core/schema.ts';
import type { PublicKey } from '../core/identity.ts';
import { serveStream } from '../net/stream-protocol.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { chunkCount, removeHolderLayer, sealAttachment } from '../records/attachment.ts';
import { decodeSealedRecord, headerOf, type RecordHeader } from '../records/envelope.ts';
import type { Store } from '../store/store.ts';
import { ATTACHMENT } from './attachment-wire.ts';

/** Where record rows end in the `ciphertexts` table: attachment rows start here. */
export const ATTACHMENT_KEYS_FROM = '~attachment:';
/** How long a served request's nonce is remembered (the access request's window is shorter). */
const NONCE_MEMORY_MS = 10 * 60_000;

const baseKey = (header: RecordHeader, hash: Bytes) =>
	`${ATTACHMENT_KEYS_FROM}${bytesToHex(header.record)}:${bytesToHex(hash)}`;
const chunkKey = (base: string, index: number) => `${base}:${String(index).padStart(6, '0')}`;

export interface HeldAttachmentsOptions {
	store: Store;
	storageKey: Bytes;
}

export class HeldAttachments {
	constructor(private readonly options: HeldAttachmentsOptions) {}

	/** Seals `content` for the record `header` and stores it chunk by chunk; the index row comes last. */
	async put(header: RecordHeader, recordKey: Bytes, hash: Bytes, content: Bytes): Promise<void> {
		const { store, storageKey } = this.options;
		const base = baseKey(header, hash);
		let index = 0;
		for await (const chunk of sealAttachment(content, { header, recordKey, storageKey, hash }))
			await store.write([{ table: 'ciphertexts', key: chunkKey(base, index++), value: chunk }]);
		await store.write([
			{ table: 'ciphertexts', key: base, value: encodeCanonical({ count: index, size: content.length }) }
		]);
	}

	/** Deletes an attachment's chunks and index row at once (a declined record keeps nothing here). */
	async remove(header: RecordHeader, hash: Bytes): Promise<void> {
		const { store } = this.options;
		const base = baseKey(header, hash);
		const chunks = await store.list('ciphertexts', { from: `${base}:`, to: `${base};` });
		await store.write(
			[base, ...chunks.map(([key]) => key)].map((key) => ({
				table: 'ciphertexts' as const,
				key,
				value: null
			}))
		);
	}

	/** The attachment's chunks with the holder's layer removed, read from the store one at a time. */
	async *read(header: RecordHeader, hash: Bytes): AsyncGenerator<Bytes> {
		const { store, storageKey } = this.options;
		const base = baseKey(header, hash);
		const row = await store.get('ciphertexts', base);
		if (!row)
			throw new ValidationError(
				'attachment-missing',
				'this institution holds no such attachment for the record'
			);
		const o = read.object(decodeCanonical(row), 'attachment', ['count', 'size']);
		const count = read.uint(o.count, 'attachment.count');
		if (count !== chunkCount(read.uint(o.size, 'attachment.size')))
			throw new ValidationError(
				'attachment-stored',
				"the attachment's index in this institution's store is damaged"
			);
		for (let index = 0; index < count; index++) {
			const chunk = await store.get('ciphertexts', chunkKey(base, index));
			if (!chunk)
				throw new ValidationError(
					'attachment-stored',
					`part ${index + 1} of ${count} of the attachment is missing from this institution's store`
				);
			yield removeHolderLayer(chunk, { header, storageKey, hash, index, count });
		}
	}
}

/** What serving needs from the holder: its id and the records it holds. */
export interface AttachmentServerOptions {
	net: Pick<PeerNet, 'handle'>;
	attachments: HeldAttachments;
	holder: PublicKey;
	/** The held record with this content address, when it is on the chain. */
	record(digest: Bytes): Promise<{ sealed: Bytes; patient: PublicKey; transactionId?: Bytes } | undefined>;
	revocations(): Promise<Revocation[]>;
	/** Appends the release to the patient's access log (as a record read does), before it starts. */
	log(release: {
		grant: AccessGrant;
		patient: PublicKey;
		record: Bytes;
		digest: Bytes;
		hash: Bytes;
	}): Promise<void>;
	clock: () => number;
}

/** Serves attachments to whoever may fetch their record (the same check as for the record itself). */
export function serveAttachments(options: AttachmentServerOptions): void {
	const answered = new Map<string, number>();
	serveStream(options.net, ATTACHMENT, async function* ({ access, hash }) {
		const held = await options.record(access.digest);
		if (!held?.transactionId)
			throw new ValidationError('holder-unknown', 'this institution holds no such record');
		const now = options.clock();
		for (const [nonce, at] of answered) if (now - at > NONCE_MEMORY_MS) answered.delete(nonce);
		const grant = checkAccessRequest(access, {
			holder: options.holder,
			record: { digest: access.digest, patient: held.patient, transactionId: held.transactionId },
			revocations: await options.revocations(),
			now,
			seen: (nonce) => answered.has(bytesToHex(nonce))
		});
		answered.set(bytesToHex(access.nonce), now);
		const chunks = options.attachments.read(headerOf(decodeSealedRecord(held.sealed)), hash);
		// The first chunk is read before logging, so a fetch of an attachment this holder lacks is not logged.
		const first = await chunks.next();
		await options.log({
			grant,
			patient: held.patient,
			record: held.transactionId,
			digest: access.digest,
			hash
		});
		if (!first.done) yield first.value;
		yield* chunks;
	});
}
