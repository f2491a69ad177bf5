/**
 * The institution's off-chain side: the ciphertexts it holds (E_M(E_P(EMR)), keyed by content address)
 * with what it needs later (the chameleon randomness r to label a record, the record key the patient
 * gave it for that record), the access log it keeps for each patient, the revocations it knows, and
 * the records patients shared with it. It answers the patient (or a consent holder) and nobody else.
 */
import { bigIntToBytes, bytesToBigInt, bytesToHex, concatBytes, type Bytes } from '../core/bytes.ts';
import { type AccessRequest } from '../core/access-request.ts';
import {
	checkRevocation,
	consentId,
	decodeRevocation,
	encodeRevocation,
	type Revocation
} from '../core/consent.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { ValidationError } from '../core/errors.ts';
import { taggedHash } from '../core/hash.ts';
import { verifySignature, type PublicKey } from '../core/identity.ts';
import * as read from '../core/schema.ts';
import type { Ledger } from '../core/chain.ts';
import {
	appendAccessLog,
	decodeAccessLog,
	encodeAccessLog,
	type AccessLogEntry
} from '../records/access-log.ts';
import { aesGcmDecrypt, aesGcmEncrypt, deriveKey, IV_LENGTH, randomIv } from '../records/aead.ts';
import { deriveStorageKey } from '../records/envelope.ts';
import {
	answerAccessRequest,
	decodeShareBundle,
	encodeShareBundle,
	openShare,
	type AccessResponse,
	type ShareBundle,
	type HolderKeys,
	type SharedRecord
} from '../records/share.ts';
import type { PeerNet } from '../net/peer-net.ts';
import type { Store } from '../store/store.ts';
import { serve } from '../net/protocol.ts';
import { ACCESS_LOG, CIPHERTEXT, REVOKE, SHARE, type AccessLogRequest, type Ack } from './wire.ts';
import { ATTACHMENT_KEYS_FROM, HeldAttachments, serveAttachments } from './held-attachments.ts';

/** A record this institution wrote and holds. */
export interface HeldRow {
	digest: Bytes;
	patient: PublicKey;
	sealed: Bytes;
	/** The k_P the patient gave for this record (to show the clinic its own records). */
	recordKey: Bytes;
	/** The chameleon randomness r of the record's hash (needed to label it). */
	r: bigint;
	kind: 'medical' | 'label';
	/** Id of the transaction that points at this ciphertext, once built. */
	transactionId?: Bytes;
	target?: Bytes;
	reason?: string;
	summary: string;
	createdAt: number;
}

/*
 * At rest, a row keeps in clear only what locates it (content address, patient, kind, transaction ids) and
 * the ciphertext, which is encrypted already. What would reveal or endanger the record — the record key
 * k_P, the chameleon randomness r, the clinician's summary and the reason of a correction — is sealed with
 * AES-GCM under a key derived from the institution's storage key, bound to the row's content address.
 */
const rowKey = (storageKey: Bytes) => deriveKey(storageKey, new Uint8Array(32), 'spchain/holder-row/v1');

async function encodeRow(row: HeldRow, storageKey: Bytes): Promise<Bytes> {
	const secret: Record<string, Bytes | string> = {
		recordKey: row.recordKey,
		r: bigIntToBytes(row.r, 32),
		summary: row.summary
	};
	if (row.reason !== undefined) secret.reason = row.reason;
	const iv = randomIv();
	const sealed = await aesGcmEncrypt(rowKey(storageKey), iv, encodeCanonical(secret), row.digest);
	const out: Record<string, Bytes | string | number> = {
		digest: row.digest,
		patient: row.patient,
		sealed: row.sealed,
		kind: row.kind,
		createdAt: row.createdAt,
		secret: concatBytes(iv, sealed)
	};
	if (row.transactionId) out.transactionId = row.transactionId;
	if (row.target) out.target = row.target;
	return encodeCanonical(out);
}

