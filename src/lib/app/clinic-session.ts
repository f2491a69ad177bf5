/**
 * A clinic's session (paper section 5.3, the institution's side of Upload and Label): it writes records
 * for patients (ask the patient for the record key, encrypt twice, hash with the chameleon hash and prove
 * it, have the patient sign, submit for pinning; the node then attaches the pinned record), corrects its
 * own records with the patient's consent through a chameleon collision, keeps the ciphertexts (holder.ts)
 * and shows what patients shared with it. An imported FHIR file (a whole visit) is one record, checked in
 * full before the patient is asked (records/fhir/visit.ts). Longer than our usual 450 lines because the
 * write path, its import and correction variants share one closure over the node, holder and network.
 */
import type { Resource } from '@medplum/fhirtypes';
import { bytesToHex, fromHex, type Bytes } from '../core/bytes.ts';
import { messageFromDigest } from '../core/chameleon.ts';
import { ValidationError } from '../core/errors.ts';
import { addressOf, parseAddress, type PublicKey } from '../core/identity.ts';
import { transactionId, type LabelBody, type MedicalBody, type Transaction } from '../core/transaction.ts';
import { proveCollision, proveHash } from '../crypto/chameleon-prover.ts';
import {
	ensureValidResource,
	MAX_RECORD_BYTES,
	parseRecord,
	planImport,
	summarize,
	type ImportPlan,
	type RecordResource
} from '../records/fhir.ts';
import {
	decodeSealedRecord,
	deriveOuterKey,
	openRecord,
	sealRecord,
	signRecordContent
} from '../records/envelope.ts';
import type { FullNode } from '../runtime/full-node.ts';
import { chainBalances, chainReputations } from '../runtime/chain-metrics.ts';
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
import { RECORD, SIGN, type RecordRequest } from './wire.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { call } from '../net/protocol.ts';
import type { Store } from '../store/store.ts';
import type { ChameleonProver } from '../crypto/chameleon-prover.ts';
import type { InstitutionSecrets } from '../keys/secrets.ts';
import type { MiningControl } from '../mining/control.ts';

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

