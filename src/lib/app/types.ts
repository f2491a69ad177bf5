/**
 * What the screens see of the application: a patient session and a clinic session, each over a full
 * node. The pages depend only on these interfaces (the implementations live beside them), so a page
 * never reaches into the node, the store or the network directly.
 *
 * Everything long-running reports progress through `Progress`; every failure is an `AppError` whose
 * message is a sentence a patient or clinician can act on.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { MiningControl } from '../mining/control.ts';
import type { AppCode } from '../core/error-codes.ts';

/** Kinds of FHIR resources a clinic writes (see records/fhir.ts). */
export type RecordKind = 'Encounter' | 'Observation' | 'Condition' | 'DiagnosticReport' | 'MedicationRequest';

export interface Progress {
	/** Short present-tense step, e.g. 'Encrypting', 'Proving the chameleon hash', 'Waiting for the pin'. */
	step: string;
	/** 0..1 when known. */
	fraction?: number;
}
export type OnProgress = (progress: Progress) => void;

export class AppError extends Error {
	override readonly name = 'AppError';
	constructor(
		/** Stable code (core/error-codes.ts), e.g. 'not-registered', 'patient-declined'. */
		readonly code: AppCode,
		message: string
	) {
		super(message);
	}
}

export interface NodeView {
	peerId: string;
	peers: number;
	height: number;
	batches: number;
	patients: number;
	mempool: number;
	member: boolean;
	mining: boolean;
	/** Hashes per second over the last few seconds (0 when not mining). */
	hashRate: number;
	/** A sync in progress: facts the peer announced (total), received so far, new ones applied. */
	sync: { total: number; received: number; applied: number; height: number } | null;
	/**
	 * A full node's chain: verified in full, certified only (`verified` of `total` facts verified so far,
	 * the rest in the background) or invalid (`invalid` says which fact and who certified it).
	 */
	verification?: {
		state: 'verified' | 'certified' | 'invalid';
		verified: number;
		total: number;
		invalid?: string;
	};
	/** Gossip messages this node rejected as invalid, and peers it banned for sending them. */
	rejected: number;
	banned: number;
	/** Last error sentences, newest first. */
	errors: string[];
	/**
	 * A light client (a patient's phone) says what it holds instead of a chain: pinned keyblock headers,
	 * hand-overs, batch headers, its own verified records, and the bytes it keeps of them.
	 */
	light?: { keyblocks: number; handovers: number; batches: number; records: number; storedBytes: number };
}

export interface InstitutionView {
	id: string; // hex
	address: string; // spi1…
	name: string;
}

/** Verification status of one record as the patient's own node sees it. */
export interface RecordStatus {
	pinned: boolean;
	/** The chameleon proof and the leaf proof verified by this node. */
	proofVerified: boolean;
	attached: boolean;
}

export interface LabelView {
	/** Transaction id of the label. */
	id: string;
	institution: InstitutionView;
	at: number; // ms (time of the keyblock round it was made for)
	reason: string;
}

export interface RecordView {
	/** Transaction id (hex) of the medical transaction. */
	id: string;
	institution: InstitutionView;
	round: number;
	at: number;
	status: RecordStatus;
	/** Decrypted content, when this device could fetch and decrypt it. */
	resource?: Resource;
	/** Why the content is not shown ('encrypted', 'holder offline', …). */
	unavailable?: string;
	/** Set when the record was corrected: the original stays, marked as labelled. */
	label?: LabelView & { corrected?: Resource };
}

export interface ConsentView {
	id: string;
	grantee: InstitutionView;
	/** 'all' or record ids. */
	scope: 'all' | string[];
	purpose: string;
	issuedAt: number;
	expiresAt: number;
	revoked: boolean;
	/** The institution has not acknowledged the shared records yet (it was unreachable or refused). */
	pending: boolean;
	/** Institutions a revocation of this consent has not reached yet (it is sent again when they are online). */
	revocationNotDelivered: InstitutionView[];
}

