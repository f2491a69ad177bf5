/**
 * A clinic's session (paper section 5.3, the institution's side of Upload and Label), the façade the pages
 * use: it writes records for patients and corrects its own records with the patient's signature
 * (clinic/record-writer.ts: record key, sealing, proof, the patient's review), keeps the ciphertexts
 * (holder.ts), tracks its transactions until attached, and shows what patients shared with it. An
 * imported FHIR file (a whole visit) is one record, checked in full before the patient is asked
 * (records/fhir/visit.ts).
 */
import type { Resource } from '@medplum/fhirtypes';
import { bytesToHex, fromHex, type Bytes } from '../core/bytes.ts';
import { addressOf, parseAddress, type PublicKey } from '../core/identity.ts';
import { askDemographics, knownDemographics } from './demographics.ts';
import type { ChameleonProver } from '../crypto/chameleon-prover.ts';
import type { InstitutionSecrets } from '../keys/secrets.ts';
import type { MiningControl } from '../mining/control.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { decodeSealedRecord, deriveOuterKey, openRecord } from '../records/envelope.ts';
import {
	ensureValidResource,
	MAX_RECORD_BYTES,
	parseRecord,
	planImport,
	type ImportPlan,
	type PlannedAttachment,
	type RecordResource
} from '../records/fhir.ts';
import { chainBalances, chainReputations } from '../runtime/chain-metrics.ts';
import type { FullNode } from '../runtime/full-node.ts';
import type { Store } from '../store/store.ts';
import { RecordWriter } from './clinic/record-writer.ts';
import { openSharedAttachment } from './shared-attachment.ts';
import type { Directory } from './directory.ts';
import type { Holder, HeldRow } from './holder.ts';
import {
	AppError,
	type ClinicNodeView,
	type ClinicSession,
	type ImportPreview,
	type InstitutionView,
	type OnProgress,
	type PatientSeenView,
	type PendingTransactionView,
	type RecordView,
	type SharedRecordView
} from './types.ts';
import { institutionView, nodeView, RateMeter, sharedRecordViews } from './views.ts';

export interface ClinicSessionOptions {
	node: FullNode;
	net: PeerNet;
	store: Store;
	holder: Holder;
	directory: Directory;
	prover: () => ChameleonProver;
	institution: { id: PublicKey; name: string; chameleonKey: Bytes; secrets: InstitutionSecrets };
	hashes?: () => number;
	mining?: MiningControl;
	clock?: () => number;
}

/** How often, and how far apart, the clinic asks a patient's device who the patient is. */
const DEMOGRAPHICS_ATTEMPTS = 4;
const DEMOGRAPHICS_RETRY_MS = 5_000;

