import { describe, expect, it } from 'vitest';
import type { Bundle, DocumentReference } from '@medplum/fhirtypes';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64 } from '@scure/base';
import { makePdf, visitBundle } from '../../../../tests/fixtures/fhir/visit.ts';
import { equalBytes } from '../../core/bytes.ts';
import { attachmentUrl } from '../attachment.ts';
import { attachmentRefs, inlineAttachments } from './attachments.ts';
import { FhirError, problemText } from './errors.ts';
import { INLINE_ATTACHMENT_BYTES, MAX_ATTACHMENT_BYTES, MAX_RECORD_BYTES } from './limits.ts';
import { validateResource } from './validator.ts';
import { planImport } from './visit.ts';

const PATIENT = 'spp1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq';
const MB = 1_000_000;

const documentOf = (bundle: Bundle) =>
	bundle.entry!.find((e) => e.resource?.resourceType === 'DocumentReference')!.resource as DocumentReference;

describe('attachments are kept beside the record', () => {
	it('a 5 MB PDF leaves the record at import: the record names it by SHA-256, size and type', async () => {
		const plan = await planImport(JSON.stringify(visitBundle({ pdfBytes: 5 * MB })), PATIENT);
		expect(plan.attachments).toHaveLength(1);
		const [pdf] = plan.attachments;
		expect(pdf).toMatchObject({
			title: 'discharge-letter.pdf',
			contentType: 'application/pdf',
			size: pdf!.content.length
		});
		expect(pdf!.size).toBeGreaterThan(5 * MB - 1000);
		expect(equalBytes(pdf!.hash, sha256(pdf!.content))).toBe(true);
		expect(pdf!.owner).toMatch(/^the DocumentReference/);
		expect(new TextDecoder().decode(pdf!.content.subarray(0, 8))).toBe('%PDF-1.4');
		// The record stays small, validates, and carries what the patient checks the fetched bytes against.
		expect(plan.bytes).toBeLessThan(MAX_RECORD_BYTES / 10);
		const attachment = documentOf(plan.record as Bundle).content[0]!.attachment;
		expect(attachment).toEqual({
			contentType: 'application/pdf',
			title: 'discharge-letter.pdf',
			url: attachmentUrl(pdf!.hash),
			size: pdf!.size
		});
		expect(await validateResource(plan.record)).toEqual([]);
		expect(attachmentRefs(plan.record)).toEqual([
			{ url: pdf!.url, hash: pdf!.hash, size: pdf!.size, contentType: 'application/pdf' }
		]);
	});

	it('a small attachment stays inline', async () => {
		const plan = await planImport(
			JSON.stringify(visitBundle({ pdfBytes: INLINE_ATTACHMENT_BYTES - 1000 })),
			PATIENT
		);
		expect(plan.attachments).toEqual([]);
		expect(documentOf(plan.record as Bundle).content[0]!.attachment.data).toBeDefined();
	});

	it('a 12 MB attachment is refused with its reason, naming the document', async () => {
		const json = JSON.stringify(visitBundle({ pdfBytes: 12 * MB }));
		const error = await planImport(json, PATIENT).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(FhirError);
		expect((error as FhirError).problems.map(problemText)).toEqual([
			expect.stringMatching(
				/^The DocumentReference .*: its attachment "discharge-letter\.pdf" is 12\.0 MB, more than the 10\.0 MB an attachment may be: attach a smaller file/
			)
		]);
		expect(MAX_ATTACHMENT_BYTES).toBe(10 * MB);
	});

	it('data that is not base64 is refused by name', async () => {
		const bundle = visitBundle({ pdfBytes: 200_000 });
		const attachment = documentOf(bundle).content[0]!.attachment;
		attachment.data = attachment.data!.slice(0, 1000) + '!!!!' + attachment.data!.slice(1004);
		const error = (await planImport(JSON.stringify(bundle), PATIENT).catch((e: unknown) => e)) as FhirError;
		expect(error.problems.map(problemText)).toEqual([
			expect.stringContaining('the data of its attachment "discharge-letter.pdf" is not base64')
		]);
	});

	it('the export puts the content back inline, and that validates', async () => {
		const pdf = makePdf(300_000);
		const plan = await planImport(JSON.stringify(visitBundle({ pdfBytes: 300_000 })), PATIENT);
		const record = plan.record as Bundle;
		const inlined = await inlineAttachments(record, async (url) => {
			expect(url).toBe(plan.attachments[0]!.url);
			return plan.attachments[0]!.content;
		});
		const attachment = documentOf(inlined).content[0]!.attachment;
		expect(attachment.url).toBeUndefined();
		expect(equalBytes(base64.decode(attachment.data!), pdf)).toBe(true);
		expect(documentOf(record).content[0]!.attachment.data).toBeUndefined();
		expect(await validateResource(inlined)).toEqual([]);
	});
});