export interface AccessLogView {
	at: number;
	holder: InstitutionView;
	recordId: string;
	/** 'patient' or the consent id under which the access happened. */
	authority: string;
	requester: string;
	/** SHA-256 (hex) of the attachment read, when a document of the record was fetched rather than the record. */
	attachment?: string;
	/** The holder could not be reached: the entry is from the copy this device kept. */
	fromCopy?: boolean;
}

/**
 * A clinic asks the patient to sign the transaction of a record it sealed (upload or label). The device
 * opened the sealed bytes the transaction points at: what is shown is exactly what would be signed.
 */
export interface SigningRequestView {
	id: string;
	kind: 'medical' | 'label';
	institution: InstitutionView;
	/** One line for the record, made on this device from the decrypted record. */
	summary: string;
	/** The record as the clinic sealed it, decrypted on this device. */
	record: Resource;
	/** For a label: the transaction id of the record corrected, that record as this device opened it, and
	 * the reason the correction carries under the clinic's signature. */
	target?: string;
	original?: Resource;
	reason?: string;
	receivedAt: number;
}

export interface PatientSession {
	readonly address: string; // spp1…
	readonly publicKey: string; // hex
	/** Text for a QR code a clinic scans to reach this patient (address and current peer id). */
	invitation(): string;
	/** Institutions of the consortium (to register at, or share with). */
	institutions(): InstitutionView[];
	node(): NodeView;
	registered(): boolean;
	/**
	 * Where the registration is on the chain: its keyblock height, and the institution it went through
	 * when this device knows it (a phone that sent it; a restored one holds no keyblock's registers).
	 */
	registration(): { height: number; institution?: InstitutionView } | undefined;
	register(
		/** tellClinics: whether clinics that add the patient may learn name and birth date (app/demographics.ts). */
		details: { name: string; birthDate: string; institution: string; tellClinics?: boolean },
		onProgress?: OnProgress
	): Promise<void>;
	history(): Promise<RecordView[]>;
	signingRequests(): SigningRequestView[];
	approve(requestId: string): Promise<void>;
	/** Declines with the reason the clinic is shown; nothing is signed, the clinic pins nothing. */
	decline(requestId: string, reason: string): Promise<void>;
	consents(): Promise<ConsentView[]>;
	share(
		options: { institution: string; scope: 'all' | string[]; purpose: string; days: number },
		onProgress?: OnProgress
	): Promise<ConsentView>;
	revoke(consentId: string): Promise<void>;
	accessLog(): Promise<AccessLogView[]>;
	/**
	 * An attachment a record keeps beside it (its `urn:spchain:attachment:` url), fetched from the holder
	 * only now, checked part by part and against the signed record; a Blob of its content type.
	 */
	openAttachment(recordId: string, url: string, onProgress?: OnProgress): Promise<Blob>;
	/** The whole history as a FHIR Bundle (JSON text). */
	exportBundle(): Promise<string>;
	backup(passphrase: string): Promise<Blob>;
	/** Subscribes to any change (new block, record, request); returns the unsubscribe function. */
	subscribe(listener: () => void): () => void;
}

export interface PatientSeenView {
	address: string;
	publicKey: string;
	registered: boolean;
	records: number;
	online: boolean;
	/** Who the patient is, when the patient's device told this clinic (app/demographics.ts). */
	name?: string;
	birthDate?: string;
}

export interface PendingTransactionView {
	id: string;
	patient: string;
	kind: 'medical' | 'label';
	summary: string;
	state: 'awaiting-signature' | 'waiting-for-pin' | 'pinned' | 'attached' | 'declined' | 'failed';
	detail?: string;
	since: number;
}

export interface SharedRecordView {
	consentId: string;
	patient: string;
	record: RecordView;
}

/** What an import stores as one record, and what it leaves out and why (resources named in words). */
export interface ImportPreview {
	/** The line the patient's signing request shows. */
	summary: string;
	/** Size of the record, and the most a record may be. */
	bytes: number;
	maxBytes: number;
	stored: { name: string; resourceType: string }[];
	notStored: { name: string; resourceType: string; reason: string }[];
	/** Attachments kept beside the record (each at most MAX_ATTACHMENT_BYTES), with their sizes. */
	attachments: { owner: string; title: string; contentType: string; size: number }[];
}