async function decodeRow(bytes: Bytes, storageKey: Bytes): Promise<HeldRow> {
	const o = read.object(
		decodeCanonical(bytes, 8 * 1024 * 1024),
		'held',
		['digest', 'patient', 'sealed', 'kind', 'createdAt', 'secret'],
		['transactionId', 'target']
	);
	const digest = read.bytes(o.digest, 'held.digest', 32);
	const box = read.bytes(o.secret, 'held.secret', { min: IV_LENGTH + 16, max: 4096 });
	const plain = await aesGcmDecrypt(
		rowKey(storageKey),
		box.subarray(0, IV_LENGTH),
		box.subarray(IV_LENGTH),
		digest,
		'held-secret',
		'a held record does not open with this institution key (damaged, or another institution wrote it)'
	);
	const secret = read.object(
		decodeCanonical(plain),
		'held.secret',
		['recordKey', 'r', 'summary'],
		['reason']
	);
	const row: HeldRow = {
		digest,
		patient: read.bytes(o.patient, 'held.patient', 32),
		sealed: read.bytes(o.sealed, 'held.sealed', { max: 8 * 1024 * 1024 }),
		recordKey: read.bytes(secret.recordKey, 'held.recordKey', 32),
		r: bytesToBigInt(read.bytes(secret.r, 'held.r', 32)),
		kind: read.oneOf(o.kind, 'held.kind', ['medical', 'label'] as const),
		summary: read.string(secret.summary, 'held.summary', 300),
		createdAt: read.uint(o.createdAt, 'held.createdAt')
	};
	if (o.transactionId !== undefined)
		row.transactionId = read.bytes(o.transactionId, 'held.transactionId', 32);
	if (o.target !== undefined) row.target = read.bytes(o.target, 'held.target', 32);
	if (secret.reason !== undefined) row.reason = read.string(secret.reason, 'held.reason', 500);
	return row;
}

/** What a patient signs to read its own access log at a holder. */
export function accessLogChallenge(holder: PublicKey, time: number): Bytes {
	return taggedHash('spchain/access-log-request', encodeCanonical({ holder, time }));
}

export interface HolderOptions {
	store: Store;
	net: PeerNet;
	ledger: Ledger;
	institution: { id: PublicKey; secretKey: Bytes };
	clock?: () => number;
}

export class Holder {
	readonly keys: HolderKeys;
	/** Large attachments kept beside the records (held-attachments.ts). */
	readonly attachments: HeldAttachments;
	private readonly store: Store;
	private readonly ledger: Ledger;
	private readonly clock: () => number;
	private readonly answered = new Map<string, number>();
	private readonly listeners = new Set<() => void>();
	/** One access log per patient is a hash chain: appends are serialised. */
	private logQueue: Promise<unknown> = Promise.resolve();

	constructor(options: HolderOptions) {
		this.store = options.store;
		this.ledger = options.ledger;
		this.clock = options.clock ?? Date.now;
		this.keys = {
			id: options.institution.id,
			secretKey: options.institution.secretKey,
			storageKey: deriveStorageKey(options.institution.secretKey)
		};
		const { net } = options;
		this.attachments = new HeldAttachments({ store: this.store, storageKey: this.keys.storageKey });
		serveAttachments({
			net,
			attachments: this.attachments,
			holder: this.keys.id,
			record: (digest) => this.get(digest),
			revocations: () => this.revocations(),
			log: ({ grant, patient, record, digest, hash }) =>
				this.serialisedLog(patient, async (head) => {
					const fields = { holder: this.keys.id, patient, record, digest, attachment: hash };
					const entry = appendAccessLog(
						head,
						{ ...fields, requester: grant.requester, authority: grant.authority, at: this.clock() },
						this.keys.secretKey
					);
					return { value: undefined, entry };
				}),
			clock: this.clock
		});
		serve(net, CIPHERTEXT, (request) => this.answerCiphertext(request));
		serve(net, ACCESS_LOG, (request) => this.answerAccessLog(request));
		serve(net, REVOKE, (revocation) => this.receiveRevocation(revocation));
		serve(net, SHARE, (bundle) => this.receiveShare(bundle));
	}

