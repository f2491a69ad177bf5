/**
 * Reads one of the patient's records from its holder (paper §5.3 Share, the patient's fetch): a signed
 * access request, the holder removes its layer for this device alone, and the device opens both layers and
 * checks the bytes against the chain's pointer (records/share.ts openAccessResponse). The patient's own
 * reads are kept (record-cache.ts) and served from the copy; reads under a consent (for a share) are not.
 */
import { bytesToHex, type Bytes } from '../../core/bytes.ts';
import { createAccessRequest, type AccessAuthority } from '../../core/access-request.ts';
import type { PublicKey } from '../../core/identity.ts';
import type { LeafEntry } from '../../core/patient-block.ts';
import { transactionId, type Pointer } from '../../core/transaction.ts';
import { deriveRecordKey } from '../../records/envelope.ts';
import { attachmentRefs } from '../../records/fhir.ts';
import { fetchAttachment } from '../attachment-fetch.ts';
import { openAccessResponse } from '../../records/share.ts';
import { call, type Requester } from '../../net/protocol.ts';
import type { Directory } from '../directory.ts';
import { AppError, type OnProgress } from '../types.ts';
import { institutionView, type Consortium } from '../views.ts';
import { CIPHERTEXT } from '../wire.ts';
import type { OpenedRecord, RecordCache } from './record-cache.ts';

export interface RecordReaderOptions {
	/** Requests to the holders (the ciphertext, an attachment). */
	net: Requester;
	/** Finds a holder's peer (a lookup over the network). */
	directory: Pick<Directory, 'locate'>;
	/** The genesis, or the registry the chain derives (admitted institutions too). */
	genesis: Consortium;
	cache: RecordCache;
	clock: () => number;
	patient: { publicKey: PublicKey; secretKey: Bytes };
	masterKey: Bytes;
	/** The holder's signing key at a round (it may have rotated its key); default: its id. */
	authorKey?: (holder: PublicKey, round: number) => PublicKey | undefined;
}

export class RecordReader {
	constructor(private readonly options: RecordReaderOptions) {}

	async read(entry: LeafEntry, authority: AccessAuthority = { kind: 'patient' }): Promise<OpenedRecord> {
		const { net, cache, patient } = this.options;
		const { pointer } = entry.tx.body.record;
		const id = transactionId(entry.tx.body);
		const author = this.options.authorKey?.(pointer.holder, entry.tx.body.round);
		if (authority.kind === 'patient') {
			const known = await cache.get(id, author);
			if (known) return known;
		}
		const { peer, request } = await this.holderRequest(pointer, authority);
		const response = await call(net, peer, CIPHERTEXT, request);
		const opened = await openAccessResponse(response, {
			request,
			pointer,
			patient,
			masterKey: this.options.masterKey,
			author
		});
		if (authority.kind === 'patient') await cache.put(id, opened);
		return opened;
	}

	/** The holder's peer and a fresh signed request for the record `pointer` names. */
	private async holderRequest(pointer: Pointer, authority: AccessAuthority) {
		const { directory, genesis, clock, patient } = this.options;
		const peer = await directory.locate(pointer.holder, 8000);
		if (!peer)
			throw new AppError(
				'holder-offline',
				`${institutionView(genesis, pointer.holder).name} is not reachable right now.`
			);
		const request = createAccessRequest(
			{ holder: pointer.holder, digest: pointer.digest, authority, time: clock() },
			patient.secretKey,
			patient.publicKey
		);
		return { peer, request };
	}

	/** An attachment of one of the patient's records, fetched from its holder when opened. */
	async openAttachment(entry: LeafEntry, url: string, onProgress?: OnProgress): Promise<Blob> {
		const { header, content } = await this.read(entry);
		const ref = attachmentRefs(JSON.parse(content.resource)).find((a) => a.url === url);
		if (!ref) throw new AppError('attachment-missing', 'This record has no such document.');
		const { peer, request } = await this.holderRequest(entry.tx.body.record.pointer, { kind: 'patient' });
		return fetchAttachment({
			net: this.options.net,
			peer,
			request: { access: request, hash: ref.hash },
			header,
			recordKey: deriveRecordKey(this.options.masterKey, header),
			ref,
			onProgress
		});
	}

	/** The record with transaction id `id` among `entries`, read as the patient. */
	async readById(entries: readonly LeafEntry[], id: Bytes): Promise<OpenedRecord> {
		const entry = entries.find((e) => bytesToHex(transactionId(e.tx.body)) === bytesToHex(id));
		if (!entry)
			throw new AppError('label-target', 'The record to correct is not in your history on the chain.');
		return this.read(entry);
	}
}
