/**
 * The clinic's write path (paper §5.3 Upload steps 4-6, Label step 7), one record at a time:
 *
 *   1. asks the patient's device for a new record's key: a RecordKeyGrant (records/upload.ts), checked to
 *      be for this clinic and signed by this patient;
 *   2. seals the validated resource E_M(E_P(·)) under that key, signed as author (for a label, with the
 *      corrected record and the reason in the signed content);
 *   3. hashes it with the chameleon hash and proves it (a label: a collision with the original's hash);
 *   4. sends the transaction body with an UploadReview: the sealed bytes and their outer key sealed to the
 *      patient, so the device opens and shows exactly what the pointer names; the patient signs or
 *      declines with a reason;
 *   5. keeps the ciphertext and seals and stores its attachments (app/held-attachments.ts) only once the
 *      patient signed, then submits the transaction for pinning.
 * A declined or failed record leaves nothing behind: no row, no attachment chunk, no transaction.
 */
import { bytesToHex, equalBytes, type Bytes } from '../../core/bytes.ts';
import { messageFromDigest } from '../../core/chameleon.ts';
import { ValidationError } from '../../core/errors.ts';
import { addressOf, type PublicKey } from '../../core/identity.ts';
import { transactionId, type LabelBody, type MedicalBody, type Transaction } from '../../core/transaction.ts';
import { proveCollision, proveHash, type ChameleonProver } from '../../crypto/chameleon-prover.ts';
import type { InstitutionSecrets } from '../../keys/secrets.ts';
import { call, type Requester } from '../../net/protocol.ts';
import { formatBytes, summarize, type PlannedAttachment, type RecordResource } from '../../records/fhir.ts';
import { acceptRecordKey, reviewUpload, sealResource } from '../../records/upload.ts';
import type { ChainState } from '../../runtime/chain-state.ts';
import type { FullNode } from '../../runtime/full-node.ts';
import type { Holder, HeldRow } from '../holder.ts';
import { AppError, type OnProgress, type PendingTransactionView } from '../types.ts';
import { RECORD_KEY, SIGN } from '../wire.ts';

/** What writing needs of the full node: the chain it reads, submitting, and chain events. */
export type WriterNode = Pick<FullNode, 'submit' | 'on'> & {
	chain: Pick<ChainState, 'ledger' | 'accounts' | 'isPinned'>;
};

export interface RecordWriterOptions {
	node: WriterNode;
	/** Requests to the patient's device (the record key, the signature). */
	net: Requester;
	holder: Holder;
	prover: () => ChameleonProver;
	institution: { id: PublicKey; chameleonKey: Bytes; secrets: InstitutionSecrets };
	clock: () => number;
	/** The patient's device's peer, or an AppError saying to open SPChain on the phone. */
	reach(patient: PublicKey): Promise<string>;
	/** Transactions this clinic wrote that still owe fees (not pinned, declined or failed yet). */
	owed(): PendingTransactionView[];
	/** Shows a transaction on the clinic's screen; its state is updated in place. */
	track(view: PendingTransactionView): PendingTransactionView;
	changed(): void;
}

export class RecordWriter {
	constructor(private readonly options: RecordWriterOptions) {}

