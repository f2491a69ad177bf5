/**
 * Transactions (paper §5.1.1, Fig. 3): the triplet (Type, Data, sig_P), always signed by the patient.
 *
 *   Register  (Register, H(ID||Age||…), sig_P)               → packed into a keyblock
 *   Medical   (Medical, CH(E_M(E_P(EMR))) || π || Pointer, sig_P)  → attached to the patient's block
 *   Label     (Label, Hash_T_M, CH(E_M(E_P(EMR'))) || π' || Pointer, sig_P)
 *
 * Every transaction also names its sender (the patient), the institution it is sent to, the round
 * (keyblock height) it was made for (so the consensus group can shard by round), and the fixed service and
 * transaction fees of §6.2.2. The transaction id is the tagged hash of the canonical body; the patient's
 * BIP-340 signature signs that id. The signature is not part of the id, so re-signing changes nothing.
 *
 * The chameleon hash of a record is over the double ciphertext: its message m is derived from
 * SHA-256(ciphertext), which is also the record's content address in the Pointer, so a verifier gets m
 * from the transaction and a tampered ciphertext no longer matches. A Label keeps the target's chameleon
 * hash value h and carries a fresh proof π' for the corrected ciphertext: only the trapdoor holder (the
 * institution that wrote the record) can make one, and the patient block's hash never changes.
 */
import { equalBytes, type Bytes } from './bytes.ts';
import type { ChameleonHash, ChameleonStatement } from './chameleon.ts';
import { encodeCanonical, decodeCanonical, type Canonical } from './encoding.ts';
import { ensure, ValidationError } from './errors.ts';
import { HASH_LENGTH, taggedHash } from './hash.ts';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, sign, verifySignature, type PublicKey } from './identity.ts';
import * as read from './schema.ts';

export const TRANSACTION_KINDS = ['register', 'medical', 'label'] as const;
export type TransactionKind = (typeof TRANSACTION_KINDS)[number];

/** Chameleon hash value (compressed Baby Jubjub point) and Groth16 proof sizes on the wire. */
export const CHAMELEON_HASH_LENGTH = 32;
export const MAX_PROOF_LENGTH = 256;
/** Upper bound of one encoded transaction; anything larger is rejected before parsing. */
export const MAX_TRANSACTION_BYTES = 2048;

/** §6.2.2: every transaction carries a fixed service fee (to the institution) and transaction fee (to the verifiers). */
export interface Fees {
	service: number;
	transaction: number;
}

/** Where the double-encrypted record lives: its content address and the institution that holds it. */
export interface Pointer {
	/** SHA-256 of the ciphertext E_M(E_P(EMR)). */
	digest: Bytes;
	/** Id of the institution storing the ciphertext (always the author, who holds the trapdoor). */
	holder: PublicKey;
}

/** CH(E_M(E_P(EMR))) || π || Pointer. */
export interface RecordCommitment {
	chameleon: ChameleonHash;
	pointer: Pointer;
}

interface BodyCommon {
	/** Sender: the patient's public key. */
	patient: PublicKey;
	/** The institution the transaction is sent to (receiptor in Algorithm 1). */
	institution: PublicKey;
	/** Keyblock height the transaction was made for. */
	round: number;
	fees: Fees;
}

export interface RegisterBody extends BodyCommon {
	kind: 'register';
	/** H(ID||Age||…): a salted commitment to the patient's identity data; the data itself stays private. */
	identity: Bytes;
}

export interface MedicalBody extends BodyCommon {
	kind: 'medical';
	record: RecordCommitment;
}

export interface LabelBody extends BodyCommon {
	kind: 'label';
	/** Hash_T_M: id of the transaction whose record this one corrects. */
	target: Bytes;
	record: RecordCommitment;
}

export type TransactionBody = RegisterBody | MedicalBody | LabelBody;
export type RecordBody = MedicalBody | LabelBody;

export interface Transaction<B extends TransactionBody = TransactionBody> {
	body: B;
	signature: Bytes;
}

// ---------------------------------------------------------------- encoding

export function bodyToCanonical(body: TransactionBody): { [key: string]: Canonical } {
	const common = {
		kind: body.kind,
		patient: body.patient,
		institution: body.institution,
		round: body.round,
		fees: { service: body.fees.service, transaction: body.fees.transaction }
	};
	const record = (r: RecordCommitment) => ({
		chameleon: { h: r.chameleon.h, proof: r.chameleon.proof },
		pointer: { digest: r.pointer.digest, holder: r.pointer.holder }
	});
	switch (body.kind) {
		case 'register':
			return { ...common, identity: body.identity };
		case 'medical':
			return { ...common, record: record(body.record) };
		case 'label':
			return { ...common, target: body.target, record: record(body.record) };
	}
}

export function transactionToCanonical(tx: Transaction): { [key: string]: Canonical } {
	return { body: bodyToCanonical(tx.body), signature: tx.signature };
}

export function encodeTransaction(tx: Transaction): Bytes {
	return encodeCanonical(transactionToCanonical(tx));
}

