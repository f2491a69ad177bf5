/**
 * The patient's offline copies of the records it opened (fetched from a holder, or reviewed before
 * signing), by transaction id: sealed on the device (sealed-shelf.ts), and the author's signature over
 * the content checked again when read back, so a copy is only ever as good as the record it came from.
 */
import { bytesToHex, type Bytes } from '../../core/bytes.ts';
import { decodeCanonical, encodeCanonical } from '../../core/encoding.ts';
import {
	checkRecordContent,
	decodeRecordContent,
	encodeRecordContent,
	headerToCanonical,
	readHeader
} from '../../records/envelope.ts';
import type { OpenedRecord } from '../../records/history.ts';
import type { Store } from '../../store/store.ts';
import { SealedShelf } from './sealed-shelf.ts';

export type { OpenedRecord };

export class RecordCache {
	private readonly shelf: SealedShelf;
	/** Decrypted copies already read in this session (memory only). */
	private readonly opened = new Map<string, OpenedRecord>();

	constructor(store: Store, masterKey: Bytes) {
		this.shelf = new SealedShelf(store, masterKey, 'cache:', 'spchain/patient-cache/v1');
	}

	async put(id: Bytes, record: OpenedRecord): Promise<void> {
		this.opened.set(bytesToHex(id), record);
		const plain = encodeCanonical({
			header: headerToCanonical(record.header),
			content: encodeRecordContent(record.content)
		});
		await this.shelf.put(id, plain);
	}

	/** `author`: the holder's signing key at the record's round (default its id). */
	async get(id: Bytes, author?: Bytes): Promise<OpenedRecord | undefined> {
		const known = this.opened.get(bytesToHex(id));
		if (known) return known;
		const plain = await this.shelf.get(id);
		if (!plain) return undefined;
		try {
			const value = decodeCanonical(plain) as { header: unknown; content: unknown };
			const header = readHeader(value.header, 'cache.header');
			const content = decodeRecordContent(value.content as Uint8Array);
			checkRecordContent(header, content, author);
			this.opened.set(bytesToHex(id), { header, content });
			return { header, content };
		} catch {
			return undefined; // a damaged copy is fetched again from the holder
		}
	}
}