export async function createClinicSession(options: ClinicSessionOptions): Promise<ClinicSession> {
	const { node, net, store, holder, directory, institution } = options;
	const clock = options.clock ?? Date.now;
	const { ledger } = node.chain;
	const { genesis } = ledger;
	const listeners = new Set<() => void>();
	const pending = new Map<string, PendingTransactionView>();
	const errors: string[] = [];
	const meter = new RateMeter();
	const notify = () => listeners.forEach((listener) => listener());
	// Founders and the institutions admitted since (a tab's own institution may be one of those).
	const consortium = { institutions: ledger.registry.all };
	const self: InstitutionView = { ...institutionView(consortium, institution.id), name: institution.name };
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

	/** Upload step (4): ask the patient's device for the record's nonce and key k_P. */
	async function askPatient(patient: PublicKey, request: RecordRequest) {
		const peer = await reach(patient);
		const reply = await call(net, peer, RECORD, request);
		if (!reply.approved) throw new AppError('patient-declined', `The patient declined: ${reply.reason}`);
		if (
			bytesToHex(reply.header.patient) !== bytesToHex(patient) ||
			bytesToHex(reply.header.holder) !== bytesToHex(institution.id)
		)
			throw new AppError('patient-reply', "The patient's device answered for another record.");
		return { peer, header: reply.header, key: reply.key };
	}

	async function requestSignature(
		peer: string,
		body: MedicalBody | LabelBody,
		sealed: Bytes
	): Promise<Transaction> {
		const reply = await call(net, peer, SIGN, { body, sealed });
		if (!reply.signed) throw new AppError('patient-declined', `The patient did not sign: ${reply.reason}`);
		return { body, signature: reply.signature } as Transaction;
	}

	/** Resolves true once `ready()` holds, re-checked on every chain change, or false after a while. */
	function chainCatchesUp(ready: () => boolean, ms = 20_000): Promise<boolean> {
		if (ready()) return Promise.resolve(true);
		return new Promise((resolve) => {
			const timer = setTimeout(() => (stop(), resolve(false)), ms);
			const stop = node.on(() => {
				if (!ready()) return;
				clearTimeout(timer);
				stop();
				resolve(true);
			});
		});
	}

	function track(view: PendingTransactionView): PendingTransactionView {
		pending.set(view.id, view);
		notify();
		return view;
	}

	async function write(
		patientText: string,
		resource: RecordResource,
		onProgress: OnProgress = () => {},
		label?: { target: HeldRow; reason: string }
	): Promise<PendingTransactionView> {
		const patient = patientKey(patientText);
		// The patient's node may have seen the registering keyblock a moment before ours did.
		if (!(await chainCatchesUp(() => ledger.patientBlock(patient) !== undefined)))
			throw new AppError('not-registered', 'This patient has not registered on the chain yet.');
		// This clinic pays the fees (core balances.ts): refuse before the patient is asked anything.
		const owed = [...pending.values()]
			.filter((v) => ['awaiting-signature', 'waiting-for-pin', 'pinned'].includes(v.state))
			.map((v) => ({ institution: institution.id, fees: genesis.fees[v.kind] }));
		try {
			node.chain.accounts.checkPayable(
				[...owed, { institution: institution.id, fees: genesis.fees[label ? 'label' : 'medical'] }],
				'this record'
			);
		} catch (error) {
			if (error instanceof ValidationError) throw new AppError(error.code, error.message);
			throw error;
		}
		const summary = summarize(resource);
		onProgress({ step: 'Waiting for the patient to accept on their device', fraction: 0.05 });
		const { peer, header, key } = await askPatient(patient, {
			kind: label ? 'label' : 'medical',
			summary,
			...(label ? { target: label.target.transactionId!, reason: label.reason } : {})
		});
		onProgress({ step: 'Encrypting the record twice', fraction: 0.15 });
		const content = signRecordContent(
			header,
			{
				resource: JSON.stringify(resource),
				authoredAt: clock(),
				...(label ? { correction: { target: label.target.transactionId!, reason: label.reason } } : {})
			},
			institution.secrets.signingKey
		);
		const { bytes, digest } = await sealRecord(header, key, holder.keys.storageKey, content);
		onProgress({ step: 'Proving the chameleon hash', fraction: 0.2 });
		const proverProgress = (p: { stage: string; done?: number; total?: number }) =>
			onProgress({
				step: 'Proving the chameleon hash',
				fraction: 0.2 + 0.6 * (p.total ? (p.done ?? 0) / p.total : p.stage === 'done' ? 1 : 0)
			});
		let chameleon;
		let r: bigint;
		if (label) {
			const originalTx = ledger
				.patientBlock(patient)!
				.leaves.flatMap((l) => l.entries)
				.find((e) => bytesToHex(transactionId(e.tx.body)) === bytesToHex(label.target.transactionId!));
			if (!originalTx) throw new AppError('label-target', 'The record to correct is not on the chain yet.');
			const collision = await proveCollision(
				options.prover(),
				{
					x: institution.secrets.trapdoor,
					X: institution.chameleonKey,
					h: originalTx.tx.body.record.chameleon.h,
					m: messageFromDigest(label.target.digest),
					r: label.target.r
				},
				messageFromDigest(digest),
				proverProgress
			);
			chameleon = collision.hash;
			r = collision.r;
		} else {
			const hashed = await proveHash(
				options.prover(),
				messageFromDigest(digest),
				institution.chameleonKey,
				proverProgress
			);
			chameleon = hashed.hash;
			r = hashed.r;
		}
		const common = {
			patient,
			institution: institution.id,
			round: ledger.height,
			record: { chameleon, pointer: { digest, holder: institution.id } }
		};
		const body: MedicalBody | LabelBody = label
			? { ...common, kind: 'label', fees: genesis.fees.label, target: label.target.transactionId! }
			: { ...common, kind: 'medical', fees: genesis.fees.medical };
		const id = transactionId(body);
		// Keep the ciphertext before anything else can fail: it is what the chain will point at.
		await holder.put({
			digest,
			patient,
			sealed: bytes,
			recordKey: key,
			r,
			kind: body.kind,
			transactionId: id,
			summary,
			createdAt: clock(),
			...(label ? { target: label.target.transactionId!, reason: label.reason } : {})
		});
		const view = track({
			id: bytesToHex(id),
			patient: addressOf(patient, 'patient'),
			kind: body.kind,
			summary,
			state: 'awaiting-signature',
			since: clock()
		});
		onProgress({ step: 'Waiting for the patient to sign', fraction: 0.85 });
		try {
			const tx = await requestSignature(peer, body, bytes);
			await node.submit(tx);
			view.state = node.chain.isPinned(id) ? 'pinned' : 'waiting-for-pin';
		} catch (error) {
			view.state = error instanceof AppError && error.code === 'patient-declined' ? 'declined' : 'failed';
			view.detail = error instanceof Error ? error.message : String(error);
			notify();
			throw error instanceof ValidationError ? new AppError(error.code, error.message) : error;
		}
		onProgress({ step: 'Submitted for pinning', fraction: 1 });
		notify();
		return view;
	}

	async function recordView(row: HeldRow): Promise<RecordView> {
		const { content } = await openRecord(row.sealed, {
			outerKey: deriveOuterKey(holder.keys.storageKey, {
				patient: row.patient,
				holder: institution.id,
				record: decodeRecordNonce(row)
			}),
			recordKey: row.recordKey
		});
		const id = row.transactionId ?? new Uint8Array(32);
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
		return { summary, bytes, maxBytes: MAX_RECORD_BYTES, stored, notStored };
	}

	/** Reads an import file for `patient`: every check, nothing sent (the plan the clinician confirms). */
	async function plan(patient: string, json: string): Promise<ImportPlan> {
		return planImport(json, addressOf(patientKey(patient), 'patient'));
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
					online: directory.isOnline(key)
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
			const pending = await write(patient, checkedPlan.record, onProgress);
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
			return session.label(recordId, corrected.record, reason, onProgress);
		},
		pending: () => [...pending.values()].sort((a, b) => b.since - a.since),
		async shared(): Promise<SharedRecordView[]> {
			// A shared correction is folded into the record it corrects (views.sharedRecordViews).
			return sharedRecordViews(genesis, await holder.sharedWithUs(), (id) => ({
				pinned: node.chain.isPinned(id),
				proofVerified: ledger.recordLocation(id) !== undefined,
				attached: ledger.recordLocation(id) !== undefined
			}));
		},
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
