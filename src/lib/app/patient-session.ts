/**
 * A patient's session (paper section 5.3, the patient's side of Register, Upload, Label and Share): the
 * patient registers once, approves the records clinics want to write (the device issues each record's
 * key and signs the transaction), reads the whole history by asking each holder to remove its layer,
 * shares records with another institution under a signed, expiring, revocable consent, and reads the
 * access logs the holders keep. The patient's keys never leave the device except as a record key k_P
 * for one record, handed to the clinic writing it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex, concatBytes, fromHex } from '../core/bytes.ts';
import {
	consentId,
	createAccessRequest,
	type AccessAuthority,
	createConsent,
	createRevocation,
	decodeConsent,
	decodeRevocation,
	encodeConsent,
	encodeRevocation,
	isConsentActive,
	type Consent,
	type Revocation
} from '../core/consent.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { ValidationError } from '../core/errors.ts';
import { addressOf, parseAddress, sign, type PublicKey } from '../core/identity.ts';
import type { LeafEntry } from '../core/patient-block.ts';
import {
	signTransaction,
	transactionId,
	type Pointer,
	type RegisterBody,
	type Transaction
} from '../core/transaction.ts';
import {
	decodeAccessLog,
	encodeAccessLog,
	extendKnownLog,
	type AccessLogEntry
} from '../records/access-log.ts';
import { aesGcmDecrypt, aesGcmEncrypt, deriveKey, IV_LENGTH, randomIv } from '../records/aead.ts';
import {
	checkRecordContent,
	contentAddress,
	decodeRecordContent,
	decodeSealedRecord,
	deriveRecordKey,
	encodeRecordContent,
	headerToCanonical,
	readHeader,
	issueRecordKey,
	type RecordContent,
	type RecordHeader
} from '../records/envelope.ts';
import {
	attachmentRefs,
	exportHistory,
	inlineAttachments,
	parseRecord,
	type RecordResource
} from '../records/fhir.ts';
import { openAccessResponse, sealShare } from '../records/share.ts';
import { BACKUP_MIME } from '../keys/backup.ts';
import type { KeyVault } from '../keys/vault.ts';
import type { PatientSecrets } from '../keys/secrets.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { call, serve, type ProtocolDescriptor } from '../net/protocol.ts';
import type { FullNode } from '../runtime/full-node.ts';
import type { Store } from '../store/store.ts';
import type { Directory } from './directory.ts';
import { accessLogChallenge } from './holder.ts';
import { fetchAttachment } from './attachment-fetch.ts';
import {
	AppError,
	type AccessLogView,
	type ConsentView,
	type InstitutionView,
	type OnProgress,
	type PatientSession,
	type RecordView,
	type SigningRequestView
} from './types.ts';
import { institutionView, nodeView } from './views.ts';
import {
	ACCESS_LOG,
	CIPHERTEXT,
	RECORD,
	REVOKE,
	SHARE,
	SIGN,
	type Ack,
	type RecordReply,
	type RecordRequest,
	type SignReply
} from './wire.ts';

/** A record request the patient has not answered yet. */
interface Waiting {
	view: SigningRequestView;
	holder: PublicKey;
	request: RecordRequest;
	answer: (reply: RecordReply) => void;
}

/** An approved record: the clinic may ask once for a signature of a transaction pointing at it. */
interface Approved {
	header: RecordHeader;
	request: RecordRequest;
	at: number;
}

const APPROVAL_VALID_MS = 30 * 60_000;
/** Meta keys of the approved label reasons: sealed (`label-reason:<tx id>`), and clear from before. */
const REASON_PREFIX = 'label-reason:';
const ACCESS_LOG_PREFIX = 'access-log:';
const CONSENT_PENDING_PREFIX = 'consent-pending:';
const CONSENT_PENDING_END = 'consent-pending;';
const REASON_END = 'label-reason;';
const LEGACY_REASON_PREFIX = 'reason:';
const LEGACY_REASON_END = 'reason;';
/** `revocation-due:<consent id>:<institution id>`: a revocation that institution has not confirmed. */
const REVOCATION_DUE_PREFIX = 'revocation-due:';
const REVOCATION_DUE_END = 'revocation-due;';

