import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readAttachmentSummary } from './attachment-summary.ts';
import { ValidationError } from './errors.ts';
import { decodeAttachment, encodeAttachment, type Attachment } from './gossip.ts';
import type { RecordBody, Transaction } from './transaction.ts';

const bytes = (length: number) => fc.uint8Array({ minLength: length, maxLength: length });
/** Fees across every CBOR integer width (1, 2, 3, 5 and 9 bytes). */
const fee = fc.oneof(
	fc.integer({ min: 0, max: 23 }),
	fc.integer({ min: 24, max: 70_000 }),
	fc.integer({ min: 2 ** 32 - 5, max: 2 ** 32 + 5 }),
	fc.maxSafeNat()
);

const entry = fc
	.record({
		label: fc.boolean(),
		patient: bytes(32),
		institution: bytes(32),
		round: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
		service: fee,
		transaction: fee,
		h: bytes(32),
		proof: bytes(256),
		digest: bytes(32),
		target: bytes(32),
		signature: bytes(64),
		pin: bytes(32)
	})
	.map((e) => {
		const common = {
			patient: e.patient,
			institution: e.institution,
			round: e.round,
			fees: { service: e.service, transaction: e.transaction },
			record: { chameleon: { h: e.h, proof: e.proof }, pointer: { digest: e.digest, holder: e.institution } }
		};
		const body: RecordBody = e.label
			? { kind: 'label', ...common, target: e.target }
			: { kind: 'medical', ...common };
		return { tx: { body, signature: e.signature } as Transaction<RecordBody>, pin: e.pin };
	});

const attachment: fc.Arbitrary<Attachment> = fc.record({
	patient: bytes(32),
	institution: bytes(32),
	entries: fc.array(entry, { minLength: 1, maxLength: 6 }),
	leafProof: fc.uint8Array({ minLength: 1, maxLength: 256 })
});

describe('attachment summary (restart without decoding records)', () => {
	it('reads what decodeAttachment decodes: patient, institution, leaf proof, each kind and fees', () => {
		fc.assert(
			fc.property(attachment, (a) => {
				const encoded = encodeAttachment(a);
				const decoded = decodeAttachment(encoded);
				const summary = readAttachmentSummary(encoded);
				expect(summary.patient).toEqual(decoded.patient);
				expect(summary.institution).toEqual(decoded.institution);
				expect(summary.leafProof).toEqual(decoded.leafProof);
				expect(summary.entries).toEqual(
					decoded.entries.map((e) => ({ kind: e.tx.body.kind, fees: e.tx.body.fees }))
				);
			}),
			{ numRuns: 200 }
		);
	});

	it('matches keys and kinds byte for byte: a near miss is not read as the field', () => {
		const sample = fc.sample(attachment, 1)[0]!;
		const body = sample.entries[0]!.tx.body;
		const edits = [{ kind: 'medicaL' }, { kind: 'labels' }, { fees: { service: 1, transactioN: 2 } }];
		for (const edit of edits) {
			const tx = { ...sample.entries[0]!.tx, body: { ...body, ...edit } as RecordBody };
			const odd = encodeAttachment({ ...sample, entries: [{ ...sample.entries[0]!, tx }] });
			expect(() => readAttachmentSummary(odd)).toThrow(ValidationError);
		}
	});

	it('throws a ValidationError, never something else, on bytes that are not a whole attachment', () => {
		const sample = fc.sample(attachment, 1)[0]!;
		const encoded = encodeAttachment(sample);
		for (const cut of [0, 1, 10, encoded.length - 1])
			expect(() => readAttachmentSummary(encoded.subarray(0, cut))).toThrow(ValidationError);
		const trailing = new Uint8Array(encoded.length + 1);
		trailing.set(encoded);
		expect(() => readAttachmentSummary(trailing)).toThrow(ValidationError);
		// Lengths and counts far beyond the input (2^32 entries, a 2^40-byte key) fail at once.
		const huge = [
			[0xa1, 0x67, ...new TextEncoder().encode('entries'), 0x9a, 0xff, 0xff, 0xff, 0xff],
			[0xa1, 0x7b, 0, 0, 0x01, 0, 0, 0, 0, 0]
		];
		for (const h of huge) expect(() => readAttachmentSummary(Uint8Array.from(h))).toThrow(/truncated/);
		fc.assert(
			fc.property(fc.uint8Array({ maxLength: 300 }), (random) => {
				try {
					readAttachmentSummary(random);
				} catch (error) {
					expect(error).toBeInstanceOf(ValidationError);
				}
			}),
			{ numRuns: 2000 }
		);
	});
});
