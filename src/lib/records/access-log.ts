/**
 * The holder's access log: one entry each time an institution releases a record's layer (share.ts) or
 * an attachment of the record (app/held-attachments.ts, the entry then names the attachment's hash),
 * saying who asked, when, for which record, on what authority (the patient itself, or a consent and its
 * grantee). Entries are signed by the holder institution's signing key and chained per patient
 * (index, hash of the previous entry), so the patient can fetch its log and check that every entry is
 * the holder's and that none was dropped from the middle or reordered. (A holder can still withhold the
 * newest entries, or show two patients' devices different logs; the patient's own device keeps the
 * head it last saw and `verifyAccessLog` accepts it as the expected start.)
 */
import { equalBytes, type Bytes } from '../core/bytes.ts';
import type { AccessGrant } from '../core/access-request.ts';
import { decodeCanonical, encodeCanonical, type Canonical } from '../core/encoding.ts';
import { ensure } from '../core/errors.ts';
import { HASH_LENGTH, taggedHash } from '../core/hash.ts';
import {
	PUBLIC_KEY_LENGTH,
	SIGNATURE_LENGTH,
	sign,
	verifySignature,
	type PublicKey
} from '../core/identity.ts';
import * as read from '../core/schema.ts';

export const MAX_LOG_ENTRIES = 10_000;
const ZERO = new Uint8Array(HASH_LENGTH);

export type LogAuthority = { kind: 'patient' } | { kind: 'consent'; consentId: Bytes; grantee: PublicKey };

export interface AccessLogEntry {
	holder: PublicKey;
	patient: PublicKey;
	/** Position in this patient's log at this holder, from 0. */
	index: number;
	/** entryHash of the previous entry (32 zero bytes for the first). */
	prev: Bytes;
	requester: PublicKey;
	/** Transaction id of the record released. */
	record: Bytes;
	/** Its content address (Pointer.digest). */
	digest: Bytes;
	/** SHA-256 of the attachment released, when it was one of the record's attachments (attachment.ts). */
	attachment?: Bytes;
	authority: LogAuthority;
	at: number;
	signature: Bytes;
}

export type AccessLogFields = Pick<
	AccessLogEntry,
	'holder' | 'patient' | 'requester' | 'record' | 'digest' | 'attachment' | 'at'
> & {
	authority: AccessGrant['authority'];
};

function authorityToCanonical(a: LogAuthority): Canonical {
	return a.kind === 'patient' ? 'patient' : { consent: a.consentId, grantee: a.grantee };
}

function bodyToCanonical(e: Omit<AccessLogEntry, 'signature'>): { [key: string]: Canonical } {
	const body: { [key: string]: Canonical } = {
		holder: e.holder,
		patient: e.patient,
		index: e.index,
		prev: e.prev,
		requester: e.requester,
		record: e.record,
		digest: e.digest,
		authority: authorityToCanonical(e.authority),
		at: e.at
	};
	// Only an attachment's release names one: a record's entry hashes as it always did.
	if (e.attachment) body.attachment = e.attachment;
	return body;
}

/** Hash of an entry's body; the next entry's `prev`, and what the holder signs. */
export function entryHash(e: Omit<AccessLogEntry, 'signature'>): Bytes {
	return taggedHash('spchain/access-log', encodeCanonical(bodyToCanonical(e)));
}

/** Holder: the next entry of a patient's log after `previous` (null for the first), signed. */
export function appendAccessLog(
	previous: AccessLogEntry | null,
	fields: AccessLogFields,
	holderSecretKey: Bytes
): AccessLogEntry {
	if (previous) {
		ensure(
			equalBytes(previous.patient, fields.patient) && equalBytes(previous.holder, fields.holder),
			'log-chain',
			"each patient's log is chained separately"
		);
	}
	const authority: LogAuthority =
		fields.authority.kind === 'patient'
			? { kind: 'patient' }
			: { kind: 'consent', consentId: fields.authority.consentId, grantee: fields.authority.grantee };
	const body: Omit<AccessLogEntry, 'signature'> = {
		holder: fields.holder,
		patient: fields.patient,
		index: previous ? previous.index + 1 : 0,
		prev: previous ? entryHash(previous) : ZERO,
		requester: fields.requester,
		record: fields.record,
		digest: fields.digest,
		...(fields.attachment ? { attachment: fields.attachment } : {}),
		authority,
		at: fields.at
	};
	return { ...body, signature: sign(holderSecretKey, entryHash(body)) };
}

