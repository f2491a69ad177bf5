/**
 * Share (paper §5.3 step 10): the patient shows records to clinic D. Why this file is long (about
 * 490 lines): the holder's, the patient's and the grantee's steps of one protocol.
 *
 *   1. patient → holder A   AccessRequest signed by the patient (access-request.ts), authority 'patient' or the
 *                           consent for D (so A's log says "disclosed to D under consent C").
 *   2. A                    checkAccessRequest (refuses a revoked, expired, foreign or out-of-scope consent),
 *                           appends a signed access-log entry, and "removes its layer" for the requester:
 *                           it returns the stored ciphertext and that record's outer key k_M sealed to the
 *                           requester's key (aead.sealTo), nothing more.
 *   3. patient              checks the ciphertext against the on-chain Pointer.digest, opens both layers
 *                           (k_P re-derived from the master key), checks A's author signature.
 *   4. patient → D          a ShareBundle: the consent and, per record, its content sealed to D's key (the
 *                           paper's flow: the patient decrypts and re-encrypts end to end), the box's
 *                           associated data binding consent id, record transaction id and header; a
 *                           record with attachments kept at A also carries its key k_P and digest, so D
 *                           fetches those attachments from A under the consent (app/shared-attachment.ts).
 *   5. D                    checks the consent (signed by the patient, granted to D, covering the record,
 *                           not expired, not revoked), opens the boxes, checks A's author signature.
 *
 * Variant "key share": in step 4 the patient sends D only the record key k_P (and the pointer digest) of
 * each record; D then fetches the ciphertext from A itself under the consent (steps 1-2 with D as the
 * requester: `openGranteeResponse`), so D checks the bytes against the chain, and a revocation stops D's
 * fetches of records it has not fetched yet.
 *
 * A corrected record is shared with its correction (the label's record, carrying who, when and why under
 * the author's signature); `chainShared` links the two so D shows the correction as current and the
 * replaced version as replaced.
 *
 * Nobody but D can open a bundle (not the relay, not A, not another clinic); D learns only the records in
 * it. A revocation stops future shares: holders refuse requests under it, `sealShare` refuses it, D refuses
 * bundles under it once it has seen it. What D already decrypted cannot be recalled (docs/privacy.md).
 */
import { bytesToHex, equalBytes, type Bytes } from '../core/bytes.ts';
import {
	checkAccessRequest,
	type AccessGrant,
	type AccessRequest,
	type HeldRecord
} from '../core/access-request.ts';
import {
	checkConsentFor,
	consentCovers,
	consentId,
	consentToCanonical,
	isConsentActive,
	readConsent,
	type Consent,
	type Revocation
} from '../core/consent.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { ensure } from '../core/errors.ts';
import { HASH_LENGTH } from '../core/hash.ts';
import type { PublicKey } from '../core/identity.ts';
import * as read from '../core/schema.ts';
import type { Pointer } from '../core/transaction.ts';
import { boxToCanonical, KEY_LENGTH, openBox, readBox, sealTo, type Box } from './aead.ts';
import { appendAccessLog, type AccessLogEntry } from './access-log.ts';
import {
	contentAddress,
	decodeRecordContent,
	decodeReleasedRecord,
	encodeReleasedRecord,
	type ReleasedRecord,
	decodeSealedRecord,
	deriveOuterKey,
	deriveRecordKey,
	encodeHeader,
	headerToCanonical,
	encodeRecordContent,
	headerOf,
	MAX_CONTENT_BYTES,
	openRecord,
	readHeader,
	checkRecordContent,
	type RecordContent,
	type RecordHeader
} from './envelope.ts';

/** A bundle carries at most this many records (a larger history is sent in several bundles). */
export const MAX_SHARE_ITEMS = 256;
export const MAX_SHARE_BYTES = 64 * 1024 * 1024;

// ---------------------------------------------------------------- holder: answering an access request

export interface HolderKeys {
	id: PublicKey;
	secretKey: Bytes;
	/** envelope.deriveStorageKey(secretKey). */
	storageKey: Bytes;
}

/** The holder's answer: the stored bytes and the record's outer key, sealed to the requester. */
export type AccessResponse = ReleasedRecord;
export const encodeAccessResponse = encodeReleasedRecord;
export const decodeAccessResponse = decodeReleasedRecord;

function responseAad(request: Pick<AccessRequest, 'digest' | 'nonce' | 'requester'>): Bytes {
	return encodeCanonical({ digest: request.digest, nonce: request.nonce, requester: request.requester });
}

/**
 * Holder institution: checks the request (access-request.ts), logs it, and releases its layer of that one
 * record to the requester. `stored` is the ciphertext it holds for `record.digest`; `logHead` the last
 * entry of this patient's access log (null if none). Throws ValidationError on any refusal.
 */
