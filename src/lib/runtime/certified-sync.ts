/**
 * Certificate-first sync (issue 15): a node that syncs a long chain applies each fact once its
 * certificates and every other rule hold (the pin certificate of a keyblock, the quorum certificate of a
 * batch over its transaction ids, hand-overs against the group's own ranking, linkage, fees, rounds,
 * registrations), with the BIP-340 signatures and the chameleon proofs it carries left for later. The
 * chain is then usable at once ("certified, not fully verified"), and this class verifies what was left
 * in the background, in journal order, once the sync stream pauses: signatures in slices between which
 * the node keeps serving, proofs in large batches through the node's batch verifier (its worker pool
 * where the runtime has one).
 *
 * The verified prefix of the journal is `verifiedLength`; the rest is certified only. Until it is all
 * verified, the node serves none of the rest to syncing peers, forwards no gossip, votes in no group
 * and mines nothing (full-node.ts), so nothing it has not checked leaves it. A fact whose deferred check
 * fails makes the chain invalid for good: the fact, the failed check and the members whose certificate
 * covers it are recorded in the store (`invalid-fact`) and raised to the node's listeners; the chain
 * then takes no more facts. Where the certified part starts is kept in the store as well
 * (`certified-from`, written with the facts), so a node restarted mid-way checks the certified part's
 * certificates again and resumes its verification instead of trusting it.
 */
import { bytesToHex, equalBytes, type Bytes } from '../core/bytes.ts';
import type { ChameleonStatement, ChameleonVerifier } from '../core/chameleon.ts';
import { CONSENSUS_KINDS, signerIndices, type ConsensusKind } from '../core/certificate.ts';
import type { ConsensusGroup } from '../core/consensus/group.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { isValidationCode } from '../core/error-codes.ts';
import type { ValidationCode } from '../core/errors.ts';
import { verifySignature, withDeferredSignatures, type DeferredSignature } from '../core/identity.ts';
import { decodePin, pinnedBatchId, type PinnedBatch } from '../core/pinning.ts';
import * as read from '../core/schema.ts';
import type { Store, StoreWrite } from '../store/store.ts';
import { FACT_TYPES, position, type ChainFact } from './chain-fact.ts';

/** What applying a fact certified-first left to check: its signatures and its chameleon proofs. */
export interface DeferredChecks {
	signatures: DeferredSignature[];
	statements: ChameleonStatement[];
}

/**
 * Runs `check` with its signature and proof checks deferred: every other rule runs as usual, and the
 * checks it would have made are returned for the background.
 */
export async function deferChecks(
	check: (verifier: ChameleonVerifier) => Promise<void>
): Promise<DeferredChecks> {
	const statements: ChameleonStatement[] = [];
	const verifier: ChameleonVerifier = {
		async verifyAll(batch) {
			statements.push(...batch);
			return batch.map(() => true);
		}
	};
	const { result, signatures } = withDeferredSignatures(() => check(verifier));
	await result;
	return { signatures, statements };
}

/** The members whose certificate covers an invalid fact, as that certificate names them. */
export interface Certifiers {
	kind: ConsensusKind;
	height: number;
	members: Bytes[];
}

/** A certified fact that failed its deferred verification, as recorded and raised. */
export interface InvalidFact {
	position: number;
	type: ChainFact['type'];
	code: ValidationCode;
	message: string;
	/** Empty when no certificate covers what failed (an attachment's leaf proof is its institution's). */
	certifiedBy: Certifiers[];
	at: number;
}

/** What the node shows of it: verified (the whole journal), certified (its tail unverified), invalid. */
export interface VerificationProgress {
	state: 'verified' | 'certified' | 'invalid';
	/** Journal facts verified in full, of `total`. */
	verified: number;
	total: number;
	signatures: number;
	proofs: number;
	invalid?: InvalidFact;
}

/** What a failed check is, for the record: the chain's lookups of the certificates that cover it. */
export interface CertifierLookup {
	groupFor(height: number): ConsensusGroup | undefined;
	groupForBatch(sequence: number): ConsensusGroup | undefined;
	batch(sequence: number): PinnedBatch | undefined;
	readonly batchCount: number;
}

const CERTIFIED_FROM_KEY = 'certified-from';
const INVALID_KEY = 'invalid-fact';
/** Signatures checked between two yields to the event loop (each 1–5 ms here). */
const SIGNATURE_SLICE = 64;
/** Proofs handed to the batch verifier at once (larger batches cost less per proof). */
const PROOF_BATCH = 512;
/**
 * The background waits while certified facts keep arriving (a sync is streaming): the chain is usable
 * sooner, and the proofs then go to the batch verifier in full batches. The total work is the same.
 */
const QUIET_MS = 200;