function readRecord(value: unknown, where: string): RecordCommitment {
	const o = read.object(value, where, ['chameleon', 'pointer']);
	const ch = read.object(o.chameleon, `${where}.chameleon`, ['h', 'proof']);
	const pointer = read.object(o.pointer, `${where}.pointer`, ['digest', 'holder']);
	return {
		chameleon: {
			h: read.bytes(ch.h, `${where}.chameleon.h`, CHAMELEON_HASH_LENGTH),
			// Exactly a Groth16 proof's size (chameleon.ts decodes it); a shorter one is malformed on the wire.
			proof: read.bytes(ch.proof, `${where}.chameleon.proof`, {
				min: MAX_PROOF_LENGTH,
				max: MAX_PROOF_LENGTH
			})
		},
		pointer: {
			digest: read.bytes(pointer.digest, `${where}.pointer.digest`, HASH_LENGTH),
			holder: read.bytes(pointer.holder, `${where}.pointer.holder`, PUBLIC_KEY_LENGTH)
		}
	};
}

export function readTransactionBody(value: unknown, where = 'transaction.body'): TransactionBody {
	const common = ['kind', 'patient', 'institution', 'round', 'fees'] as const;
	const kind = read.oneOf((value as { kind?: unknown } | null)?.kind, `${where}.kind`, TRANSACTION_KINDS);
	const extra = { register: ['identity'], medical: ['record'], label: ['target', 'record'] }[kind];
	const o = read.object(value, where, [...common, ...extra]);
	const fees = read.object(o.fees, `${where}.fees`, ['service', 'transaction']);
	const base = {
		patient: read.bytes(o.patient, `${where}.patient`, PUBLIC_KEY_LENGTH),
		institution: read.bytes(o.institution, `${where}.institution`, PUBLIC_KEY_LENGTH),
		round: read.uint(o.round, `${where}.round`, 2 ** 32 - 1),
		fees: {
			service: read.uint(fees.service, `${where}.fees.service`),
			transaction: read.uint(fees.transaction, `${where}.fees.transaction`)
		}
	};
	switch (kind) {
		case 'register':
			return { kind, ...base, identity: read.bytes(o.identity, `${where}.identity`, HASH_LENGTH) };
		case 'medical':
			return { kind, ...base, record: readRecord(o.record, `${where}.record`) };
		case 'label':
			return {
				kind,
				...base,
				target: read.bytes(o.target, `${where}.target`, HASH_LENGTH),
				record: readRecord(o.record, `${where}.record`)
			};
	}
}

export function readTransaction(value: unknown, where = 'transaction'): Transaction {
	const o = read.object(value, where, ['body', 'signature']);
	return {
		body: readTransactionBody(o.body, `${where}.body`),
		signature: read.bytes(o.signature, `${where}.signature`, SIGNATURE_LENGTH)
	};
}

/** Decodes untrusted bytes into a structurally valid transaction (signature not yet checked). */
export function decodeTransaction(bytes: Bytes): Transaction {
	return readTransaction(decodeCanonical(bytes, MAX_TRANSACTION_BYTES));
}

// ---------------------------------------------------------------- identity and signature

/** Hash_T: the transaction id, over the canonical body only. */
export function transactionId(body: TransactionBody): Bytes {
	return taggedHash('spchain/transaction', encodeCanonical(bodyToCanonical(body)));
}

export function signTransaction<B extends TransactionBody>(body: B, patientSecretKey: Bytes): Transaction<B> {
	return { body, signature: sign(patientSecretKey, transactionId(body)) };
}

// ---------------------------------------------------------------- stateless rules

/** Fixed fees per kind (§6.2.2), set in genesis. */
export type FeeSchedule = Record<TransactionKind, Fees>;

/**
 * Rules that need nothing but the transaction and the fee schedule: the patient's signature, the fixed
 * fees, and that a record's ciphertext is held by the institution that wrote it. Throws ValidationError.
 * The chameleon proof is checked separately (batched) through `chameleonStatement`.
 */
export function checkTransaction(tx: Transaction, fees: FeeSchedule): void {
	const { body } = tx;
	const expected = fees[body.kind];
	ensure(
		body.fees.service === expected.service && body.fees.transaction === expected.transaction,
		'tx-fee',
		`a ${body.kind} transaction must carry a service fee of ${expected.service} and a transaction fee of ${expected.transaction}`
	);
	if (body.kind !== 'register') {
		ensure(
			equalBytes(body.record.pointer.holder, body.institution),
			'tx-holder',
			'the record must be stored by the institution the transaction is sent to (the author)'
		);
	}
	ensure(
		verifySignature(body.patient, transactionId(body), tx.signature),
		'tx-signature',
		'the patient signature on this transaction is not valid'
	);
}

/** The statement a verifier checks for a record transaction: (h, hk of the author, m from the pointer). */
export function chameleonStatement(
	body: RecordBody,
	authorChameleonKey: Bytes,
	messageFromDigest: (digest: Bytes) => bigint
): ChameleonStatement {
	return {
		hk: authorChameleonKey,
		m: messageFromDigest(body.record.pointer.digest),
		hash: body.record.chameleon
	};
}

export function isRecordTransaction(tx: Transaction): tx is Transaction<RecordBody> {
	return tx.body.kind !== 'register';
}

export function assertKind<K extends TransactionKind>(
	tx: Transaction,
	kind: K
): asserts tx is Transaction<Extract<TransactionBody, { kind: K }>> {
	if (tx.body.kind !== kind)
		throw new ValidationError('tx-kind', `expected a ${kind} transaction, got ${tx.body.kind}`);
}