export async function answerAccessRequest(options: {
	request: AccessRequest;
	stored: Bytes;
	record: HeldRecord;
	holder: HolderKeys;
	revocations: readonly Revocation[];
	now: number;
	seen?: (nonce: Bytes) => boolean;
	logHead: AccessLogEntry | null;
}): Promise<{ response: AccessResponse; grant: AccessGrant; entry: AccessLogEntry }> {
	const { request, stored, record, holder, now } = options;
	const grant = checkAccessRequest(request, {
		holder: holder.id,
		record,
		revocations: options.revocations,
		now,
		seen: options.seen
	});
	ensure(
		equalBytes(contentAddress(stored), record.digest),
		'holder-store',
		'the stored ciphertext does not match its content address'
	);
	const header = headerOf(decodeSealedRecord(stored));
	ensure(
		equalBytes(header.holder, holder.id) && equalBytes(header.patient, record.patient),
		'holder-store',
		'the stored ciphertext names another patient or holder'
	);
	const key = await sealTo(
		request.requester,
		deriveOuterKey(holder.storageKey, header),
		'access',
		responseAad(request)
	);
	const entry = appendAccessLog(
		options.logHead,
		{
			holder: holder.id,
			patient: record.patient,
			requester: grant.requester,
			record: record.transactionId,
			digest: record.digest,
			authority: grant.authority,
			at: now
		},
		holder.secretKey
	);
	return { response: { sealed: stored, key }, grant, entry };
}

async function openReleased(
	response: AccessResponse,
	request: AccessRequest,
	pointer: Pointer,
	recipient: { publicKey: PublicKey; secretKey: Bytes },
	recordKeyOf: (header: RecordHeader) => Bytes,
	patient: PublicKey,
	author: PublicKey | undefined
): Promise<{ header: RecordHeader; content: RecordContent }> {
	ensure(equalBytes(request.digest, pointer.digest), 'share-request', 'the request was for another record');
	ensure(
		equalBytes(contentAddress(response.sealed), pointer.digest),
		'envelope-digest',
		'the holder returned a ciphertext that does not match the chain'
	);
	const header = headerOf(decodeSealedRecord(response.sealed));
	const outerKey = await openBox(
		response.key,
		recipient.secretKey,
		recipient.publicKey,
		'access',
		responseAad(request)
	);
	return openRecord(
		response.sealed,
		{ outerKey, recordKey: recordKeyOf(header) },
		{ digest: pointer.digest, patient, holder: pointer.holder, author }
	);
}

/**
 * Patient device: opens the holder's answer to its own request. Checks the ciphertext against the
 * on-chain pointer, unwraps the outer key, re-derives k_P from the master key, opens both layers and
 * checks the author's signature.
 */
export function openAccessResponse(
	response: AccessResponse,
	options: {
		request: AccessRequest;
		pointer: Pointer;
		patient: { publicKey: PublicKey; secretKey: Bytes };
		masterKey: Bytes;
		/** The holder's signing key at the record's round (InstitutionRegistry.signingKeyAt); default its id. */
		author?: PublicKey;
	}
): Promise<{ header: RecordHeader; content: RecordContent }> {
	const { patient } = options;
	return openReleased(
		response,
		options.request,
		options.pointer,
		patient,
		(header) => deriveRecordKey(options.masterKey, header),
		patient.publicKey,
		options.author
	);
}

/**
 * Grantee D (key share): opens the holder's answer to D's own request under the consent, with the record
 * key the patient shared. Checks the ciphertext against the chain's pointer and the author's signature.
 */
export function openGranteeResponse(
	response: AccessResponse,
	options: {
		request: AccessRequest;
		pointer: Pointer;
		grantee: { id: PublicKey; secretKey: Bytes };
		/** From openShare: the shared record key and the record's patient. */
		shared: { recordKey: Bytes; patient: PublicKey };
		/** The holder's signing key at the record's round (Ledger.recordAuthorKey); default its id. */
		author?: PublicKey;
	}
): Promise<{ header: RecordHeader; content: RecordContent }> {
	const { grantee, shared } = options;
	return openReleased(
		response,
		options.request,
		options.pointer,
		{ publicKey: grantee.id, secretKey: grantee.secretKey },
		() => shared.recordKey,
		shared.patient,
		options.author
	);
}

// ---------------------------------------------------------------- patient → D: the share bundle

export interface ShareItem {
	/** Id of the medical or label transaction whose record this is. */
	transactionId: Bytes;
	header: RecordHeader;
	/** The share payload (sharePayload), sealed to the grantee. */
	box: Box;
}

