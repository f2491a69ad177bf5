/**
 * The patient's signing desk (paper §5.3, Upload steps 4-6 and Label step 7, the patient's side):
 *
 * - a clinic asks for a new record's key: the desk answers with a RecordKeyGrant (records/upload.ts), the
 *   key of one record sealed to that clinic and signed; nothing is signed for the chain by this;
 * - the clinic sends the transaction body with an UploadReview: the desk opens those sealed bytes with the
 *   patient's own keys, checks that the transaction points at exactly them (its digest is computed here,
 *   from the bytes that were decrypted), and queues the record for the patient to read;
 * - the patient approves (the device signs that body and keeps the record it showed) or declines with a
 *   reason (the clinic is told the reason; it has nothing signed to pin).
 *
 * The network and the history are the caller's: it hands in requests from a known institution, and the
 * desk asks `original` for the record a label corrects, so the patient sees both side by side.
 */
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex, equalBytes, type Bytes } from '../../core/bytes.ts';
import type { GenesisConfig } from '../../core/genesis.ts';
import type { PublicKey } from '../../core/identity.ts';
import { signTransaction, transactionId, type RecordBody } from '../../core/transaction.ts';
import { MAX_REASON_LENGTH } from '../../records/envelope.ts';
import { summarize, type RecordResource } from '../../records/fhir.ts';
import { grantRecordKey, openUploadReview, type RecordKeyGrant } from '../../records/upload.ts';
import { AppError, type SigningRequestView } from '../types.ts';
import { institutionView, type Consortium } from '../views.ts';
import { PATIENT_ANSWER_MS, type SignReply, type SignRequest } from '../wire.ts';
import type { OpenedRecord } from './record-cache.ts';

export interface SigningDeskOptions {
	patient: { publicKey: PublicKey; secretKey: Bytes };
	masterKey: Bytes;
	/** The fees, and the institutions (founders and admitted ones) a request may come from. */
	genesis: Consortium & Pick<GenesisConfig, 'fees'>;
	clock: () => number;
	/** The record a label corrects, as this device opens it (its copy, or from the holder). */
	original(target: Bytes): Promise<OpenedRecord>;
	/** Keeps the record the patient signed for (before the signature leaves the device). */
	keep(id: Bytes, record: OpenedRecord): Promise<void>;
	/** Something changed that a screen shows. */
	changed(): void;
	/** The holder's signing key at a round (it may have rotated its key); default: its id. */
	authorKey?: (holder: PublicKey, round: number) => PublicKey | undefined;
}

interface Waiting {
	view: SigningRequestView;
	body: RecordBody;
	record: OpenedRecord;
	answer(reply: SignReply): void;
}

export class SigningDesk {
	private readonly waiting = new Map<string, Waiting>();

	constructor(private readonly options: SigningDeskOptions) {}

	/** A new record's key for `institution` (asked by that institution's own peer, checked by the caller). */
	grant(institution: PublicKey): Promise<RecordKeyGrant> {
		return grantRecordKey(this.options.masterKey, this.options.patient, institution);
	}

	/**
	 * A signing request from `institution`: refused at once when the record does not open or the body is not
	 * the one for it; otherwise answered when the patient decides.
	 */
	async receive(request: SignRequest, institution: PublicKey): Promise<SignReply> {
		const { patient, masterKey, genesis, clock } = this.options;
		const { body } = request;
		let reviewed;
		try {
			reviewed = await openUploadReview(request.review, {
				patient,
				masterKey,
				holder: institution,
				author: this.options.authorKey?.(institution, body.round)
			});
		} catch (error) {
			return refuse(`The record does not open on the patient's device (${(error as Error).message}).`);
		}
		const correction = reviewed.content.correction;
		const problems: [boolean, string][] = [
			[equalBytes(body.patient, patient.publicKey), 'The transaction is for another patient.'],
			[
				equalBytes(body.institution, institution),
				'The transaction names another institution than the one asking.'
			],
			[
				equalBytes(body.record.pointer.holder, institution),
				'The record would be held by another institution.'
			],
			[
				equalBytes(body.record.pointer.digest, reviewed.digest),
				'The transaction points at other bytes than the record sent for review.'
			],
			[
				JSON.stringify(body.fees) === JSON.stringify(genesis.fees[body.kind]),
				'The fees are not the consortium fees.'
			],
			[body.kind === 'label' || !correction, 'A new record must not carry a correction.'],
			[
				body.kind !== 'label' || (correction !== undefined && equalBytes(correction.target, body.target)),
				'The corrected record names another record than the label transaction.'
			]
		];
		const failed = problems.find(([ok]) => !ok);
		if (failed) return refuse(failed[1]);
		const view: SigningRequestView = {
			id: bytesToHex(randomBytes(8)),
			kind: body.kind,
			institution: institutionView(genesis, institution),
			summary: summarize(reviewed.resource),
			record: reviewed.resource,
			receivedAt: clock()
		};
		if (body.kind === 'label') {
			view.target = bytesToHex(body.target);
			view.reason = correction!.reason;
			try {
				view.original = JSON.parse(
					(await this.options.original(body.target)).content.resource
				) as RecordResource;
			} catch (error) {
				return refuse(
					`The patient's device cannot open the record to be corrected (${(error as Error).message}).`
				);
			}
		}
		const record = { header: reviewed.header, content: reviewed.content };
		return new Promise<SignReply>((answer) => {
			this.waiting.set(view.id, { view, body, record, answer });
			this.options.changed();
		});
	}

	/** Requests waiting for the patient; one the clinic stopped waiting for is dropped. */
	requests(): SigningRequestView[] {
		const now = this.options.clock();
		for (const [id, w] of this.waiting)
			if (now - w.view.receivedAt > PATIENT_ANSWER_MS) {
				this.waiting.delete(id);
				w.answer(refuse('The patient did not answer in time.'));
			}
		return [...this.waiting.values()].map((w) => w.view);
	}

	/** Signs the transaction of the record shown, keeps the record, and sends the signature. */
	async approve(id: string): Promise<void> {
		const entry = this.take(id);
		const tx = signTransaction(entry.body, this.options.patient.secretKey);
		await this.options.keep(transactionId(entry.body), entry.record);
		entry.answer({ signed: true, signature: tx.signature });
	}

	/** Declines: the clinic is told why, and nothing is signed. */
	async decline(id: string, reason: string): Promise<void> {
		const text = reason.trim();
		if (!text)
			throw new AppError(
				'decline-reason',
				'Say in a few words why you decline, so the clinic knows what to change.'
			);
		if (text.length > MAX_REASON_LENGTH)
			throw new AppError('decline-reason', `Keep the reason under ${MAX_REASON_LENGTH} characters.`);
		this.take(id).answer({ signed: false, reason: text });
	}

	private take(id: string): Waiting {
		this.requests(); // drops what expired
		const entry = this.waiting.get(id);
		if (!entry) throw new AppError('request-gone', 'This request is no longer waiting (the clinic gave up).');
		this.waiting.delete(id);
		this.options.changed();
		return entry;
	}
}

/** A refusal the clinic shows (the wire takes reasons up to MAX_REASON_LENGTH characters). */
function refuse(reason: string): SignReply {
	return { signed: false, reason: reason.slice(0, MAX_REASON_LENGTH) };
}
