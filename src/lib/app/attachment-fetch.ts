/**
 * The phone fetches an attachment only when it is opened: the holder streams its chunks (attachment-wire.ts),
 * each one is opened and checked as it arrives (records/attachment.ts), with progress, and the parts end
 * in a Blob the page shows (a PDF or image in a new tab, anything else saved as a file). A changed chunk
 * stops the transfer with a sentence naming the part; the whole is checked against the signed record.
 */
import type { Bytes } from '../core/bytes.ts';
import { ValidationError } from '../core/errors.ts';
import type { Requester } from '../net/protocol.ts';
import { callStream } from '../net/stream-protocol.ts';
import { AttachmentOpener, type AttachmentRef } from '../records/attachment.ts';
import type { RecordHeader } from '../records/envelope.ts';
import { ATTACHMENT, type AttachmentRequest } from './attachment-wire.ts';
import { AppError, type OnProgress } from './types.ts';

export interface AttachmentFetch {
	net: Requester;
	/** The holder's peer id. */
	peer: string;
	request: AttachmentRequest;
	/** The record's header and key k_P (the patient derives it; a grantee has it from the share). */
	header: RecordHeader;
	recordKey: Bytes;
	ref: AttachmentRef;
	onProgress?: OnProgress;
	signal?: AbortSignal;
}

export async function fetchAttachment(options: AttachmentFetch): Promise<Blob> {
	const { ref, onProgress } = options;
	const opener = new AttachmentOpener(ref, options.header, options.recordKey);
	const parts: Bytes[] = [];
	try {
		for await (const chunk of callStream(options.net, options.peer, ATTACHMENT, options.request, {
			signal: options.signal
		})) {
			parts.push(await opener.open(chunk));
			onProgress?.({ step: 'Fetching the document', fraction: ref.size > 0 ? opener.bytes / ref.size : 1 });
		}
		opener.finish();
	} catch (error) {
		// The document is not shown: a damaged part is reported as the sentence it carries.
		if (error instanceof ValidationError) throw new AppError(error.code, error.message);
		throw error;
	}
	return new Blob(
		parts.map((part) => part.slice().buffer as ArrayBuffer),
		{ type: ref.contentType }
	);
}
