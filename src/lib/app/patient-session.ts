/**
 * A patient's session (paper section 5.3, the patient's side of Register, Upload, Label and Share): the
 * façade the pages use over the parts under `patient/`, each one concern:
 *
 *   registration.ts    register once through a consortium institution
 *   signing-desk.ts    record keys for clinics; records to review, approve or decline with a reason
 *   record-reader.ts   reading a record from its holder; record-cache.ts keeps sealed copies
 *   history-view.ts    the timeline, a label shown with the record it corrects
 *   consent-book.ts    consents, shares and the revocation outbox
 *   access-log-book.ts the holders' access logs, verified and kept
 *
 * This file wires them to the chain (patient-chain.ts: a phone's light node), the network (net/protocol.ts serve/call) and the store. The
 * patient's keys never leave the device except as a record key k_P for one record, sealed to the clinic
 * writing it.
 */
import { bytesToHex, fromHex } from '../core/bytes.ts';
import { ValidationError } from '../core/errors.ts';
import { addressOf, type PublicKey } from '../core/identity.ts';
import type { LeafEntry } from '../core/patient-block.ts';
import { transactionId } from '../core/transaction.ts';
import {
	attachmentRefs,
	exportHistory,
	inlineAttachments,
	parseRecord,
	type RecordResource
} from '../records/fhir.ts';
import { deriveRecordKey } from '../records/envelope.ts';
import { BACKUP_MIME } from '../keys/backup.ts';
import type { KeyVault } from '../keys/vault.ts';
import type { PatientSecrets } from '../keys/secrets.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { call, serve } from '../net/protocol.ts';
import type { Store } from '../store/store.ts';
import type { Directory } from './directory.ts';
import type { PatientChain } from './patient-chain.ts';
import { AccessLogBook } from './patient/access-log-book.ts';
import { ConsentBook } from './patient/consent-book.ts';
import { historyViews } from './patient/history-view.ts';
import { RecordCache } from './patient/record-cache.ts';
import { RecordReader } from './patient/record-reader.ts';
import { register } from './patient/registration.ts';
import { SigningDesk } from './patient/signing-desk.ts';
import { serveDemographics } from './demographics.ts';
import { AppError, type OnProgress, type PatientSession, type RecordView } from './types.ts';
import { institutionView } from './views.ts';
import { ACCESS_LOG, RECORD_KEY, REVOKE, SHARE, SIGN } from './wire.ts';

/** The least time between two retries of a pending share prompted by the chain moving on. */
const SHARE_RETRY_MS = 5000;

export interface PatientSessionOptions {
	chain: PatientChain;
	net: PeerNet;
	store: Store;
	vault: KeyVault;
	directory: Directory;
	secrets: PatientSecrets;
	publicKey: PublicKey;
	clock?: () => number;
}