	async write(
		patient: PublicKey,
		resource: RecordResource,
		onProgress: OnProgress = () => {},
		label?: { target: HeldRow; reason: string },
		attachments: readonly PlannedAttachment[] = []
	): Promise<PendingTransactionView> {
		const { node, net, holder, institution, clock } = this.options;
		const { ledger } = node.chain;
		const { genesis } = ledger;
		// The patient's node may have seen the registering keyblock a moment before ours did.
		if (!(await this.chainCatchesUp(() => ledger.patientBlock(patient) !== undefined)))
			throw new AppError('not-registered', 'This patient has not registered on the chain yet.');
		const kind = label ? 'label' : 'medical';
		// This clinic pays the fees (core balances.ts): refuse before the patient is asked anything.
		const owed = this.options
			.owed()
			.map((v) => ({ institution: institution.id, fees: genesis.fees[v.kind] }));
		appErrors(() =>
			node.chain.accounts.checkPayable(
				[...owed, { institution: institution.id, fees: genesis.fees[kind] }],
				'this record'
			)
		);
		const summary = summarize(resource);
		onProgress({ step: "Asking the patient's device for the record's key", fraction: 0.05 });
		const peer = await this.options.reach(patient);
		const grant = await call(net, peer, RECORD_KEY, null);
		if (!equalBytes(grant.header.patient, patient))
			throw new AppError('patient-reply', "The patient's device answered for another patient.");
		const { header, key } = await appErrors(() =>
			acceptRecordKey(grant, { id: institution.id, secretKey: institution.secrets.signingKey })
		);
		onProgress({ step: 'Encrypting the record twice', fraction: 0.15 });
		const correction = label && { target: label.target.transactionId!, reason: label.reason };
		// Content is signed with the key in force now (a key rotation changes it, docs/consortium.md).
		const { signingKey, rotatedSigningKeys = [] } = institution.secrets;
		const held = [signingKey, ...rotatedSigningKeys];
		const author = ledger.registry.secretInForce(institution.id, held, ledger.height);
		const { bytes, digest } = await appErrors(() =>
			sealResource({
				resource,
				header,
				recordKey: key,
				holder: holder.keys,
				now: clock(),
				correction,
				author
			})
		);
		onProgress({ step: 'Proving the chameleon hash', fraction: 0.2 });
		const { hash: chameleon, r } = await this.prove(patient, digest, label?.target, onProgress);
		// The round is fixed after proving (which takes a while); readers check the content with the key
		// of that round, so a rotation that came into force meanwhile means writing it again.
		const round = ledger.height;
		if (!equalBytes(ledger.registry.secretInForce(institution.id, held, round), author))
			throw new AppError(
				'key-rotated',
				'This clinic’s signing key changed while writing; write the record again.'
			);
		const common = {
			patient,
			institution: institution.id,
			round,
			record: { chameleon, pointer: { digest, holder: institution.id } }
		};
		const body: MedicalBody | LabelBody = label
			? { ...common, kind: 'label', fees: genesis.fees.label, target: label.target.transactionId! }
			: { ...common, kind: 'medical', fees: genesis.fees.medical };
		const id = transactionId(body);
		const review = await reviewUpload(bytes, holder.keys);
		const view = this.options.track({
			id: bytesToHex(id),
			patient: addressOf(patient, 'patient'),
			kind,
			summary,
			state: 'awaiting-signature',
			since: clock()
		});
		onProgress({ step: 'Waiting for the patient to read the record and sign it', fraction: 0.85 });
		try {
			// Proving takes a while and the connection the key came over may have closed meanwhile: the
			// request layer then dials again (and, SIGN not being idempotent, never sends it twice).
			const reply = await call(net, peer, SIGN, { body, review });
			if (!reply.signed) throw new AppError('patient-declined', `The patient declined: ${reply.reason}`);
			// Kept once signed (a declined record leaves nothing), before the transaction can be pinned;
			// the record names its attachments by hash, so they are sealed and stored only now.
			for (const a of attachments) {
				onProgress({ step: `Encrypting and storing "${a.title}" (${formatBytes(a.size)})`, fraction: 0.9 });
				await holder.attachments.put(header, key, a.hash, a.content);
			}
			await holder.put({
				digest,
				patient,
				sealed: bytes,
				recordKey: key,
				r,
				kind,
				transactionId: id,
				summary,
				createdAt: clock(),
				...(label ? { target: label.target.transactionId!, reason: label.reason } : {})
			});
			await node.submit({ body, signature: reply.signature } as Transaction);
			view.state = node.chain.isPinned(id) ? 'pinned' : 'waiting-for-pin';
		} catch (error) {
			// Attachments stored before a failure that kept no record would be served to nobody: delete them.
			if (!(await holder.get(digest)))
				for (const a of attachments) await holder.attachments.remove(header, a.hash).catch(() => undefined);
			view.state = error instanceof AppError && error.code === 'patient-declined' ? 'declined' : 'failed';
			view.detail = error instanceof Error ? error.message : String(error);
			this.options.changed();
			throw error instanceof ValidationError ? new AppError(error.code, error.message) : error;
		}
		onProgress({ step: 'Submitted for pinning', fraction: 1 });
		this.options.changed();
		return view;
	}

	/** The chameleon hash of a new record, or for a label a collision with the original's hash. */
	private async prove(
		patient: PublicKey,
		digest: Bytes,
		target: HeldRow | undefined,
		onProgress: OnProgress
	) {
		const { node, institution } = this.options;
		const progress = (p: { stage: string; done?: number; total?: number }) =>
			onProgress({
				step: 'Proving the chameleon hash',
				fraction: 0.2 + 0.6 * (p.total ? (p.done ?? 0) / p.total : p.stage === 'done' ? 1 : 0)
			});
		if (!target)
			return proveHash(this.options.prover(), messageFromDigest(digest), institution.chameleonKey, progress);
		const original = node.chain.ledger
			.patientBlock(patient)!
			.leaves.flatMap((l) => l.entries)
			.find((e) => equalBytes(transactionId(e.tx.body), target.transactionId!));
		if (!original) throw new AppError('label-target', 'The record to correct is not on the chain yet.');
		return proveCollision(
			this.options.prover(),
			{
				x: institution.secrets.trapdoor,
				X: institution.chameleonKey,
				h: original.tx.body.record.chameleon.h,
				m: messageFromDigest(target.digest),
				r: target.r
			},
			messageFromDigest(digest),
			progress
		);
	}

	/** Resolves true once `ready()` holds, re-checked on every chain change, or false after a while. */
	private chainCatchesUp(ready: () => boolean, ms = 20_000): Promise<boolean> {
		if (ready()) return Promise.resolve(true);
		return new Promise((resolve) => {
			const timer = setTimeout(() => (stop(), resolve(false)), ms);
			const stop = this.options.node.on(() => {
				if (!ready()) return;
				clearTimeout(timer);
				stop();
				resolve(true);
			});
		});
	}
}

/** Runs `work`, passing a ValidationError on as an AppError with the same code and sentence. */
function appErrors<T>(work: () => T): T {
	try {
		const result = work();
		if (result instanceof Promise)
			return result.catch((error: unknown) => {
				throw error instanceof ValidationError ? new AppError(error.code, error.message) : error;
			}) as T;
		return result;
	} catch (error) {
		throw error instanceof ValidationError ? new AppError(error.code, error.message) : error;
	}
}