export interface ClinicNodeView extends NodeView {
	institution: InstitutionView;
	reputation: number;
	balance: string;
	/** Members of the consensus group (names), and whether this clinic is one. */
	group: InstitutionView[];
}

export interface ClinicSession {
	readonly institution: InstitutionView;
	/** Institutions of the consortium. */
	institutions(): InstitutionView[];
	node(): ClinicNodeView;
	startMining(): void;
	stopMining(): void;
	/** Worker count and pause of this tab's miners. */
	readonly mining?: MiningControl;
	patients(): PatientSeenView[];
	/** Adds a patient by the text of their QR invitation or their spp1… address. */
	addPatient(invitation: string): Promise<PatientSeenView>;
	/** Writes a record: encrypt, prove, ask the patient to sign, submit; resolves once submitted. */
	writeRecord(patient: string, resource: Resource, onProgress?: OnProgress): Promise<PendingTransactionView>;
	/** Checks an import file (FHIR JSON text) for the patient and says what would be stored: sends nothing. */
	previewImport(patient: string, json: string): Promise<ImportPreview>;
	/** Imports a FHIR file (a visit Bundle or one resource) as ONE record for the patient (records/fhir/visit.ts). */
	importBundle(
		patient: string,
		json: string,
		onProgress?: OnProgress
	): Promise<{ pending: PendingTransactionView; preview: ImportPreview }>;
	/** Records this clinic wrote for the patient, decrypted (the clinic holds its own layer and the record key). */
	records(patient: string): Promise<RecordView[]>;
	/** Corrects one of this clinic's records with the patient's signed consent. */
	label(
		recordId: string,
		corrected: Resource,
		reason: string,
		onProgress?: OnProgress
	): Promise<PendingTransactionView>;
	/** Corrects one of this clinic's records (an imported visit) with a corrected FHIR file, as one label. */
	correctFromFile(
		recordId: string,
		json: string,
		reason: string,
		onProgress?: OnProgress
	): Promise<PendingTransactionView>;
	pending(): PendingTransactionView[];
	/** Records patients shared with this clinic (decrypted for it alone). */
	shared(): Promise<SharedRecordView[]>;
	/**
	 * An attachment of a record shared with this clinic (its `urn:spchain:attachment:` url), fetched from
	 * the clinic holding it under the patient's consent; a Blob of its content type.
	 */
	openSharedAttachment(recordId: string, url: string, onProgress?: OnProgress): Promise<Blob>;
	subscribe(listener: () => void): () => void;
}

export interface KeyblockView {
	height: number;
	hash: string;
	miner: InstitutionView;
	timestamp: number;
	registers: number;
	pinned: boolean;
	/** Signers of the pin certificate. */
	pinSigners: number;
}

export interface PatientBlockView {
	patient: string; // spp1… address
	hash: string;
	round: number;
	/** Entries per institution leaf; the contents are ciphertext hashes only. */
	leaves: { institution: InstitutionView; entries: number; labelled: number }[];
}

export interface ReputationView {
	institution: InstitutionView;
	r1: number;
	r2: number;
	r: number;
	member: boolean;
	balance: string;
}

/** Read-only chain views for the explorer (any node, any visitor). */
export interface ExplorerSession {
	node(): NodeView;
	keyblocks(options?: { before?: number; limit?: number }): KeyblockView[];
	patientBlocks(options?: { limit?: number }): PatientBlockView[];
	reputation(): ReputationView[];
	/** The genesis curve's parameters and f(0): what an honest institution with no activity starts at. */
	reputationCurve(): { a: number; lambda: number; floor: number };
	/** R of each institution after each chunk of keyblocks, for the chart. */
	reputationHistory(): { height: number; values: { institution: string; r: number }[] }[];
	peers(): { id: string; direct: boolean; label?: string }[];
	subscribe(listener: () => void): () => void;
}