export interface PatientSessionOptions {
	node: FullNode;
	net: PeerNet;
	store: Store;
	vault: KeyVault;
	directory: Directory;
	secrets: PatientSecrets;
	publicKey: PublicKey;
	clock?: () => number;
}

export async function createPatientSession(options: PatientSessionOptions): Promise<PatientSession> {
	const { node, net, store, directory, secrets, publicKey } = options;
	const clock = options.clock ?? Date.now;
	const { ledger } = node.chain;
	const { genesis } = ledger;
	const listeners = new Set<() => void>();
	const errors: string[] = [];
	const waiting = new Map<string, Waiting>();
	const approved = new Map<string, Approved>();
	/** Decrypted contents, by transaction id (memory only; the sealed bytes are cached in the store). */
	const contents = new Map<string, { header: RecordHeader; content: RecordContent }>();
	const notify = () => listeners.forEach((listener) => listener());
	node.on((event) => {
		if (event.type === 'error') {
			errors.unshift(event.message);
			errors.splice(20);
		}
		notify();
	});

	// ------------------------------------------------------------ clinics ask (Upload (4), Label (7))

	/** The institution speaking from `peer`; a clinic that just dialled us is asked who it is first. */
	async function institutionAt(peer: string) {
		const find = () => genesis.institutions.find((i) => directory.peerOf(i.id) === peer);
		if (!find()) await directory.ask(peer);
		return find();
	}

	serve(net, RECORD, async (request, from) => {
		const holder = await institutionAt(from);
		if (!holder)
			throw new ValidationError('record-requester', 'only consortium institutions may write records');
		const id = bytesToHex(randomBytes(8));
		return new Promise<RecordReply>((answer) => {
			waiting.set(id, {
				holder: holder.id,
				request,
				answer,
				view: {
					id,
					kind: request.kind,
					institution: institutionView(genesis, holder.id),
					summary: request.summary,
					target: request.target && bytesToHex(request.target),
					reason: request.reason,
					receivedAt: clock()
				}
			});
			notify();
		});
	});

	serve(net, SIGN, async ({ body, sealed }, from): Promise<SignReply> => {
		const refuse = (reason: string): SignReply => ({ signed: false, reason });
		const header = decodeSealedRecord(sealed);
		const approval = approved.get(bytesToHex(header.record));
		if (!approval || clock() - approval.at > APPROVAL_VALID_MS)
			return refuse('this record was not approved on the patient device, or the approval expired');
		const holder = body.institution;
		const problems = [
			[bytesToHex(body.patient) === bytesToHex(publicKey), 'the transaction is for another patient'],
			[
				bytesToHex(holder) === bytesToHex(approval.header.holder),
				'another institution asked for this record'
			],
			[directory.peerOf(holder) === from, 'the request does not come from the institution'],
			[body.kind === approval.request.kind, 'the transaction kind differs from what was approved'],
			[bytesToHex(body.record.pointer.holder) === bytesToHex(holder), 'the record would be held elsewhere'],
			[
				bytesToHex(contentAddress(sealed)) === bytesToHex(body.record.pointer.digest),
				'the pointer does not match the record'
			],
			[
				bytesToHex(header.patient) === bytesToHex(publicKey) &&
					bytesToHex(header.holder) === bytesToHex(holder),
				'the record header is wrong'
			],
			[
				JSON.stringify(body.fees) === JSON.stringify(genesis.fees[body.kind]),
				'the fees are not the consortium fees'
			],
			[
				body.kind !== 'label' ||
					bytesToHex(body.target) === bytesToHex(approval.request.target ?? new Uint8Array()),
				'the label targets another record'
			]
		] as const;
		const failed = problems.find(([ok]) => !ok);
		if (failed) return refuse(failed[1]);
		approved.delete(bytesToHex(header.record));
		const tx = signTransaction(body, secrets.signingKey);
		if (body.kind === 'label' && approval.request.reason) {
			const id = transactionId(body);
			reasons.set(bytesToHex(id), approval.request.reason);
			await store.write([
				{
					table: 'meta',
					key: `${REASON_PREFIX}${bytesToHex(id)}`,
					value: await sealReason(id, approval.request.reason)
				}
			]);
		}
		return { signed: true, signature: tx.signature };
	});

	function answer(id: string, reply: RecordReply): void {
		const entry = waiting.get(id);
		if (!entry) throw new AppError('request-gone', 'This request is no longer waiting (the clinic gave up).');
		waiting.delete(id);
		entry.answer(reply);
		notify();
	}

	// ------------------------------------------------------------ reading the history

	function myEntries(): LeafEntry[] {
		const block = ledger.patientBlock(publicKey);
		return block ? block.leaves.flatMap((leaf) => leaf.entries) : [];
	}

	/** The holder's peer and a fresh signed request for the record `pointer` names. */
	async function holderRequest(pointer: Pointer, authority: AccessAuthority) {
		const peer = await directory.locate(pointer.holder, 8000);
		if (!peer)
			throw new AppError(
				'holder-offline',
				`${institutionView(genesis, pointer.holder).name} is not reachable right now.`
			);
		const request = createAccessRequest(
			{ holder: pointer.holder, digest: pointer.digest, authority, time: clock() },
			secrets.signingKey,
			publicKey
		);
		return { peer, request };
	}

	/** An attachment of one of the patient's records, fetched from its holder when opened. */
	async function openAttachment(recordId: string, url: string, onProgress?: OnProgress): Promise<Blob> {
		const entry = myEntries().find((e) => bytesToHex(transactionId(e.tx.body)) === recordId);
		if (!entry) throw new AppError('attachment-missing', 'This record is not on your chain.');
		const { header, content } = await fetchContent(entry);
		const ref = attachmentRefs(JSON.parse(content.resource)).find((a) => a.url === url);
		if (!ref) throw new AppError('attachment-missing', 'This record has no such document.');
		const { peer, request } = await holderRequest(entry.tx.body.record.pointer, { kind: 'patient' });
		return fetchAttachment({
			net,
			peer,
			request: { access: request, hash: ref.hash },
			header,
			recordKey: deriveRecordKey(secrets.masterKey, header),
			ref,
			onProgress
		});
	}

	/** Fetches a record from its holder (the holder removes its layer for us) and opens it. */
	async function fetchContent(
		entry: LeafEntry,
		authority: AccessAuthority = { kind: 'patient' }
	): Promise<{ header: RecordHeader; content: RecordContent }> {
		const { pointer } = entry.tx.body.record;
		const id = transactionId(entry.tx.body);
		const key = bytesToHex(id);
		if (authority.kind === 'patient') {
			const known = contents.get(key) ?? (await readCached(id));
			if (known) {
				contents.set(key, known);
				return known;
			}
		}
		const { peer, request } = await holderRequest(pointer, authority);
		const response = await call(net, peer, CIPHERTEXT, request);
		const opened = await openAccessResponse(response, {
			request,
			pointer,
			patient: { publicKey, secretKey: secrets.signingKey },
			masterKey: secrets.masterKey
		});
		if (authority.kind === 'patient') {
			contents.set(key, opened);
			await writeCached(id, opened);
		}
		return opened;
	}

	/*
	 * The patient's offline copy of a record they read: the opened content re-encrypted on this device
	 * under a key derived from the master key (never the plaintext at rest), and checked again (the
	 * holder's signature over the content) when read back.
	 */
	const cacheKey = (id: Uint8Array) => deriveKey(secrets.masterKey, id, 'spchain/patient-cache/v1');

	async function writeCached(
		id: Uint8Array,
		opened: { header: RecordHeader; content: RecordContent }
	): Promise<void> {
		const iv = randomIv();
		const plain = encodeCanonical({
			header: headerToCanonical(opened.header),
			content: encodeRecordContent(opened.content)
		});
		const sealed = await aesGcmEncrypt(cacheKey(id), iv, plain, id);
		await store.write([{ table: 'meta', key: `cache:${bytesToHex(id)}`, value: concatBytes(iv, sealed) }]);
	}

	async function readCached(
		id: Uint8Array
	): Promise<{ header: RecordHeader; content: RecordContent } | undefined> {
		const bytes = await store.get('meta', `cache:${bytesToHex(id)}`);
		if (!bytes) return undefined;
		try {
			const plain = await aesGcmDecrypt(
				cacheKey(id),
				bytes.subarray(0, IV_LENGTH),
				bytes.subarray(IV_LENGTH),
				id,
				'cache',
				'the cached copy does not open'
			);
			const value = decodeCanonical(plain) as { header: unknown; content: unknown };
			const header = readHeader(value.header, 'cache.header');
			const content = decodeRecordContent(value.content as Uint8Array);
			checkRecordContent(header, content);
			return { header, content };
		} catch {
			return undefined; // a damaged copy is fetched again from the holder
		}
	}

	async function history(): Promise<RecordView[]> {
		const entries = myEntries();
		const labels = new Map<string, LeafEntry>();
		for (const entry of entries)
			if (entry.tx.body.kind === 'label') labels.set(bytesToHex(entry.tx.body.target), entry);
		const views: RecordView[] = [];
		for (const entry of entries) {
			if (entry.tx.body.kind !== 'medical') continue;
			const id = transactionId(entry.tx.body);
			const view: RecordView = {
				id: bytesToHex(id),
				institution: institutionView(genesis, entry.tx.body.institution),
				round: entry.tx.body.round,
				at: ledger.keyblock(Math.max(1, entry.tx.body.round))?.block.header.timestamp ?? 0,
				// Attached entries were verified by this node: the pin, the record's proof, the leaf proof.
				status: { pinned: node.chain.isPinned(id), proofVerified: true, attached: true }
			};
			try {
				const { content } = await fetchContent(entry);
				view.resource = parseRecord(content.resource);
				view.at = content.authoredAt;
			} catch (error) {
				view.unavailable = error instanceof Error ? error.message : String(error);
			}
			const label = labels.get(bytesToHex(id));
			if (label && label.tx.body.kind === 'label') {
				view.label = {
					id: bytesToHex(transactionId(label.tx.body)),
					institution: institutionView(genesis, label.tx.body.institution),
					at: ledger.keyblock(Math.max(1, label.tx.body.round))?.block.header.timestamp ?? 0,
					reason: reasons.get(bytesToHex(transactionId(label.tx.body))) ?? 'corrected by the institution'
				};
				try {
					const { content: corrected } = await fetchContent(label);
					view.label.corrected = parseRecord(corrected.resource);
					view.label.at = corrected.authoredAt;
					if (corrected.correction) view.label.reason = corrected.correction.reason;
				} catch {
					// shown as labelled without the corrected content until the holder is reachable
				}
			}
			views.push(view);
		}
		return views.sort((a, b) => b.at - a.at);
	}

	/**
	 * Label reasons the patient approved: the chain keeps the label, the reason stays on the device, sealed
	 * like the cached records (docs/privacy.md). Reasons an older version kept in clear are sealed now.
	 */
	const reasonKey = (id: Uint8Array) => deriveKey(secrets.masterKey, id, 'spchain/patient-label-reason/v1');
	async function sealReason(id: Uint8Array, reason: string): Promise<Uint8Array> {
		const iv = randomIv();
		return concatBytes(iv, await aesGcmEncrypt(reasonKey(id), iv, new TextEncoder().encode(reason), id));
	}
	/** Each holder's access log as last verified, sealed on the device like the cached records. */
	const logKey = (holder: Uint8Array) =>
		deriveKey(secrets.masterKey, holder, 'spchain/patient-access-log/v1');
	async function keepLog(holder: Uint8Array, entries: AccessLogEntry[]): Promise<void> {
		const iv = randomIv();
		const sealed = await aesGcmEncrypt(logKey(holder), iv, encodeAccessLog(entries), holder);
		await store.write([
			{ table: 'meta', key: `${ACCESS_LOG_PREFIX}${bytesToHex(holder)}`, value: concatBytes(iv, sealed) }
		]);
	}
	async function keptLog(holder: Uint8Array): Promise<AccessLogEntry[]> {
		const value = await store.get('meta', `${ACCESS_LOG_PREFIX}${bytesToHex(holder)}`);
		if (!value) return [];
		try {
			const plain = await aesGcmDecrypt(
				logKey(holder),
				value.subarray(0, IV_LENGTH),
				value.subarray(IV_LENGTH),
				holder,
				'access-log-kept',
				'the kept access log does not open'
			);
			return decodeAccessLog(plain);
		} catch {
			return []; // damaged on this device: the next fetch from the holder replaces it
		}
	}
	const reasons = new Map<string, string>();
	for (const [key, value] of await store.list('meta', { from: REASON_PREFIX, to: REASON_END })) {
		const id = key.slice(REASON_PREFIX.length);
		try {
			const plain = await aesGcmDecrypt(
				reasonKey(fromHex(id, 32)),
				value.subarray(0, IV_LENGTH),
				value.subarray(IV_LENGTH),
				fromHex(id, 32),
				'label-reason',
				'the stored reason does not open'
			);
			reasons.set(id, new TextDecoder().decode(plain));
		} catch {
			// Damaged on this device: the history shows the label without its reason.
		}
	}
	for (const [key, value] of await store.list('meta', {
		from: LEGACY_REASON_PREFIX,
		to: LEGACY_REASON_END
	})) {
		const id = key.slice(LEGACY_REASON_PREFIX.length);
		const reason = new TextDecoder().decode(value);
		reasons.set(id, reason);
		await store.write([
			{ table: 'meta', key: `${REASON_PREFIX}${id}`, value: await sealReason(fromHex(id, 32), reason) },
			{ table: 'meta', key, value: null }
		]);
	}

	// ------------------------------------------------------------ consents

	async function storedConsents(): Promise<Consent[]> {
		return (await store.list('meta', { from: 'consent:', to: 'consent;' })).map(([, bytes]) =>
			decodeConsent(bytes)
		);
	}

	async function storedRevocations(): Promise<Revocation[]> {
		return (await store.list('meta', { from: 'revocation:', to: 'revocation;' })).map(([, bytes]) =>
			decodeRevocation(bytes)
		);
	}

	/**
	 * Tells each institution a revocation is still due to; what it confirms (or refuses: it has heard) is
	 * done. One that is offline stays due and is tried again when the directory sees an institution come
	 * online, and each time the app opens, so a holder that was away learns it before it next releases.
	 */
	let delivering: Promise<void> | undefined;
	function deliverRevocations(): Promise<void> {
		let delivered = 0;
		delivering ??= (async () => {
			for (const [key] of await store.list('meta', { from: REVOCATION_DUE_PREFIX, to: REVOCATION_DUE_END })) {
				const [id, institution] = key.slice(REVOCATION_DUE_PREFIX.length).split(':') as [string, string];
				const revocation = await store.get('meta', `revocation:${id}`);
				try {
					if (revocation) await tell(fromHex(institution, 32), REVOKE, decodeRevocation(revocation));
				} catch (error) {
					if (!(error instanceof AppError && error.code === 'refused')) continue;
				}
				await store.write([{ table: 'meta', key, value: null }]);
				delivered++;
			}
		})().finally(() => {
			delivering = undefined;
			// Only a change is worth a refresh of the screens (which asks around, and would retry again).
			if (delivered > 0) notify();
		});
		return delivering;
	}
	directory.onChange(() => void deliverRevocations().catch(() => undefined));
	void deliverRevocations().catch(() => undefined);

	async function revocationsDue(): Promise<Map<string, InstitutionView[]>> {
		const due = new Map<string, InstitutionView[]>();
		for (const [key] of await store.list('meta', { from: REVOCATION_DUE_PREFIX, to: REVOCATION_DUE_END })) {
			const [id, institution] = key.slice(REVOCATION_DUE_PREFIX.length).split(':') as [string, string];
			due.set(id, [...(due.get(id) ?? []), institutionView(genesis, fromHex(institution, 32))]);
		}
		return due;
	}

	function consentView(
		consent: Consent,
		revocations: Revocation[],
		due: Map<string, InstitutionView[]> = new Map(),
		pending: ReadonlySet<string> = new Set()
	): ConsentView {
		return {
			pending: pending.has(bytesToHex(consentId(consent))),
			revocationNotDelivered: due.get(bytesToHex(consentId(consent))) ?? [],
			id: bytesToHex(consentId(consent)),
			grantee: institutionView(genesis, consent.grantee),
			scope: consent.scope === 'all' ? 'all' : consent.scope.map(bytesToHex),
			purpose: consent.purpose,
			issuedAt: consent.issuedAt,
			expiresAt: consent.expiresAt,
			revoked: !isConsentActive(consent, revocations, Math.min(clock(), consent.expiresAt - 1))
		};
	}

	async function tell<Req>(
		institution: PublicKey,
		protocol: ProtocolDescriptor<Req, Ack>,
		request: Req
	): Promise<void> {
		const peer = await directory.locate(institution, 8000);
		if (!peer)
			throw new AppError(
				'institution-offline',
				`${institutionView(genesis, institution).name} is not reachable right now.`
			);
		const ack = await call(net, peer, protocol, request);
		if (!ack.ok)
			throw new AppError('refused', `${institutionView(genesis, institution).name} refused: ${ack.reason}`);
	}

	const session: PatientSession = {
		address: addressOf(publicKey, 'patient'),
		publicKey: bytesToHex(publicKey),
		invitation: () => `spchain:invite?patient=${addressOf(publicKey, 'patient')}&peer=${net.peerId}`,
		institutions: () => genesis.institutions.map((i) => institutionView(genesis, i.id)),
		node: () => nodeView(node, errors),
		registered: () => ledger.patientBlock(publicKey) !== undefined,
		registration() {
			const block = ledger.patientBlock(publicKey);
			if (!block) return undefined;
			const height = block.header.round;
			const tx = ledger
				.keyblock(height)
				?.block.registers.find((r) => bytesToHex(r.body.patient) === bytesToHex(publicKey));
			return tx && { height, institution: institutionView(genesis, tx.body.institution) };
		},

		async register(details, onProgress: OnProgress = () => {}) {
			if (ledger.patientBlock(publicKey)) throw new AppError('registered', 'You are already registered.');
			let institution: PublicKey;
			try {
				institution = details.institution.startsWith('spi')
					? parseAddress(details.institution, 'institution')
					: genesis.institutions.find(
							(i) => i.name === details.institution || bytesToHex(i.id) === details.institution
						)!.id;
			} catch {
				throw new AppError('institution', 'Choose one of the consortium institutions to register with.');
			}
			if (!institution)
				throw new AppError('institution', 'Choose one of the consortium institutions to register with.');
			// H(ID || Age || …): a salted commitment, so the chain reveals nothing about who registered.
			const salt = randomBytes(32);
			const identity = sha256(
				encodeCanonical({ name: details.name.trim(), birthDate: details.birthDate, salt })
			);
			await store.write([{ table: 'meta', key: 'register-salt', value: salt }]);
			const body: RegisterBody = {
				kind: 'register',
				patient: publicKey,
				institution,
				round: ledger.height,
				fees: genesis.fees.register,
				identity
			};
			onProgress({ step: 'Sending the registration to the consortium', fraction: 0.1 });
			try {
				await node.submit(signTransaction(body, secrets.signingKey) as Transaction);
			} catch (error) {
				if (error instanceof ValidationError) throw new AppError(error.code, error.message);
				throw error;
			}
			onProgress({ step: 'Waiting for a pinned keyblock with your registration', fraction: 0.3 });
			await new Promise<void>((resolve, reject) => {
				const timer = setTimeout(() => {
					stop();
					reject(
						new AppError(
							'register-timeout',
							'No keyblock included the registration yet; it stays pending and will be retried.'
						)
					);
				}, 5 * 60_000);
				const stop = node.on(() => {
					if (ledger.patientBlock(publicKey)) {
						clearTimeout(timer);
						stop();
						resolve();
					}
				});
			});
			onProgress({ step: 'Registered', fraction: 1 });
		},

		history,
		signingRequests: () => [...waiting.values()].map((w) => w.view),

		async approve(requestId) {
			const entry = waiting.get(requestId);
			if (!entry)
				throw new AppError('request-gone', 'This request is no longer waiting (the clinic gave up).');
			const { header, key } = issueRecordKey(secrets.masterKey, publicKey, entry.holder);
			approved.set(bytesToHex(header.record), { header, request: entry.request, at: clock() });
			answer(requestId, { approved: true, header, key });
		},

		async decline(requestId) {
			answer(requestId, { approved: false, reason: 'the patient declined on their device' });
		},

		async consents() {
			const revocations = await storedRevocations();
			const due = await revocationsDue();
			const pending = new Set(
				(await store.list('meta', { from: CONSENT_PENDING_PREFIX, to: CONSENT_PENDING_END })).map(([key]) =>
					key.slice(CONSENT_PENDING_PREFIX.length)
				)
			);
			return (await storedConsents())
				.map((c) => consentView(c, revocations, due, pending))
				.sort((a, b) => b.issuedAt - a.issuedAt);
		},

		async share({ institution, scope, purpose, days }, onProgress: OnProgress = () => {}) {
			const grantee = institution.startsWith('spi')
				? parseAddress(institution, 'institution')
				: genesis.institutions.find((i) => i.name === institution || bytesToHex(i.id) === institution)?.id;
			if (!grantee)
				throw new AppError('institution', 'Choose an institution of the consortium to share with.');
			const now = clock();
			const consent = createConsent(
				{
					patient: publicKey,
					grantee,
					scope: scope === 'all' ? 'all' : scope.map((id) => fromHex(id, 32)),
					purpose,
					issuedAt: now,
					expiresAt: now + Math.max(1, days) * 86_400_000
				},
				secrets.signingKey
			);
			const id = bytesToHex(consentId(consent));
			// Pending until the institution acknowledged the records: a failed share is not shown as given.
			await store.write([
				{ table: 'meta', key: `consent:${id}`, value: encodeConsent(consent) },
				{ table: 'meta', key: `${CONSENT_PENDING_PREFIX}${id}`, value: new Uint8Array(0) }
			]);
			const entries = myEntries().filter(
				(e) => scope === 'all' || scope.includes(bytesToHex(transactionId(e.tx.body)))
			);
			const records = [];
			for (const [i, entry] of entries.entries()) {
				onProgress({
					step: `Fetching record ${i + 1} of ${entries.length} from its holder`,
					fraction: i / (entries.length + 1)
				});
				const { header, content } = await fetchContent(entry, { kind: 'consent', consent });
				records.push({ transactionId: transactionId(entry.tx.body), header, content });
			}
			onProgress({
				step: 'Sealing the records for the institution alone',
				fraction: entries.length / (entries.length + 1)
			});
			const bundle = await sealShare({
				consent,
				revocations: await storedRevocations(),
				now: clock(),
				records
			});
			await tell(grantee, SHARE, bundle);
			await store.write([{ table: 'meta', key: `${CONSENT_PENDING_PREFIX}${id}`, value: null }]);
			onProgress({ step: 'Shared', fraction: 1 });
			notify();
			return consentView(consent, []);
		},

		async revoke(id) {
			const bytes = await store.get('meta', `consent:${id}`);
			if (!bytes) throw new AppError('consent-unknown', 'There is no such consent on this device.');
			const consent = decodeConsent(bytes);
			const revocation = createRevocation(consent, secrets.signingKey, clock());
			// The grantee and every holder are told; each stays due until it confirmed (deliverRevocations).
			const due = new Set(
				[consent.grantee, ...myEntries().map((e) => e.tx.body.record.pointer.holder)].map(bytesToHex)
			);
			await store.write([
				{ table: 'meta', key: `revocation:${id}`, value: encodeRevocation(revocation) },
				...[...due].map((institution) => ({
					table: 'meta' as const,
					key: `${REVOCATION_DUE_PREFIX}${id}:${institution}`,
					value: new Uint8Array(0)
				}))
			]);
			notify();
			// A run already under way listed what was due before this revocation: wait for it, then run.
			await delivering?.catch(() => undefined);
			await deliverRevocations();
		},

		async accessLog(): Promise<AccessLogView[]> {
			const holders = new Set(myEntries().map((e) => bytesToHex(e.tx.body.record.pointer.holder)));
			const out: AccessLogView[] = [];
			for (const hex of holders) {
				const holder = fromHex(hex, 32);
				// The device keeps each holder's verified log (sealed), shown when the holder is unreachable.
				let fresh: AccessLogEntry[] | undefined;
				const peer = await directory.locate(holder, 5000);
				if (peer) {
					const time = clock();
					const request = {
						patient: publicKey,
						time,
						signature: sign(secrets.signingKey, accessLogChallenge(holder, time))
					};
					try {
						fresh = await call(net, peer, ACCESS_LOG, request);
					} catch {
						// unreachable after all: the kept copy stands, marked as such
					}
				}
				const entries = extendKnownLog(await keptLog(holder), fresh, { holder, patient: publicKey });
				if (fresh) await keepLog(holder, entries);
				for (const e of entries)
					out.push({
						at: e.at,
						holder: institutionView(genesis, e.holder),
						recordId: bytesToHex(e.record),
						authority: e.authority.kind === 'patient' ? 'patient' : bytesToHex(e.authority.consentId),
						requester:
							e.authority.kind === 'patient' ? 'you' : institutionView(genesis, e.authority.grantee).name,
						...(fresh ? {} : { fromCopy: true })
					});
			}
			return out.sort((a, b) => b.at - a.at);
		},

		openAttachment,

		async exportBundle() {
			// Every record the device opened, with each correction and its Provenance (records/fhir/export.ts);
			// attachments kept beside a record are fetched and put back inline, so the file stands alone.
			const inline = (id: string, resource: RecordResource) =>
				inlineAttachments(
					resource,
					async (url) => new Uint8Array(await (await openAttachment(id, url)).arrayBuffer())
				);
			const records = [];
			for (const r of await history()) {
				if (!r.resource) continue;
				records.push({
					id: r.id,
					institution: r.institution.name,
					resource: await inline(r.id, parseRecord(r.resource)),
					label: r.label && {
						id: r.label.id,
						institution: r.label.institution.name,
						at: r.label.at,
						reason: r.label.reason,
						corrected: r.label.corrected && (await inline(r.label.id, parseRecord(r.label.corrected)))
					}
				});
			}
			return JSON.stringify(exportHistory(addressOf(publicKey, 'patient'), records), null, 2);
		},

		async backup(passphrase) {
			const bytes = await options.vault.exportBackup(passphrase);
			return new Blob([bytes.slice().buffer as ArrayBuffer], { type: BACKUP_MIME });
		},

		subscribe(listener) {
			listeners.add(listener);
			return () => listeners.delete(listener);
		}
	};
	return session;
}