export async function createClinicSession(options: ClinicSessionOptions): Promise<ClinicSession> {
	const { node, net, store, holder, directory, institution } = options;
	const clock = options.clock ?? Date.now;
	const { ledger } = node.chain;
	const listeners = new Set<() => void>();
	const pending = new Map<string, PendingTransactionView>();
	const errors: string[] = [];
	const meter = new RateMeter();
	const notify = () => listeners.forEach((listener) => listener());
	// Founders and the institutions admitted since (a tab's own institution may be one of those).
	const consortium = { institutions: ledger.registry.all };
	const self: InstitutionView = { ...institutionView(consortium, institution.id), name: institution.name };
	// Who each patient is, as their devices told this clinic (kept sealed to it; app/demographics.ts).
	const demographics = await knownDemographics(store, institution.id, institution.secrets.signingKey);
	const knownPatients = new Set(
		(await store.list('meta', { from: 'patient:', to: 'patient;' })).map(([key]) =>
			key.slice('patient:'.length)
		)
	);

	node.on((event) => {
		if (event.type === 'error') {
			errors.unshift(event.message);
			errors.splice(20);
		}
		if (event.type === 'fact') {
			const { fact } = event;
			for (const view of pending.values()) {
				const id = fromHex(view.id);
				if (fact.type === 'batch' && node.chain.isPinned(id) && view.state === 'waiting-for-pin')
					view.state = 'pinned';
				if (fact.type === 'attachment' && ledger.recordLocation(id)) view.state = 'attached';
			}
		}
		// A transaction the chain can no longer take (its round expired unpinned): say so, not "waiting".
		if (event.type === 'dropped') {
			const view = pending.get(bytesToHex(event.id));
			if (view?.state === 'waiting-for-pin') {
				view.state = 'failed';
				view.detail = `Not pinned (${event.message}): write it again.`;
			}
		}
		notify();
	});
	holder.onChange(notify);
	directory.onChange(notify);

	function patientKey(patient: string): PublicKey {
		try {
			return patient.startsWith('spp') ? parseAddress(patient, 'patient') : fromHex(patient, 32);
		} catch {
			throw new AppError('patient-address', 'This is not a patient address (it starts with spp1…).');
		}
	}

	/** Peer ids from the patients' QR invitations: a first dial target before the mesh reaches them. */
	const peerHints = new Map<string, string>();

	async function reach(patient: PublicKey): Promise<string> {
		const hint = peerHints.get(bytesToHex(patient));
		if (hint && !directory.isOnline(patient)) await directory.ask(hint);
		const peer = await directory.locate(patient, 30_000);
		if (!peer)
			throw new AppError(
				'patient-offline',
				"The patient's device is not reachable: ask the patient to open SPChain on their phone."
			);
		return peer;
	}

	function track(view: PendingTransactionView): PendingTransactionView {
		pending.set(view.id, view);
		notify();
		return view;
	}

	const writer = new RecordWriter({
		node,
		net,
		holder,
		prover: options.prover,
		institution,
		clock,
		reach,
		owed: () =>
			[...pending.values()].filter((v) =>
				['awaiting-signature', 'waiting-for-pin', 'pinned'].includes(v.state)
			),
		track,
		changed: notify
	});
	const write = (
		patientText: string,
		resource: RecordResource,
		onProgress?: OnProgress,
		label?: { target: HeldRow; reason: string },
		attachments: readonly PlannedAttachment[] = []
	) => writer.write(patientKey(patientText), resource, onProgress, label, attachments);

	async function recordView(row: HeldRow): Promise<RecordView> {
		const id = row.transactionId ?? new Uint8Array(32);
		// Signed with the key in force at its round; not attached yet: the key in force now.
		const author = ledger.recordAuthorKey(id) ?? ledger.registry.signingKeyAt(institution.id, ledger.height);
		const { content } = await openRecord(
			row.sealed,
			{
				outerKey: deriveOuterKey(holder.keys.storageKey, {
					patient: row.patient,
					holder: institution.id,
					record: decodeRecordNonce(row)
				}),
				recordKey: row.recordKey
			},
			{ author }
		);
		const location = ledger.recordLocation(id);
		return {
			id: bytesToHex(id),
			institution: self,
			round: location
				? ledger.patientBlock(location.patient)!.leaves[location.leaf]!.entries[location.index]!.tx.body.round
				: ledger.height,
			at: content.authoredAt,
			status: {
				pinned: node.chain.isPinned(id),
				proofVerified: location !== undefined,
				attached: location !== undefined
			},
			resource: JSON.parse(content.resource) as Resource
		};
	}

	/** Everything a resource from the form or a correction must pass before the patient is asked. */
	async function checked(resource: unknown, onProgress?: OnProgress): Promise<RecordResource> {
		const record = parseRecord(resource);
		onProgress?.({ step: 'Checking the record against FHIR R4', fraction: 0 });
		await ensureValidResource(record);
		return record;
	}

	function preview(plan: ImportPlan): ImportPreview {
		const { summary, bytes, stored, notStored } = plan;
		const attachments = plan.attachments.map(({ owner, title, contentType, size }) => ({
			owner,
			title,
			contentType,
			size
		}));
		return { summary, bytes, maxBytes: MAX_RECORD_BYTES, stored, notStored, attachments };
	}

	/** Reads an import file for `patient`: every check, nothing sent (the plan the clinician confirms). */
	async function plan(patient: string, json: string): Promise<ImportPlan> {
		return planImport(json, addressOf(patientKey(patient), 'patient'));
	}

	/**
	 * Asks the patient's device who the patient is, a few times: a device that has just connected may be
	 * busy (or its link still settling) when the clinic adds it. The list shows the address until it answers.
	 */
	async function learnWho(patient: PublicKey, peer: string): Promise<void> {
		for (let attempt = 1; attempt <= DEMOGRAPHICS_ATTEMPTS; attempt++) {
			try {
				const told = await askDemographics(net, peer, {
					store,
					patient,
					institution: institution.id,
					secretKey: institution.secrets.signingKey
				});
				if (told) demographics.set(bytesToHex(patient), told);
				notify();
				return;
			} catch (error) {
				console.warn(`[demographics] attempt ${attempt} of ${DEMOGRAPHICS_ATTEMPTS}:`, error);
				await new Promise((resolve) => setTimeout(resolve, DEMOGRAPHICS_RETRY_MS));
			}
		}
	}

	const session: ClinicSession = {
		institution: self,
		institutions: () => ledger.registry.all.map((i) => institutionView(consortium, i.id)),
		node(): ClinicNodeView {
			const base = nodeView(node, errors, meter.sample(options.hashes?.() ?? 0));
			const reputation = chainReputations(node.chain).find((r) => r.institution === self.id)?.r ?? 0;
			const balance = (chainBalances(node.chain).get(self.id) ?? 0n).toString();
			return {
				...base,
				institution: self,
				reputation,
				balance,
				group: node.chain.group.members.map((m) => institutionView(consortium, m.id))
			};
		},
		startMining: () => node.startMining(),
		stopMining: () => node.stopMining(),
		mining: options.mining,
		patients(): PatientSeenView[] {
			const seen = new Map<string, PatientSeenView>();
			const add = (key: PublicKey) => {
				const hex = bytesToHex(key);
				if (seen.has(hex)) return;
				const block = ledger.patientBlock(key);
				const leaf = block?.leaves.find((l) => bytesToHex(l.institution) === self.id);
				seen.set(hex, {
					address: addressOf(key, 'patient'),
					publicKey: hex,
					registered: block !== undefined,
					records: leaf?.entries.length ?? 0,
					online: directory.isOnline(key),
					...demographics.get(hex)
				});
			};
			for (const hex of knownPatients) add(fromHex(hex, 32));
			for (const block of ledger.patientBlocks()) {
				const leaf = block.leaves.find((l) => bytesToHex(l.institution) === self.id);
				if (leaf && leaf.entries.length > 0) add(block.header.patient);
			}
			return [...seen.values()];
		},
		async addPatient(invitation: string): Promise<PatientSeenView> {
			const text = invitation.trim();
			const url = text.startsWith('spchain:') ? new URL(text) : undefined;
			const key = patientKey(url ? (url.searchParams.get('patient') ?? '') : text);
			const peer = url?.searchParams.get('peer');
			if (peer) {
				peerHints.set(bytesToHex(key), peer);
				void directory.ask(peer).then(notify);
				void learnWho(key, peer);
			}
			knownPatients.add(bytesToHex(key));
			await store.write([{ table: 'meta', key: `patient:${bytesToHex(key)}`, value: key }]);
			void directory.locate(key, 5000).then(notify);
			notify();
			return session.patients().find((p) => p.publicKey === bytesToHex(key))!;
		},
		writeRecord: async (patient, resource, onProgress) =>
			write(patient, await checked(resource, onProgress), onProgress),
		previewImport: async (patient, json) => preview(await plan(patient, json)),
		async importBundle(patient, json, onProgress) {
			// The whole file is one record: one request, one signature, one proof, one transaction.
			onProgress?.({ step: 'Checking the file against FHIR R4', fraction: 0 });
			const checkedPlan = await plan(patient, json);
			const pending = await write(
				patient,
				checkedPlan.record,
				onProgress,
				undefined,
				checkedPlan.attachments
			);
			return { pending, preview: preview(checkedPlan) };
		},
		async records(patient: string): Promise<RecordView[]> {
			const key = bytesToHex(patientKey(patient));
			const rows = (await holder.all()).filter((row) => bytesToHex(row.patient) === key);
			const views = await Promise.all(rows.filter((r) => r.kind === 'medical').map(recordView));
			for (const row of rows.filter((r) => r.kind === 'label' && r.target)) {
				const original = views.find((v) => v.id === bytesToHex(row.target!));
				if (!original) continue;
				const corrected = await recordView(row);
				original.label = {
					id: corrected.id,
					institution: self,
					at: corrected.at,
					reason: row.reason ?? '',
					corrected: corrected.resource
				};
			}
			return views.sort((a, b) => b.at - a.at);
		},
		async label(recordId, corrected, reason, onProgress) {
			const target = await holder.byTransaction(fromHex(recordId, 32));
			if (!target)
				throw new AppError(
					'label-author',
					'Only the institution that wrote a record can correct it, and this clinic did not write it.'
				);
			return write(addressOf(target.patient, 'patient'), await checked(corrected, onProgress), onProgress, {
				target,
				reason
			});
		},
		async correctFromFile(recordId, json, reason, onProgress) {
			// A visit is corrected as it was written: a whole file, checked like an import, as ONE label.
			const target = await holder.byTransaction(fromHex(recordId, 32));
			if (!target)
				throw new AppError(
					'label-author',
					'Only the institution that wrote a record can correct it, and this clinic did not write it.'
				);
			const corrected = await plan(addressOf(target.patient, 'patient'), json);
			return write(
				addressOf(target.patient, 'patient'),
				await checked(corrected.record, onProgress),
				onProgress,
				{ target, reason },
				corrected.attachments
			);
		},
		pending: () => [...pending.values()].sort((a, b) => b.since - a.since),
		async shared(): Promise<SharedRecordView[]> {
			// A shared correction is folded into the record it corrects (views.sharedRecordViews).
			return sharedRecordViews(consortium, await holder.sharedWithUs(), (id) => ({
				pinned: node.chain.isPinned(id),
				proofVerified: ledger.recordLocation(id) !== undefined,
				attached: ledger.recordLocation(id) !== undefined
			}));
		},
		openSharedAttachment: (recordId, url, onProgress) =>
			openSharedAttachment(
				{
					net,
					locate: (id) => directory.locate(id, 8000),
					nameOf: (id) => institutionView(consortium, id).name,
					grantee: { id: institution.id, secretKey: institution.secrets.signingKey },
					shared: () => holder.sharedWithUs(),
					clock
				},
				recordId,
				url,
				onProgress
			),
		subscribe(listener) {
			listeners.add(listener);
			return () => listeners.delete(listener);
		}
	};
	return session;
}

function decodeRecordNonce(row: HeldRow): Bytes {
	return decodeSealedRecord(row.sealed).record;
}
