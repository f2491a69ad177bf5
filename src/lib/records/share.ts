/**
 * Share (paper §5.3 step 10): the patient shows records to clinic D.
 *
 *   1. patient → holder A   AccessRequest signed by the patient (consent.ts), authority 'patient' or the
 *                           consent for D (so A's log says "disclosed to D under consent C").
 *   2. A                    checkAccessRequest (refuses a revoked, expired, foreign or out-of-scope consent),
 *                           appends a signed access-log entry, and "removes its layer" for the patient:
 *                           it returns the stored ciphertext and that record's outer key k_M sealed to the
 *                           patient's key (aead.sealTo), nothing more.
 *   3. patient              checks the ciphertext against the on-chain Pointer.digest, opens both layers
 *                           (k_P re-derived from the master key), checks A's author signature.
 *   4. patient → D          a ShareBundle: the consent and each record's content sealed to D's key, the
 *                           box's associated data binding consent id, record transaction id and header.
 *   5. D                    checks the consent (signed by the patient, granted to D, covering the record,
 *                           not expired, not revoked), opens the boxes, checks A's author signature.
 *
 * Nobody but D can open a bundle (not the relay, not A, not another clinic); D learns only the records in
 * it. A revocation stops future shares: holders refuse requests under it, `sealShare` refuses it, D refuses
 * bundles under it once it has seen it. What D already decrypted cannot be recalled (docs/privacy.md).
 */
import { equalBytes, type Bytes } from '../core/bytes.ts';
import {
	checkAccessRequest,
	checkConsentFor,
	consentCovers,
	consentId,
	consentToCanonical,
	isConsentActive,
	readConsent,
	type AccessGrant,
	type AccessRequest,
	type Consent,
	type HeldRecord,
	type Revocation
} from '../core/consent.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { ensure } from '../core/errors.ts';
import { HASH_LENGTH } from '../core/hash.ts';
import type { PublicKey } from '../core/identity.ts';
import * as read from '../core/schema.ts';
import type { Pointer } from '../core/transaction.ts';
import { boxToCanonical, openBox, readBox, sealTo, type Box } from './aead.ts';
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
 * Holder institution: checks the request (consent.ts), logs it, and releases its layer of that one
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

/**
 * Patient device: opens the holder's answer to its own request. Checks the ciphertext against the
 * on-chain pointer, unwraps the outer key, re-derives k_P from the master key, opens both layers and
 * checks the author's signature.
 */
export async function openAccessResponse(
	response: AccessResponse,
	options: {
		request: AccessRequest;
		pointer: Pointer;
		patient: { publicKey: PublicKey; secretKey: Bytes };
		masterKey: Bytes;
	}
): Promise<{ header: RecordHeader; content: RecordContent }> {
	const { request, pointer, patient } = options;
	ensure(equalBytes(request.digest, pointer.digest), 'share-request', 'the request was for another record');
	ensure(
		equalBytes(contentAddress(response.sealed), pointer.digest),
		'envelope-digest',
		'the holder returned a ciphertext that does not match the chain'
	);
	const header = headerOf(decodeSealedRecord(response.sealed));
	const outerKey = await openBox(
		response.key,
		patient.secretKey,
		patient.publicKey,
		'access',
		responseAad(request)
	);
	return openRecord(
		response.sealed,
		{ outerKey, recordKey: deriveRecordKey(options.masterKey, header) },
		{ digest: pointer.digest, patient: patient.publicKey, holder: pointer.holder }
	);
}

// ---------------------------------------------------------------- patient → D: the share bundle

export interface ShareItem {
	/** Id of the medical or label transaction whose record this is. */
	transactionId: Bytes;
	header: RecordHeader;
	/** encodeRecordContent(content), sealed to the grantee. */
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

/**
 * Patient device: seals decrypted records for the consent's grantee. Refuses an inactive (expired,
 * revoked, forged) consent, a record it does not cover, or a record of another patient.
 */
export async function sealShare(options: {
	consent: Consent;
	revocations: readonly Revocation[];
	now: number;
	records: readonly { transactionId: Bytes; header: RecordHeader; content: RecordContent }[];
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
		const box = await sealTo(
			consent.grantee,
			encodeRecordContent(r.content),
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
	consentId: Bytes;
	transactionId: Bytes;
	header: RecordHeader;
	content: RecordContent;
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
		const content = decodeRecordContent(plain);
		checkRecordContent(item.header, content);
		out.push({ consentId: id, transactionId: item.transactionId, header: item.header, content });
	}
	return out;
}