export interface ShareBundle {
	consent: Consent;
	items: ShareItem[];
}

/** Associated data of a share item's box: consent id, record transaction id and header. */
export function shareItemAad(consent: Bytes, transactionId: Bytes, header: RecordHeader): Bytes {
	return encodeCanonical({ consent, transactionId, header: encodeHeader(header) });
}

/** A record's key k_P and content address: what fetching it, or its attachments, from the holder takes. */
export interface SharedKey {
	recordKey: Bytes;
	digest: Bytes;
}

/**
 * What one share item gives the grantee: the record itself, or its key to fetch it from the holder. A
 * record with attachments kept beside it (attachment.ts) travels with its key too, so the grantee can
 * fetch and open them from the holder under the consent.
 */
export type SharePayload =
	{ kind: 'content'; content: RecordContent; key?: SharedKey } | ({ kind: 'key' } & SharedKey);

function encodePayload(p: SharePayload): Bytes {
	if (p.kind === 'key') return encodeCanonical({ recordKey: p.recordKey, digest: p.digest });
	const content = encodeRecordContent(p.content);
	return encodeCanonical(p.key ? { content, recordKey: p.key.recordKey, digest: p.key.digest } : { content });
}

function readKey(o: { recordKey?: unknown; digest?: unknown }): SharedKey {
	return {
		recordKey: read.bytes(o.recordKey, 'payload.recordKey', KEY_LENGTH),
		digest: read.bytes(o.digest, 'payload.digest', HASH_LENGTH)
	};
}

function decodePayload(bytes: Bytes): SharePayload {
	const o = read.object(
		decodeCanonical(bytes, MAX_CONTENT_BYTES + 64),
		'payload',
		[],
		['content', 'recordKey', 'digest']
	);
	if (o.content !== undefined) {
		const withKey = o.recordKey !== undefined || o.digest !== undefined;
		read.object(o, 'payload', withKey ? ['content', 'recordKey', 'digest'] : ['content']);
		const content = read.bytes(o.content, 'payload.content', { max: MAX_CONTENT_BYTES });
		const payload: SharePayload = { kind: 'content', content: decodeRecordContent(content) };
		if (withKey) payload.key = readKey(o);
		return payload;
	}
	read.object(o, 'payload', ['recordKey', 'digest']);
	return { kind: 'key', ...readKey(o) };
}

export type ShareInput = { transactionId: Bytes; header: RecordHeader } & (
	{ content: RecordContent; key?: SharedKey } | SharedKey
);

/**
 * Patient device: seals records for the consent's grantee, each as its content (opened by the patient)
 * or as its record key and pointer digest (the grantee fetches it). Refuses an inactive (expired,
 * revoked, forged) consent, a record it does not cover, or a record of another patient.
 */
export async function sealShare(options: {
	consent: Consent;
	revocations: readonly Revocation[];
	now: number;
	records: readonly ShareInput[];
}): Promise<ShareBundle> {
	const { consent } = options;
	ensure(
		isConsentActive(consent, options.revocations, options.now),
		'consent-inactive',
		'this consent has expired or was revoked; make a new one to share'
	);
	ensure(options.records.length <= MAX_SHARE_ITEMS, 'share-size', 'too many records in one share');
	const id = consentId(consent);
	const items: ShareItem[] = [];
	for (const r of options.records) {
		ensure(
			consentCovers(consent, r.transactionId),
			'consent-scope',
			'the consent does not cover this record'
		);
		ensure(
			equalBytes(r.header.patient, consent.patient),
			'share-patient',
			'the record belongs to another patient'
		);
		const header = headerOf(r.header);
		const payload: SharePayload =
			'content' in r
				? { kind: 'content', content: r.content, ...(r.key ? { key: r.key } : {}) }
				: { kind: 'key', recordKey: r.recordKey, digest: r.digest };
		const box = await sealTo(
			consent.grantee,
			encodePayload(payload),
			'share',
			shareItemAad(id, r.transactionId, header)
		);
		items.push({ transactionId: r.transactionId, header, box });
	}
	return { consent, items };
}

export function encodeShareBundle(b: ShareBundle): Bytes {
	return encodeCanonical({
		consent: consentToCanonical(b.consent),
		items: b.items.map((i) => ({
			transactionId: i.transactionId,
			header: headerToCanonical(i.header),
			box: boxToCanonical(i.box)
		}))
	});
}