interface Pending {
	position: number;
	fact: ChainFact;
	checks: DeferredChecks | undefined;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

export class BackgroundVerification {
	/** Journal positions below this are verified in full. */
	verifiedLength = 0;
	/** Facts applied so far (the journal's length as this class saw it). */
	length = 0;
	invalid: InvalidFact | undefined;
	private readonly queue: Pending[] = [];
	private running: Promise<void> | undefined;
	private signatures = 0;
	private proofs = 0;
	private readonly listeners = new Set<() => void>();
	/** When the last certified fact was applied (real time, not the chain's clock). */
	private lastCertified = 0;

	constructor(
		private readonly verifier: ChameleonVerifier,
		private readonly lookup: CertifierLookup,
		/** Persists the marker (and the invalid record) in order with the chain's own writes. */
		private readonly persist: (writes: StoreWrite[]) => Promise<void>,
		private readonly clock: () => number
	) {}

	get caughtUp(): boolean {
		return this.verifiedLength === this.length && this.invalid === undefined;
	}

	progress(): VerificationProgress {
		const state = this.invalid ? 'invalid' : this.caughtUp ? 'verified' : 'certified';
		const { verifiedLength: verified, length: total, signatures, proofs, invalid } = this;
		return { state, verified, total, signatures, proofs, ...(invalid ? { invalid } : {}) };
	}

