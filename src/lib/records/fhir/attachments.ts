/**
 * Large attachments leave the record at import and come back at export. An Attachment (a
 * DocumentReference's content, a DiagnosticReport's presentedForm, any element of type Attachment) whose
 * base64 `data` is over INLINE_ATTACHMENT_BYTES is decoded, hashed and taken out; the record keeps its
 * `contentType`, `title`, the `size` and a `url` naming the content by its SHA-256
 * (records/attachment.ts), so the record the patient signs stays small and binds the content. Smaller
 * ones stay inline. Over MAX_ATTACHMENT_BYTES an attachment is refused, by name, before anyone is asked.
 */
import type { Resource } from '@medplum/fhirtypes';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64 } from '@scure/base';
import type { Bytes } from '../../core/bytes.ts';
import { attachmentHashOf, attachmentUrl } from '../attachment.ts';
import type { FhirProblem } from './errors.ts';
import { formatBytes, INLINE_ATTACHMENT_BYTES, MAX_ATTACHMENT_BYTES } from './limits.ts';

/** An attachment taken out of a record at import, to be sealed and stored beside it. */
export interface PlannedAttachment {
	/** The resource it belongs to, in words. */
	owner: string;
	title: string;
	contentType: string;
	size: number;
	hash: Bytes;
	url: string;
	content: Bytes;
}

type Loose = Record<string, unknown>;

/** Calls `visit` on every object shaped like an Attachment (contentType with data or url, no resourceType). */
export function eachAttachment(value: unknown, visit: (attachment: Loose) => void): void {
	const stack: unknown[] = [value];
	while (stack.length > 0) {
		const v = stack.pop();
		if (Array.isArray(v)) stack.push(...v);
		else if (v && typeof v === 'object') {
			const o = v as Loose;
			const isAttachment =
				o.resourceType === undefined &&
				typeof o.contentType === 'string' &&
				(typeof o.data === 'string' || typeof o.url === 'string');
			if (isAttachment) visit(o);
			else for (const child of Object.values(o)) if (child && typeof child === 'object') stack.push(child);
		}
	}
}

/** Bytes a base64 text decodes to, computed on its length (whitespace ignored). */
function decodedLength(text: string): number {
	const length = text.length;
	const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
	return Math.floor((length * 3) / 4) - padding;
}

/**
 * Takes the large attachments out of `resource` (changing it), returning them; an attachment over the
 * limit, or whose data is not base64, is added to `problems` instead.
 */
export function extractAttachments(
	resource: Resource,
	owner: string,
	problems: FhirProblem[]
): PlannedAttachment[] {
	const out: PlannedAttachment[] = [];
	eachAttachment(resource, (a) => {
		if (typeof a.data !== 'string') return;
		const title = typeof a.title === 'string' ? a.title : 'attachment';
		const data = /\s/.test(a.data) ? a.data.replace(/\s+/g, '') : a.data;
		const size = decodedLength(data);
		if (size > MAX_ATTACHMENT_BYTES) {
			problems.push({
				subject: owner,
				message:
					`its attachment "${title}" is ${formatBytes(size)}, more than the ${formatBytes(MAX_ATTACHMENT_BYTES)} ` +
					'an attachment may be: attach a smaller file (a lower-resolution scan, or the document split in parts)'
			});
			return;
		}
		if (size <= INLINE_ATTACHMENT_BYTES) return;
		let content: Bytes;
		try {
			content = base64.decode(data);
		} catch {
			problems.push({
				subject: owner,
				message: `the data of its attachment "${title}" is not base64, so the file cannot be read: export it again`
			});
			return;
		}
		const hash = sha256(content);
		const url = attachmentUrl(hash);
		delete a.data;
		a.url = url;
		a.size = content.length;
		out.push({
			owner,
			title,
			contentType: a.contentType as string,
			size: content.length,
			hash,
			url,
			content
		});
	});
	return out;
}

/** The attachments a record keeps beside it: their URLs, with the size and type the record states. */
export function attachmentRefs(
	resource: unknown
): { url: string; hash: Bytes; size: number; contentType: string }[] {
	const out: { url: string; hash: Bytes; size: number; contentType: string }[] = [];
	eachAttachment(resource, (a) => {
		const hash = attachmentHashOf(a.url);
		if (hash && typeof a.size === 'number')
			out.push({ url: a.url as string, hash, size: a.size, contentType: a.contentType as string });
	});
	return out;
}

/**
 * Puts attachments back into a copy of `resource` as base64 `data` (for an export that stands alone):
 * `content(url)` gives each one's bytes, checked against its hash by the caller.
 */
export async function inlineAttachments<T>(
	resource: T,
	content: (url: string) => Promise<Bytes>
): Promise<T> {
	const copy = structuredClone(resource);
	const found: Loose[] = [];
	eachAttachment(copy, (a) => {
		if (attachmentHashOf(a.url)) found.push(a);
	});
	for (const a of found) {
		a.data = base64.encode(await content(a.url as string));
		delete a.url;
	}
	return copy;
}