export async function createPatientSession(options: PatientSessionOptions): Promise<PatientSession> {
	const { chain, net, store, directory, secrets, publicKey } = options;
	const clock = options.clock ?? Date.now;
	const { genesis } = chain;
	// Who may write to, and be shared with by, this patient: the founders and every admitted institution.
	const consortium = {
		fees: genesis.fees,
		get institutions() {
			return chain.registry.all;
		}
	};
	const patient = { publicKey, secretKey: secrets.signingKey };
	const { masterKey } = secrets;
	const listeners = new Set<() => void>();
	const errors: string[] = [];
	const notify = () => listeners.forEach((listener) => listener());
	chain.on((event) => {
		if (event.type === 'error' && event.message) {
			errors.unshift(event.message);
			errors.splice(20);
		}
		notify();
	});

	function myEntries(): LeafEntry[] {
		const block = chain.patientBlock();
		return block ? block.leaves.flatMap((leaf) => leaf.entries) : [];
	}
	const holders = () => {
		const hexes = new Set(myEntries().map((e) => bytesToHex(e.tx.body.record.pointer.holder)));
		return [...hexes].map((hex) => fromHex(hex, 32));
	};

	const cache = new RecordCache(store, masterKey);
	// Each record's content is checked with its holder's key of the record's round (key rotation).
	const authorKey = (holder: PublicKey, round: number) => chain.registry.signingKeyAt(holder, round);
	const reader = new RecordReader({
		net,
		directory,
		genesis: consortium,
		cache,
		clock,
		patient,
		masterKey,
		authorKey
	});
	const desk = new SigningDesk({
		authorKey,
		patient,
		masterKey,
		genesis: consortium,
		clock,
		original: (target) => reader.readById(myEntries(), target),
		keep: (id, record) => cache.put(id, record),
		changed: notify
	});

	/** The institution speaking from `peer`; a clinic that just dialled us is asked who it is first. */
	async function institutionAt(peer: string): Promise<PublicKey> {
		const find = () => consortium.institutions.find((i) => directory.peerOf(i.id) === peer);
		if (!find()) await directory.ask(peer);
		const institution = find();
		if (!institution)
			throw new ValidationError('record-requester', 'only consortium institutions may write records');
		return institution.id;
	}
	serveDemographics(net, {
		store,
		patient: publicKey,
		secretKey: secrets.signingKey,
		institutionAt: (peer) => institutionAt(peer).catch(() => undefined)
	});
	serve(net, RECORD_KEY, async (_request, from) => desk.grant(await institutionAt(from)));
	serve(net, SIGN, async (request, from) => desk.receive(request, await institutionAt(from)));

	async function reach(institution: PublicKey, ms: number): Promise<string> {
		const peer = await directory.locate(institution, ms);
		if (!peer)
			throw new AppError(
				'institution-offline',
				`${institutionView(consortium, institution).name} is not reachable right now.`
			);
		return peer;
	}

	const consents = new ConsentBook({
		store,
		genesis: consortium,
		clock,
		patient,
		holders,
		async collect(consent, scope, onProgress) {
			// A light node learns of new records every few seconds: share what the chain holds now.
			await chain.catchUp();
			const entries = myEntries().filter(
				(e) => scope === 'all' || scope.includes(bytesToHex(transactionId(e.tx.body)))
			);
			// Every holder is found first: a share that cannot be completed (it is sent again later, sealed
			// anew) logs no disclosure at the holders it did reach.
			for (const hex of new Set(entries.map((e) => bytesToHex(e.tx.body.record.pointer.holder))))
				if (!(await directory.locate(fromHex(hex, 32), 8000)))
					throw new AppError(
						'holder-offline',
						`${institutionView(consortium, fromHex(hex, 32)).name} is not reachable right now.`
					);
			const records = [];
			for (const [i, entry] of entries.entries()) {
				onProgress({
					step: `Fetching record ${i + 1} of ${entries.length} from its holder`,
					fraction: (0.9 * i) / Math.max(1, entries.length)
				});
				const { header, content } = await reader.read(entry, { kind: 'consent', consent });
				// Attachments stay with the holder: the record's key goes along, so the grantee can open them.
				const key = attachmentRefs(JSON.parse(content.resource)).length > 0 && {
					recordKey: deriveRecordKey(masterKey, header),
					digest: entry.tx.body.record.pointer.digest
				};
				records.push({ transactionId: transactionId(entry.tx.body), header, content, ...(key && { key }) });
			}
			return records;
		},
		async send(institution, message) {
			const peer = await reach(institution, 8000);
			const ack =
				'share' in message
					? await call(net, peer, SHARE, message.share)
					: await call(net, peer, REVOKE, message.revoke);
			if (!ack.ok)
				throw new AppError(
					'refused',
					`${institutionView(consortium, institution).name} refused: ${ack.reason}`
				);
		},
		changed: notify
	});
	directory.onChange(() => void consents.deliver().catch(() => undefined));
	void consents.deliver().catch(() => undefined);
	// A grantee that refused a share because its chain lacked a record yet takes it once its chain moved
	// on: while a share is pending, it is sent again as this chain moves (at most every few seconds).
	let retriedAt = 0;
	chain.on((event) => {
		if (event.type !== 'status' || !consents.sharesPending() || Date.now() - retriedAt < SHARE_RETRY_MS)
			return;
		retriedAt = Date.now();
		void consents.deliver().catch(() => undefined);
	});

	const logs = new AccessLogBook({
		store,
		masterKey,
		genesis: consortium,
		clock,
		patient,
		async ask(holder, request) {
			const peer = await directory.locate(holder, 5000);
			if (!peer) return undefined;
			try {
				return await call(net, peer, ACCESS_LOG, request);
			} catch {
				return undefined; // unreachable after all: the kept copy stands, marked as such
			}
		}
	});

	// Looked up once the block is known (the session's views are synchronous).
	let registeredThrough: Uint8Array | undefined;
	const lookUpRegistration = () =>
		void chain.registeredThrough().then((id) => {
			if (!id || registeredThrough) return;
			registeredThrough = id;
			notify();
		});
	chain.on(() => {
		if (!registeredThrough) lookUpRegistration();
	});
	lookUpRegistration();

	const history = (): Promise<RecordView[]> =>
		historyViews({
			genesis: consortium,
			entries: myEntries(),
			open: (entry) => reader.read(entry),
			timeOf: (round) => chain.timeOf(round),
			isPinned: (id) => chain.isPinned(id)
		});

	const session: PatientSession = {
		address: addressOf(publicKey, 'patient'),
		publicKey: bytesToHex(publicKey),
		invitation: () => `spchain:invite?patient=${addressOf(publicKey, 'patient')}&peer=${net.peerId}`,
		institutions: () => consortium.institutions.map((i) => institutionView(consortium, i.id)),
		node: () => chain.view(errors),
		registered: () => chain.patientBlock() !== undefined,
		registration() {
			const block = chain.patientBlock();
			if (!block) return undefined;
			return {
				height: block.header.round,
				institution: registeredThrough && institutionView(consortium, registeredThrough)
			};
		},
		register: (details, onProgress?: OnProgress) => register({ chain, store, patient }, details, onProgress),
		history,
		signingRequests: () => desk.requests(),
		approve: (requestId) => desk.approve(requestId),
		decline: (requestId, reason) => desk.decline(requestId, reason),
		consents: () => consents.consents(),
		share: (request, onProgress) => consents.share(request, onProgress),
		revoke: (id) => consents.revoke(id),
		accessLog: () => logs.entries(holders()),

		async openAttachment(recordId, url, onProgress) {
			const entry = myEntries().find((e) => bytesToHex(transactionId(e.tx.body)) === recordId);
			if (!entry) throw new AppError('attachment-missing', 'This record is not on your chain.');
			return reader.openAttachment(entry, url, onProgress);
		},

		async exportBundle() {
			// Every record the device opened, with each correction and its Provenance (records/fhir/export.ts);
			// attachments kept beside a record are fetched and put back inline, so the file stands alone.
			const inline = (id: string, resource: RecordResource) =>
				inlineAttachments(
					resource,
					async (url) => new Uint8Array(await (await session.openAttachment(id, url)).arrayBuffer())
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