	/** Called when the progress changes, the chain becomes verified, or a fact is found invalid. */
	onChange(listener: () => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/**
	 * The fact at `position` was applied: verified in full (`checks` undefined) or certified with
	 * `checks` left. A verified fact on top of a certified part is verified only once that part is.
	 */
	applied(at: number, fact: ChainFact, checks: DeferredChecks | undefined): void {
		this.length = at + 1;
		if (checks) this.lastCertified = Date.now();
		if (checks === undefined && this.queue.length === 0 && this.verifiedLength === at) {
			this.verifiedLength = at + 1;
			return;
		}
		this.queue.push({ position: at, fact, checks });
		this.running ??= this.run().finally(() => (this.running = undefined));
	}

	/** A fact restored from the journal's verified part: nothing of it is left to check. */
	restored(at: number): void {
		this.length = at + 1;
		if (this.queue.length === 0 && this.verifiedLength === at) this.verifiedLength = at + 1;
	}

	/** The marker write for the chain's store batch (null once every fact is verified). */
	markerWrite(): StoreWrite {
		const value = this.caughtUp ? null : new TextEncoder().encode(position(this.verifiedLength));
		return { table: 'meta', key: CERTIFIED_FROM_KEY, value };
	}

	/** Resolves once the queue is empty (verified, or the chain found invalid). */
	async settled(): Promise<void> {
		while (this.running) await this.running;
	}

	private async run(): Promise<void> {
		while (this.queue.length > 0 && !this.invalid) {
			for (let wait = QUIET_MS; wait > 0; wait = this.lastCertified + QUIET_MS - Date.now())
				await new Promise((resolve) => setTimeout(resolve, wait));
			const slice = this.take();
			const failure = await this.verify(slice);
			const good = failure ? slice.slice(0, slice.indexOf(failure.pending)) : slice;
			if (good.length > 0) this.verifiedLength = good.at(-1)!.position + 1;
			if (failure) {
				this.invalid = this.record(failure.pending, failure.code, failure.message, failure.part);
				this.queue.length = 0;
				await this.persist([
					this.markerWrite(),
					{ table: 'meta', key: INVALID_KEY, value: encodeInvalid(this.invalid) }
				]).catch(() => undefined);
			} else await this.persist([this.markerWrite()]).catch(() => undefined);
			for (const listener of this.listeners) listener();
		}
	}

	/** The next facts to verify: up to PROOF_BATCH proofs' worth. */
	private take(): Pending[] {
		let proofs = 0;
		let count = 0;
		while (count < this.queue.length && (count === 0 || proofs < PROOF_BATCH)) {
			proofs += this.queue[count]!.checks?.statements.length ?? 0;
			count++;
		}
		return this.queue.splice(0, count);
	}

	/** Checks a slice's signatures, then its proofs in one batch; the first failure in journal order. */
	private async verify(slice: Pending[]): Promise<
		| {
				pending: Pending;
				code: ValidationCode;
				message: string;
				part: { signature?: DeferredSignature; statement?: ChameleonStatement };
		  }
		| undefined
	> {
		let sinceYield = 0;
		for (const pending of slice)
			for (const signature of pending.checks?.signatures ?? []) {
				if (++sinceYield % SIGNATURE_SLICE === 0) await yieldToEventLoop();
				this.signatures++;
				if (!verifySignature(signature.publicKey, signature.digest, signature.signature))
					return {
						pending,
						code: pending.fact.type === 'keyblock' ? 'keyblock-signature' : 'tx-signature',
						message: 'a signature is not valid',
						part: { signature }
					};
			}
		const statements = slice.flatMap((p) => p.checks?.statements ?? []);
		if (statements.length === 0) return undefined;
		const verdicts = await this.verifier.verifyAll(statements);
		this.proofs += statements.length;
		let offset = 0;
		for (const pending of slice) {
			const own = pending.checks?.statements ?? [];
			const bad = own.findIndex((_, i) => !verdicts[offset + i]);
			if (bad >= 0)
				return {
					pending,
					code: 'record-proof',
					message: 'a chameleon hash proof is not valid',
					part: { statement: own[bad]! }
				};
			offset += own.length;
		}
		return undefined;
	}

	/** The record of a failed fact: which certificate covered the part that failed, and who signed it. */
	private record(
		pending: Pending,
		code: ValidationCode,
		what: string,
		part: { signature?: DeferredSignature; statement?: ChameleonStatement }
	): InvalidFact {
		const { fact } = pending;
		const certifiedBy: Certifiers[] = [];
		let message = `${fact.type} at journal position ${pending.position}: ${what}`;
		if (fact.type === 'keyblock') {
			const { height } = fact.block.header;
			const group = this.lookup.groupFor(height);
			if (fact.block.pin && group) certifiedBy.push(signersOf(decodePin(fact.block.pin), group));
		} else if (fact.type === 'attachment') {
			const entry = fact.attachment.entries.find((e) =>
				part.signature
					? equalBytes(e.tx.signature, part.signature.signature)
					: equalBytes(e.tx.body.record.chameleon.proof, part.statement!.hash.proof)
			);
			if (!entry) {
				message += ' (the leaf proof, which the institution that sent the attachment made)';
				return { ...this.base(pending, message), code: 'leaf-proof', certifiedBy };
			}
			for (let sequence = 1; sequence <= this.lookup.batchCount; sequence++) {
				const pinned = this.lookup.batch(sequence)!;
				if (!equalBytes(pinnedBatchId(pinned), entry.pin)) continue;
				const group = this.lookup.groupForBatch(sequence);
				if (group) certifiedBy.push(signersOf(pinned.certificate, group));
				message += ` (a transaction of pinned batch ${sequence})`;
			}
		}
		return { ...this.base(pending, message), code, certifiedBy };
	}

	private base(pending: Pending, message: string) {
		return { position: pending.position, type: pending.fact.type, message, at: this.clock() };
	}
}

function signersOf(
	certificate: { kind: ConsensusKind; height: number; signers: Bytes },
	group: ConsensusGroup
): Certifiers {
	const members = signerIndices(certificate.signers).flatMap((i) => {
		const member = group.members[i];
		return member ? [member.id] : [];
	});
	return { kind: certificate.kind, height: certificate.height, members };
}

export function encodeInvalid(invalid: InvalidFact): Bytes {
	return encodeCanonical({
		position: invalid.position,
		type: invalid.type,
		code: invalid.code,
		message: invalid.message,
		certifiedBy: invalid.certifiedBy.map((c) => ({ kind: c.kind, height: c.height, members: c.members })),
		at: invalid.at
	});
}

export function decodeInvalid(bytes: Bytes): InvalidFact {
	const o = read.object(decodeCanonical(bytes), 'invalidFact', [
		'position',
		'type',
		'code',
		'message',
		'certifiedBy',
		'at'
	]);
	const code = o.code;
	return {
		position: read.uint(o.position, 'invalidFact.position'),
		type: read.oneOf(o.type, 'invalidFact.type', FACT_TYPES),
		code: isValidationCode(code) ? code : 'record-proof',
		message: read.string(o.message, 'invalidFact.message', 1000),
		certifiedBy: read.array(o.certifiedBy, 'invalidFact.certifiedBy', 64, (value, where) => {
			const c = read.object(value, where, ['kind', 'height', 'members']);
			return {
				kind: read.oneOf(c.kind, `${where}.kind`, CONSENSUS_KINDS),
				height: read.uint(c.height, `${where}.height`),
				members: read.array(c.members, `${where}.members`, 64, (m, at) => read.bytes(m, at, 32))
			};
		}),
		at: read.uint(o.at, 'invalidFact.at')
	};
}

/** Where the stored journal's certified part starts (undefined: it is verified), and a recorded failure. */
export async function readTrust(
	store: Store
): Promise<{ certifiedFrom: number | undefined; invalid: InvalidFact | undefined }> {
	const from = await store.get('meta', CERTIFIED_FROM_KEY);
	const invalid = await store.get('meta', INVALID_KEY);
	return {
		certifiedFrom: from ? Number(new TextDecoder().decode(from)) : undefined,
		invalid: invalid ? decodeInvalid(invalid) : undefined
	};
}

/** Who certified an invalid fact, as the log and the UI print it (`name`: an institution's name). */
export function describeCertifiers(
	certifiedBy: readonly Certifiers[],
	name: (id: Bytes) => string = (id) => bytesToHex(id).slice(0, 12)
): string {
	if (certifiedBy.length === 0) return 'no certificate covers it';
	return certifiedBy
		.map((c) => `certified by ${c.members.map(name).join(', ')} (${c.kind} certificate ${c.height})`)
		.join('; ');
}