export function decodeShareBundle(bytes: Bytes): ShareBundle {
	const o = read.object(decodeCanonical(bytes, MAX_SHARE_BYTES), 'share', ['consent', 'items']);
	return {
		consent: readConsent(o.consent, 'share.consent'),
		items: read.array(o.items, 'share.items', MAX_SHARE_ITEMS, (value, where) => {
			const i = read.object(value, where, ['transactionId', 'header', 'box']);
			return {
				transactionId: read.bytes(i.transactionId, `${where}.transactionId`, HASH_LENGTH),
				header: readHeader(i.header, `${where}.header`),
				box: readBox(i.box, `${where}.box`, MAX_CONTENT_BYTES + 64)
			};
		})
	};
}

export interface SharedRecord {
	/** The consent it was shared under (the authority of the grantee's fetches from the holder). */
	consent: Consent;
	consentId: Bytes;
	transactionId: Bytes;
	header: RecordHeader;
	/** The record, when the patient shared its content (author signature checked). */
	content?: RecordContent;
	/**
	 * Its key and content address, when the patient shared the key (fetch it with openGranteeResponse),
	 * or with the content of a record whose attachments are kept at the holder.
	 */
	key?: SharedKey;
}

/**
 * Grantee D: checks the bundle's consent for each record (signed by the patient, granted to D, covering
 * the record, valid now, not revoked by any revocation D knows) and opens the records. Throws
 * ValidationError on the first refusal. D should also look up each transaction id on the chain and
 * compare its pointer's holder with header.holder.
 */
export async function openShare(
	bundle: ShareBundle,
	options: {
		grantee: { id: PublicKey; secretKey: Bytes };
		revocations: readonly Revocation[];
		now: number;
		/** The holder's signing key for a record's round (Ledger.recordAuthorKey); default its id. */
		authorKey?: (transactionId: Bytes) => PublicKey | undefined;
	}
): Promise<SharedRecord[]> {
	const { consent } = bundle;
	const id = consentId(consent);
	const out: SharedRecord[] = [];
	for (const item of bundle.items) {
		checkConsentFor(consent, {
			grantee: options.grantee.id,
			recordId: item.transactionId,
			revocations: options.revocations,
			now: options.now
		});
		ensure(
			equalBytes(item.header.patient, consent.patient),
			'share-patient',
			'a shared record belongs to another patient'
		);
		const plain = await openBox(
			item.box,
			options.grantee.secretKey,
			options.grantee.id,
			'share',
			shareItemAad(id, item.transactionId, item.header)
		);
		const payload = decodePayload(plain);
		const shared: SharedRecord = {
			consent,
			consentId: id,
			transactionId: item.transactionId,
			header: item.header
		};
		if (payload.kind === 'content') {
			checkRecordContent(item.header, payload.content, options.authorKey?.(item.transactionId));
			shared.content = payload.content;
			if (payload.key) shared.key = payload.key;
		} else {
			shared.key = { recordKey: payload.recordKey, digest: payload.digest };
		}
		out.push(shared);
	}
	return out;
}

// ---------------------------------------------------------------- D: a correction travels with its record

/** A shared record with what replaced it, when the same share carries a correction of it. */
export interface SharedVersion extends SharedRecord {
	/** The shared correction that replaces this version (paper §5.3 Label): it is never current. */
	replacedBy?: { transactionId: Bytes; holder: PublicKey; authoredAt: number; reason: string };
	/** Set on a correction: the record it corrects. */
	corrects?: Bytes;
}

/**
 * Grantee D: links each shared correction to the record it corrects, so the screens show one current
 * version per record and mark the replaced one. A correction counts only if it was shared with its
 * target, is signed by the same holder (only the author may correct; the signature was checked by
 * openShare) and names the same patient; the newest correction of a record wins.
 */
export function chainShared(records: readonly SharedRecord[]): SharedVersion[] {
	const out: SharedVersion[] = records.map((r) => ({ ...r }));
	// The same record may arrive under several consents: every copy of a replaced record is marked.
	const byId = new Map<string, SharedVersion[]>();
	for (const r of out)
		byId.set(bytesToHex(r.transactionId), [...(byId.get(bytesToHex(r.transactionId)) ?? []), r]);
	for (const r of out) {
		const correction = r.content?.correction;
		if (!correction || !r.content) continue;
		const targets = (byId.get(bytesToHex(correction.target)) ?? []).filter(
			(t) =>
				t !== r &&
				equalBytes(t.header.holder, r.header.holder) &&
				equalBytes(t.header.patient, r.header.patient)
		);
		if (targets.length === 0) continue;
		r.corrects = correction.target;
		for (const target of targets) {
			if (target.replacedBy && target.replacedBy.authoredAt > r.content.authoredAt) continue;
			target.replacedBy = {
				transactionId: r.transactionId,
				holder: r.header.holder,
				authoredAt: r.content.authoredAt,
				reason: correction.reason
			};
		}
	}
	return out;
}
