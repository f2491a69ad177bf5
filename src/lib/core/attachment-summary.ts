/**
 * What a restart needs of an attachment it verified before, read without decoding it: the patient,
 * the institution, the leaf proof and each entry's kind and fees (for the balances). A walk over the
 * canonical CBOR that builds no object for the 100 transactions an attachment carries; decoding them
 * all (gossip.ts decodeAttachment) was the largest cost of restoring 100,000 records.
 *
 * Only for bytes from the node's own verified journal (runtime/verified-journal.ts): they were decoded
 * in full and checked when the node applied them, and their hash chain says they are unchanged. It
 * still throws a ValidationError on anything it does not expect; the caller then decodes in full.
 */
import type { Bytes } from './bytes.ts';
import { ValidationError } from './errors.ts';
import type { Fees, RecordBody } from './transaction.ts';

export interface AttachmentSummary {
	patient: Bytes;
	institution: Bytes;
	leafProof: Bytes;
	entries: { kind: RecordBody['kind']; fees: Fees }[];
}

const MAJOR_UINT = 0;
const MAJOR_BYTES = 2;
const MAJOR_TEXT = 3;
const MAJOR_ARRAY = 4;
const MAJOR_MAP = 5;

function fail(message: string): never {
	throw new ValidationError('encoding', `attachment summary: ${message}`);
}

class Walker {
	at = 0;
	/** The last head read (fields, not a returned object: a restart reads millions of heads). */
	major = 0;
	value = 0;
	constructor(private readonly bytes: Bytes) {}

	/** Reads the next item's major type and argument (length, count or value) into major and value. */
	head(): void {
		const first = this.bytes[this.at++];
		if (first === undefined) fail('truncated');
		const major = first >> 5;
		const info = first & 31;
		let value = info;
		if (info >= 24) {
			const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : fail('bad length');
			value = 0;
			for (let i = 0; i < size; i++) value = value * 256 + this.bytes[this.at++]!;
			if (!Number.isSafeInteger(value) || this.at > this.bytes.length) fail('bad length');
		}
		// A length or count (each item takes a byte at least) beyond what is left: truncated.
		if (major >= MAJOR_BYTES && major <= MAJOR_MAP && value > this.bytes.length - this.at) fail('truncated');
		this.major = major;
		this.value = value;
	}

	expect(major: number): number {
		this.head();
		if (this.major !== major) fail(`expected major type ${major}, got ${this.major}`);
		return this.value;
	}

	bytesItem(): Bytes {
		const length = this.expect(MAJOR_BYTES);
		const out = this.bytes.subarray(this.at, this.at + length);
		this.at += length;
		if (out.length !== length) fail('truncated');
		return out;
	}

	text(): string {
		const length = this.expect(MAJOR_TEXT);
		let out = '';
		for (let i = 0; i < length; i++) out += String.fromCharCode(this.bytes[this.at++]!);
		return out;
	}

	/** Skips one item of any kind (floats, tags and indefinite lengths never occur in canonical bytes). */
	skip(): void {
		this.head();
		const { major, value } = this;
		if (major === MAJOR_BYTES || major === MAJOR_TEXT) this.at += value;
		else if (major === MAJOR_ARRAY) for (let i = 0; i < value; i++) this.skip();
		else if (major === MAJOR_MAP) for (let i = 0; i < 2 * value; i++) this.skip();
		else if (major === 6) fail('tag');
	}

	/** Walks a map, handing each key to `field`, which reads or skips its value. */
	map(field: (key: string) => void): void {
		const pairs = this.expect(MAJOR_MAP);
		for (let i = 0; i < pairs; i++) field(this.text());
	}
}

export function readAttachmentSummary(bytes: Bytes): AttachmentSummary {
	const walk = new Walker(bytes);
	const summary: Partial<AttachmentSummary> = {};
	walk.map((key) => {
		if (key === 'patient') summary.patient = walk.bytesItem();
		else if (key === 'institution') summary.institution = walk.bytesItem();
		else if (key === 'leafProof') summary.leafProof = walk.bytesItem();
		else if (key === 'entries') {
			const count = walk.expect(MAJOR_ARRAY);
			summary.entries = Array.from({ length: count }, () => {
				let entry: AttachmentSummary['entries'][number] | undefined;
				walk.map((k) => {
					if (k !== 'tx') return walk.skip();
					walk.map((t) => {
						if (t !== 'body') return walk.skip();
						let kind: string | undefined;
						let fees: Fees | undefined;
						walk.map((b) => {
							if (b === 'kind') kind = walk.text();
							else if (b !== 'fees') walk.skip();
							else {
								const f: Partial<Fees> = {};
								walk.map((name) => {
									if (name === 'service' || name === 'transaction') f[name] = walk.expect(MAJOR_UINT);
									else walk.skip();
								});
								if (f.service === undefined || f.transaction === undefined) fail('fees');
								fees = { service: f.service, transaction: f.transaction };
							}
						});
						if ((kind !== 'medical' && kind !== 'label') || !fees) fail('entry body');
						entry = { kind, fees };
					});
				});
				return entry ?? fail('entry');
			});
		} else walk.skip();
	});
	if (walk.at !== bytes.length) fail('trailing bytes');
	const { patient, institution, leafProof, entries } = summary;
	if (!patient || !institution || !leafProof || !entries) fail('missing field');
	return { patient, institution, leafProof, entries };
}