export function encodeAccessLog(entries: readonly AccessLogEntry[]): Bytes {
	return encodeCanonical(entries.map((e) => ({ ...bodyToCanonical(e), signature: e.signature })));
}

function readAuthority(value: unknown, where: string): LogAuthority {
	if (value === 'patient') return { kind: 'patient' };
	const o = read.object(value, where, ['consent', 'grantee']);
	return {
		kind: 'consent',
		consentId: read.bytes(o.consent, `${where}.consent`, HASH_LENGTH),
		grantee: read.bytes(o.grantee, `${where}.grantee`, PUBLIC_KEY_LENGTH)
	};
}

export function decodeAccessLog(bytes: Bytes): AccessLogEntry[] {
	return read.array(decodeCanonical(bytes, MAX_LOG_ENTRIES * 640), 'log', MAX_LOG_ENTRIES, (value, where) => {
		const o = read.object(
			value,
			where,
			['holder', 'patient', 'index', 'prev', 'requester', 'record', 'digest', 'authority', 'at', 'signature'],
			['attachment']
		);
		const entry: AccessLogEntry = {
			holder: read.bytes(o.holder, `${where}.holder`, PUBLIC_KEY_LENGTH),
			patient: read.bytes(o.patient, `${where}.patient`, PUBLIC_KEY_LENGTH),
			index: read.uint(o.index, `${where}.index`),
			prev: read.bytes(o.prev, `${where}.prev`, HASH_LENGTH),
			requester: read.bytes(o.requester, `${where}.requester`, PUBLIC_KEY_LENGTH),
			record: read.bytes(o.record, `${where}.record`, HASH_LENGTH),
			digest: read.bytes(o.digest, `${where}.digest`, HASH_LENGTH),
			authority: readAuthority(o.authority, `${where}.authority`),
			at: read.uint(o.at, `${where}.at`),
			signature: read.bytes(o.signature, `${where}.signature`, SIGNATURE_LENGTH)
		};
		if (o.attachment !== undefined)
			entry.attachment = read.bytes(o.attachment, `${where}.attachment`, HASH_LENGTH);
		return entry;
	});
}

/**
 * Patient: checks a log fetched from `holder`: every entry is for this patient and holder, signed by
 * the holder, chained to the one before it, in time order. `after` is the last entry the device already
 * verified (the log then continues from it); without it, the log must start at index 0.
 * Throws ValidationError (log-holder, log-patient, log-signature, log-chain, log-time).
 */
export function verifyAccessLog(
	entries: readonly AccessLogEntry[],
	expected: { holder: PublicKey; patient: PublicKey; after?: AccessLogEntry }
): void {
	let previous = expected.after ?? null;
	for (const [i, e] of entries.entries()) {
		ensure(equalBytes(e.holder, expected.holder), 'log-holder', `entry ${i} is from another institution`);
		ensure(equalBytes(e.patient, expected.patient), 'log-patient', `entry ${i} is about another patient`);
		ensure(
			verifySignature(e.holder, entryHash(e), e.signature),
			'log-signature',
			`entry ${i} is not signed by the institution`
		);
		ensure(
			e.index === (previous ? previous.index + 1 : 0) &&
				equalBytes(e.prev, previous ? entryHash(previous) : ZERO),
			'log-chain',
			`entry ${i} does not follow the one before it (an entry is missing or was changed)`
		);
		ensure(!previous || e.at >= previous.at, 'log-time', `entry ${i} is dated before the one before it`);
		previous = e;
	}
}

/**
 * Patient: one holder's log as the device knows it, so the log still shows after an offline reload and a
 * holder cannot quietly take back what the patient saw. `known` is the copy the device kept (verified
 * when kept); `fresh` the whole log just fetched, or undefined when the holder could not be reached (the
 * kept copy stands). A fresh log is verified and must start with every kept entry unchanged.
 * Throws ValidationError (log-rewritten, or verifyAccessLog's codes).
 */
export function extendKnownLog(
	known: readonly AccessLogEntry[],
	fresh: readonly AccessLogEntry[] | undefined,
	expected: { holder: PublicKey; patient: PublicKey }
): AccessLogEntry[] {
	if (!fresh) return [...known];
	verifyAccessLog(fresh, expected);
	ensure(
		fresh.length >= known.length && known.every((e, i) => equalBytes(entryHash(e), entryHash(fresh[i]!))),
		'log-rewritten',
		'the institution now shows fewer or different log entries than it showed this device before'
	);
	return [...fresh];
}