	onChange(listener: () => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	private changed(): void {
		for (const listener of this.listeners) listener();
	}

	async put(row: HeldRow): Promise<void> {
		const value = await encodeRow(row, this.keys.storageKey);
		await this.store.write([{ table: 'ciphertexts', key: bytesToHex(row.digest), value }]);
		this.changed();
	}

	async get(digest: Bytes): Promise<HeldRow | undefined> {
		const bytes = await this.store.get('ciphertexts', bytesToHex(digest));
		return bytes && decodeRow(bytes, this.keys.storageKey);
	}

	async all(): Promise<HeldRow[]> {
		const rows = await this.store.list('ciphertexts', { to: ATTACHMENT_KEYS_FROM });
		return Promise.all(rows.map(([, bytes]) => decodeRow(bytes, this.keys.storageKey)));
	}

	async byTransaction(id: Bytes): Promise<HeldRow | undefined> {
		const hex = bytesToHex(id);
		return (await this.all()).find((row) => row.transactionId && bytesToHex(row.transactionId) === hex);
	}

	async revocations(): Promise<Revocation[]> {
		return (await this.store.list('meta', { from: 'revocation:', to: 'revocation;' })).map(([, bytes]) =>
			decodeRevocation(bytes)
		);
	}

	async sharedWithUs(): Promise<SharedRecord[]> {
		const revocations = await this.revocations();
		const out: SharedRecord[] = [];
		for (const [, bytes] of await this.store.list('meta', { from: 'share:', to: 'share;' })) {
			try {
				out.push(
					...(await openShare(decodeShareBundle(bytes), {
						grantee: { id: this.keys.id, secretKey: this.keys.secretKey },
						revocations,
						now: this.clock(),
						authorKey: (id) => this.ledger.recordAuthorKey(id)
					}))
				);
			} catch {
				// expired or revoked since it arrived: no longer shown
			}
		}
		return out;
	}

	// ------------------------------------------------------------------------------ protocol handlers

	private async answerCiphertext(request: AccessRequest): Promise<AccessResponse> {
		const row = await this.get(request.digest);
		if (!row || !row.transactionId)
			throw new ValidationError('holder-unknown', 'this institution holds no such record');
		const now = this.clock();
		for (const [nonce, at] of this.answered) if (now - at > 10 * 60_000) this.answered.delete(nonce);
		const result = await this.serialisedLog(row.patient, async (logHead) => {
			const answer = await answerAccessRequest({
				request,
				stored: row.sealed,
				record: { digest: row.digest, patient: row.patient, transactionId: row.transactionId! },
				holder: this.keys,
				revocations: await this.revocations(),
				now,
				seen: (nonce) => this.answered.has(bytesToHex(nonce)),
				logHead
			});
			return { value: answer, entry: answer.entry };
		});
		this.answered.set(bytesToHex(request.nonce), now);
		return result.response;
	}

	/** Appends to a patient's access log under the queue so the hash chain stays linear. */
	private serialisedLog<T>(
		patient: PublicKey,
		body: (head: AccessLogEntry | null) => Promise<{ value: T; entry: AccessLogEntry }>
	): Promise<T> {
		const run = this.logQueue.then(async () => {
			const log = await this.accessLog(patient);
			const { value, entry } = await body(log.at(-1) ?? null);
			await this.store.write([
				{ table: 'accessLog', key: bytesToHex(patient), value: encodeAccessLog([...log, entry]) }
			]);
			this.changed();
			return value;
		});
		this.logQueue = run.catch(() => undefined);
		return run;
	}

	async accessLog(patient: PublicKey): Promise<AccessLogEntry[]> {
		const bytes = await this.store.get('accessLog', bytesToHex(patient));
		return bytes ? decodeAccessLog(bytes) : [];
	}

	private async answerAccessLog(request: AccessLogRequest): Promise<AccessLogEntry[]> {
		if (Math.abs(this.clock() - request.time) > 5 * 60_000)
			throw new ValidationError('access-stale', 'the request is too old; check the device clock');
		if (!verifySignature(request.patient, accessLogChallenge(this.keys.id, request.time), request.signature))
			throw new ValidationError('access-signature', 'only the patient may read their access log');
		return this.accessLog(request.patient);
	}

	private async receiveRevocation(revocation: Revocation): Promise<Ack> {
		checkRevocation(revocation);
		await this.store.write([
			{
				table: 'meta',
				key: `revocation:${bytesToHex(revocation.consent)}`,
				value: encodeRevocation(revocation)
			}
		]);
		this.changed();
		return { ok: true };
	}

	private async receiveShare(bundle: ShareBundle): Promise<Ack> {
		const records = await openShare(bundle, {
			grantee: { id: this.keys.id, secretKey: this.keys.secretKey },
			revocations: await this.revocations(),
			now: this.clock(),
			authorKey: (id) => this.ledger.recordAuthorKey(id)
		});
		// Each shared record must be the one the chain points at, held by the institution named in it.
		for (const record of records) {
			const location = this.ledger.recordLocation(record.transactionId);
			if (!location) throw new ValidationError('share-chain', 'a shared record is not on the chain');
			const entry = this.ledger.patientBlock(location.patient)!.leaves[location.leaf]!.entries[
				location.index
			]!;
			if (bytesToHex(entry.tx.body.record.pointer.holder) !== bytesToHex(record.header.holder))
				throw new ValidationError('share-holder', 'a shared record names another holder than the chain');
		}
		// One bundle per consent: a patient sends a share again until it hears the acknowledgement (which a
		// dropped stream can lose), and the same consent must not show its records twice.
		const id = bytesToHex(consentId(bundle.consent));
		await this.store.write([{ table: 'meta', key: `share:${id}`, value: encodeShareBundle(bundle) }]);
		this.changed();
		return { ok: true };
	}
}
