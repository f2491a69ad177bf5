/**
 * The consensus group's Byzantine agreement: Tendermint (Buchman, Kwon, Milosevic, "The latest gossip on
 * BFT consensus", 2018, Algorithm 1) implemented as a pure state machine. Line numbers (L22 …) refer to
 * that algorithm. Quorums ("2f + 1") are the double quorum of section 5.3 (6): more than 2/3 of the
 * members AND of their reputation (group.ts); "f + 1" is a set with more than 1/3 of both.
 *
 * Why this file is long: one state machine whose upon-rules and intake checks share its per-height
 * state; split, each part would reach into the others' fields. The later-height buffer's bookkeeping
 * is its own type (future-buffer.ts).
 *
 * Pure: no network, no clock. The adapter calls `start(height, group)`, `receive(bytes)` and
 * `timeout(event)` and carries out the returned outputs (broadcast/send bytes, schedule a timeout after
 * `delay` ms, apply a decision with its certificate, report evidence). Calls are serialised internally, so
 * the adapter may call concurrently.
 *
 * One machine agrees on one kind of value (keyblock hashes, transaction-batch hashes or member-set hashes)
 * for a sequence of heights. Values are 32-byte hashes; the application supplies `propose` (the value
 * this member proposes when it is the proposer) and `validate` (is the value behind a hash valid).
 *
 * Before any signed message is emitted, the voting state (locks, last signed message) is saved through
 * the injected store and awaited, so a restarted member resumes its locks and never signs two different
 * values at the same (height, round, step).
 *
 * Differences from the paper's pseudocode, all standard in Tendermint implementations:
 * - Decision (L49) needs a precommit quorum for v and valid(v); the proposal message itself is not needed
 *   because values are hashes and the value's content is fetched by `validate`.
 * - Votes are counted as messages, as in the algorithm: an equivocating member's votes count for each value
 *   it signed (up to MAX_CONFLICTING per slot), and the second one is reported as evidence.
 * - Gossip: every `resend` ms while undecided a member re-broadcasts all signed messages it holds for the
 *   height (its own and relayed ones), and answers a message from a height it decided with that height's
 *   COMMIT (output 'reply'). This provides the algorithm's assumption that every message an honest
 *   member received eventually reaches all honest members, over links that drop messages before GST.
 * - A restarted member resumes its persisted round, step and locks, re-sends its last signed message and
 *   re-arms the step's timeout (received votes were lost with the process; gossip refills them).
 * - Rounds more than MAX_ROUNDS_AHEAD beyond ours are ignored (bounded memory); gossip brings them back.
 * - Cheap before expensive (an outsider must not make a member burn CPU): kind, height window, sender in
 *   the group, round window, proposer and the duplicate/equivocation slot are checked before any
 *   signature. Messages of a later height cannot be checked yet (its group and our state are not
 *   there): they wait in a buffer bounded per sender and slot (FUTURE_PER_SLOT per (height, round,
 *   step, sender), only the first FUTURE_ROUNDS rounds), so draining it costs at most one signature
 *   check per member and step, however much a peer sent. When the node already knows that height's
 *   group (`groupOf`, same epoch), a slot's first message is checked on arrival instead: a forgery is
 *   refused and blamed on its sender, and cannot hold a member's slot.
 * - `deliver` says what became of a message, for the gossip layer: 'accept' only when it was checked
 *   here and is new (forward it); 'ignore' when it is a duplicate, stale, or not checkable yet (neither
 *   forward nor blame: an honest relay is never charged for what it could not check); a ValidationError
 *   when it is wrong in itself (the peer that sent it authored it or forwarded it unchecked).
 * - Replies to messages of decided heights are bounded: one COMMIT per past height per resend period,
 *   so replayed old votes cannot make a member amplify traffic.
 * - Proposer: round-robin over the members in id order, proposer(h, r) = (h + r) mod n, so any n
 *   consecutive rounds include every member (hence an honest proposer within f + 1 rounds).
 * - A silent proposer is given up on sooner: when a propose timeout fires and nothing at all came from
 *   that round's proposer in the round, its later rounds (any height) use the short `silentProposer`
 *   timeout until any verified message of it arrives. With one member down, the others otherwise
 *   wait out the full propose timeout every n-th height. Timeouts only affect liveness, and an honest
 *   proposer that is up re-sends its votes every `resend` ms, which ends its silence after GST.
 */
import { bytesToHex, equalBytes, type Bytes } from '../bytes.ts';
import {
	assembleCertificate,
	blsScheme,
	statementBytes,
	verifyCertificate,
	type Certificate,
	type ConsensusKind,
	type SignatureScheme
} from '../certificate.ts';
import { ValidationError } from '../errors.ts';
import type { EquivocationEvidence } from '../evidence.ts';
import { sha256 } from '../hash.ts';
import {
	FUTURE_COMMITS_PER_HEIGHT,
	FUTURE_PER_SLOT,
	FUTURE_ROUNDS,
	FutureBuffer,
	HEIGHTS_BUFFERED_AHEAD
} from './future-buffer.ts';
import type { ConsensusGroup } from './group.ts';
import {
	decodeMessage,
	encodeMessage,
	statementOf,
	type Commit,
	type ConsensusMessage,
	type Proposal,
	type SignedMessage,
	type Vote
} from './messages.ts';
import { comparePosition, type RoundStep, type VotingState, type VotingStateStore } from './voting-state.ts';

/** The member's signing key, kept behind an interface so it can live in a worker or a hardware token. */
export interface StatementSigner {
	readonly id: Bytes;
	sign(message: Bytes): Bytes | Promise<Bytes>;
}

export interface ConsensusApplication {
	/** The value (32-byte hash) this member proposes at (height, round) when it has no valid value. */
	propose(height: number, round: number): Promise<Bytes>;
	/** Whether the value behind the hash is valid (fetching it if needed). Must be deterministic. */
	validate(value: Bytes, height: number): Promise<boolean>;
}

/** Timeouts in ms; each grows by `increment` per round so that after GST they exceed the message delay. */
export interface TimeoutConfig {
	propose: number;
	prevote: number;
	precommit: number;
	increment: number;
	/** Period of re-sending this height's signed messages while undecided (gossip over lossy links). */
	resend: number;
	/** Propose timeout for a proposer that was silent in its last round (module comment); default 250. */
	silentProposer?: number;
}

export const DEFAULT_TIMEOUTS: TimeoutConfig = {
	propose: 3000,
	prevote: 1000,
	precommit: 1000,
	increment: 500,
	resend: 2000
};

export const MAX_ROUNDS_AHEAD = 64;
export const MAX_CONFLICTING = 4;
const COMMITS_KEPT = 16;

export interface TimeoutEvent {
	step: RoundStep | 'resend';
	height: number;
	round: number;
}

export type ConsensusOutput =
	| { type: 'broadcast'; message: ConsensusMessage; bytes: Bytes }
	/** Send back to the peer that delivered the input being handled (a COMMIT for a member behind). */
	| { type: 'reply'; message: ConsensusMessage; bytes: Bytes }
	| { type: 'timeout'; timeout: TimeoutEvent; delay: number }
	| { type: 'decision'; height: number; round: number; value: Bytes; certificate: Certificate }
	| { type: 'evidence'; evidence: EquivocationEvidence };

/**
 * What became of a peer's message (see the module comment): 'accept' = checked and new, forward it;
 * 'ignore' = duplicate, stale or not checkable yet. Invalid messages throw ValidationError instead.
 */
export type Intake = 'accept' | 'ignore';

export interface Delivery {
	intake: Intake;
	outputs: ConsensusOutput[];
}

export interface ConsensusMachineOptions {
	kind: ConsensusKind;
	/** null for an observer that follows decisions without voting. */
	signer: StatementSigner | null;
	application: ConsensusApplication;
	store: VotingStateStore;
	/** BLS by default; a node may put a signature cache in front. */
	scheme?: SignatureScheme;
	/**
	 * The group of a later height when it is already known for sure (the same epoch): that height's
	 * messages are then checked on arrival, so a forgery is refused (and its sender blamed) instead of
	 * taking a member's buffer slot. Undefined while unknown.
	 */
	groupOf?: (height: number) => ConsensusGroup | undefined;
	timeouts?: TimeoutConfig;
}

interface RoundMessages {
	/** Distinct messages per slot: an equivocator's votes count for each value it signed (as in the
	 * algorithm, which counts messages), up to MAX_CONFLICTING per member and slot (bounded memory). */
	proposals: Proposal[];
	prevotes: Map<number, Vote[]>;
	precommits: Map<number, Vote[]>;
	/** Members with any message in this round (for the f + 1 round skip, L55). */
	senders: Set<number>;
}

function sameValue(a: Bytes | null, b: Bytes | null): boolean {
	return a === null || b === null ? a === b : equalBytes(a, b);
}

function sameMessage(a: SignedMessage, b: SignedMessage): boolean {
	return (
		sameValue(a.value, b.value) &&
		(a.type !== 'proposal' || b.type !== 'proposal' || a.validRound === b.validRound)
	);
}

function valueKey(value: Bytes | null): string {
	return value === null ? 'nil' : bytesToHex(value);
}

export class ConsensusMachine {
	readonly kind: ConsensusKind;
	private readonly signer: StatementSigner | null;
	private readonly app: ConsensusApplication;
	private readonly store: VotingStateStore;
	private readonly scheme: SignatureScheme;
	private readonly timeouts: TimeoutConfig;
	private readonly groupOf: (height: number) => ConsensusGroup | undefined;

	private queue: Promise<unknown> = Promise.resolve();
	private loaded = false;
	private started = false;

	// Tendermint's per-process variables.
	private height = -1;
	private group: ConsensusGroup | null = null;
	private round = 0;
	private step: RoundStep = 'propose';
	private lockedValue: Bytes | null = null;
	private lockedRound = -1;
	private validValue: Bytes | null = null;
	private validRound = -1;
	private decision: Certificate | null = null;
	private lastSigned: SignedMessage | null = null;

	// Per-height bookkeeping.
	private rounds = new Map<number, RoundMessages>();
	private prevoteTimeoutScheduled = new Set<number>();
	private precommitTimeoutScheduled = new Set<number>();
	private lockRuleFired = new Set<number>();
	private validity = new Map<string, boolean>();
	private seen = new Set<string>();
	private relayLog: Bytes[] = [];
	private evidenceReported = new Set<string>();

	/** Ids (hex) of members silent through a round they were to propose in, and not heard from since. */
	private readonly silentProposers = new Set<string>();
	private readonly future = new FutureBuffer();
	private readonly commits = new Map<number, Certificate>();
	/** Past heights answered with their COMMIT since the last resend tick. */
	private answered = new Set<number>();

	constructor(options: ConsensusMachineOptions) {
		this.kind = options.kind;
		this.signer = options.signer;
		this.app = options.application;
		this.store = options.store;
		this.scheme = options.scheme ?? blsScheme;
		this.timeouts = options.timeouts ?? DEFAULT_TIMEOUTS;
		this.groupOf = options.groupOf ?? (() => undefined);
	}

	/** Current position, for adapters and diagnostics. */
	get position(): { height: number; round: number; step: RoundStep; decided: boolean } {
		return { height: this.height, round: this.round, step: this.step, decided: this.decision !== null };
	}

	/** The certificate of a recent height this member decided, if it still holds it. */
	commitFor(height: number): Certificate | undefined {
		return this.commits.get(height);
	}

	/** Begins agreement on `height` with the group that is in charge of it. Heights only increase. */
	start(height: number, group: ConsensusGroup): Promise<ConsensusOutput[]> {
		return this.exclusive(async (out) => {
			if (this.started && height <= this.height)
				throw new Error(`consensus already at height ${this.height}; cannot start ${height}`);
			if (!this.loaded) {
				const saved = await this.store.load(this.kind);
				this.loaded = true;
				if (saved) this.restoreFrom(saved, height);
			}
			if (this.height !== height) this.resetHeight(height);
			this.started = true;
			this.group = group;
			for (const id of this.silentProposers)
				if (!group.members.some((m) => bytesToHex(m.id) === id)) this.silentProposers.delete(id);
			this.scheduleTimeout(out, 'resend', 0);
			const resumed = this.lastSigned?.height === height;
			if (resumed && this.step !== 'propose') {
				// Restarted after voting: re-send the vote and resume the step's timeout (received votes were
				// lost; a nil precommit on timeout is always safe, and every honest member must precommit in
				// a round before others can leave it).
				this.emitBroadcast(out, this.lastSigned!);
				this.applyOwn(this.lastSigned!);
				this.scheduleTimeout(out, this.step, this.round);
			} else if (resumed) {
				await this.startRound(this.round, out); // the last-sign guard re-sends the same proposal
			} else {
				await this.startRound(0, out);
			}
			for (const bytes of this.future.take(height)) {
				try {
					await this.receiveInner(bytes, out);
				} catch (error) {
					if (!(error instanceof ValidationError)) throw error;
				}
			}
			await this.advance(out);
		});
	}

	/**
	 * Handles bytes from a peer. Throws ValidationError for malformed, forged or out-of-group messages (the
	 * adapter can score the peer); duplicates and stale messages are ignored.
	 */
	receive(bytes: Bytes): Promise<ConsensusOutput[]> {
		return this.deliver(bytes).then((delivery) => delivery.outputs);
	}

	/** As `receive`, and says whether the message was checked and new (forward it) or not (see Intake). */
	async deliver(bytes: Bytes): Promise<Delivery> {
		let intake: Intake = 'ignore';
		const outputs = await this.exclusive(async (out) => {
			const result = await this.receiveInner(bytes, out);
			intake = result.intake;
			if (result.changed) await this.advance(out);
		});
		return { intake, outputs };
	}

	/** Messages buffered for later heights now (diagnostics and tests). */
	get buffered(): number {
		return this.future.size;
	}

	/** A timeout the adapter scheduled has expired (L57, L61, L65, and the resend period). */
	timeout(event: TimeoutEvent): Promise<ConsensusOutput[]> {
		return this.exclusive(async (out) => {
			if (!this.started || event.height !== this.height) return;
			if (event.step === 'resend') {
				this.answered.clear();
				if (this.decision) return;
				for (const bytes of this.relayLog)
					out.push({ type: 'broadcast', message: decodeMessage(bytes), bytes });
				this.scheduleTimeout(out, 'resend', this.round);
				return;
			}
			if (this.decision || event.round !== this.round) return;
			if (event.step === 'propose' && this.step === 'propose') {
				const proposer = this.group!.proposer(this.height, this.round);
				if (!this.roundMessages(this.round).senders.has(proposer))
					this.silentProposers.add(bytesToHex(this.group!.members[proposer]!.id));
				this.step = 'prevote';
				await this.castVote(out, 'prevote', null);
			} else if (event.step === 'prevote' && this.step === 'prevote') {
				this.step = 'precommit';
				await this.castVote(out, 'precommit', null);
			} else if (event.step === 'precommit') {
				await this.startRound(this.round + 1, out);
			}
			await this.advance(out);
		});
	}

	private exclusive(body: (out: ConsensusOutput[]) => Promise<void>): Promise<ConsensusOutput[]> {
		const run = this.queue.then(async () => {
			const out: ConsensusOutput[] = [];
			await body(out);
			return out;
		});
		this.queue = run.catch(() => undefined);
		return run;
	}

	private restoreFrom(saved: VotingState, height: number): void {
		if (saved.kind !== this.kind)
			throw new Error(`stored voting state is for ${saved.kind}, not ${this.kind}`);
		this.lastSigned = saved.lastSigned;
		if (saved.height !== height) return;
		this.resetHeight(height);
		this.round = saved.round;
		this.step = saved.step;
		this.lockedValue = saved.lockedValue;
		this.lockedRound = saved.lockedRound;
		this.validValue = saved.validValue;
		this.validRound = saved.validRound;
	}

	private resetHeight(height: number): void {
		this.height = height;
		this.round = 0;
		this.step = 'propose';
		this.lockedValue = null;
		this.lockedRound = -1;
		this.validValue = null;
		this.validRound = -1;
		this.decision = null;
		this.rounds = new Map();
		this.prevoteTimeoutScheduled = new Set();
		this.precommitTimeoutScheduled = new Set();
		this.lockRuleFired = new Set();
		this.validity = new Map();
		this.seen = new Set();
		this.relayLog = [];
		this.evidenceReported = new Set();
	}

	private snapshot(): VotingState {
		return {
			kind: this.kind,
			height: this.height,
			round: this.round,
			step: this.step,
			lockedValue: this.lockedValue,
			lockedRound: this.lockedRound,
			validValue: this.validValue,
			validRound: this.validRound,
			lastSigned: this.lastSigned
		};
	}

	private roundMessages(round: number): RoundMessages {
		let messages = this.rounds.get(round);
		if (!messages) {
			messages = { proposals: [], prevotes: new Map(), precommits: new Map(), senders: new Set() };
			this.rounds.set(round, messages);
		}
		return messages;
	}

	private get selfIndex(): number {
		return this.signer && this.group ? this.group.indexOf(this.signer.id) : -1;
	}

	private emitBroadcast(out: ConsensusOutput[], message: ConsensusMessage): void {
		out.push({ type: 'broadcast', message, bytes: encodeMessage(message) });
	}

	private scheduleTimeout(out: ConsensusOutput[], step: RoundStep | 'resend', round: number): void {
		let base = step === 'resend' ? this.timeouts.resend : this.timeouts[step];
		if (step === 'propose' && this.proposerSilent(round))
			base = Math.min(base, this.timeouts.silentProposer ?? 250);
		const delay = step === 'resend' ? base : base + round * this.timeouts.increment;
		out.push({ type: 'timeout', timeout: { step, height: this.height, round }, delay });
	}

	private proposerSilent(round: number): boolean {
		if (this.silentProposers.size === 0) return false;
		const proposer = this.group!.members[this.group!.proposer(this.height, round)]!;
		return this.silentProposers.has(bytesToHex(proposer.id));
	}

	/** StartRound (L11). */
	private async startRound(round: number, out: ConsensusOutput[]): Promise<void> {
		this.round = round;
		// "Invalid" may only have meant "not arrived yet" (the application waits a while for the value
		// behind a hash): judge such values again in the new round, or a late value could never win.
		for (const [key, valid] of this.validity) if (!valid) this.validity.delete(key);
		this.step = 'propose';
		const group = this.group!;
		if (this.selfIndex >= 0 && group.proposer(this.height, round) === this.selfIndex) {
			const value = this.validValue ?? (await this.app.propose(this.height, round));
			await this.sign(out, {
				type: 'proposal',
				kind: this.kind,
				height: this.height,
				round,
				value,
				validRound: this.validValue ? this.validRound : -1
			});
		} else {
			this.scheduleTimeout(out, 'propose', round);
		}
	}

	private castVote(
		out: ConsensusOutput[],
		type: 'prevote' | 'precommit',
		value: Bytes | null
	): Promise<void> {
		return this.sign(out, { type, kind: this.kind, height: this.height, round: this.round, value });
	}

	/**
	 * Signs, persists, then emits. The last-sign guard (voting-state.ts) makes a restarted member re-send
	 * its earlier message instead of signing a different one at the same position, and never sign behind.
	 */
	private async sign(
		out: ConsensusOutput[],
		unsigned: Omit<Proposal, 'sender' | 'signature'> | Omit<Vote, 'sender' | 'signature'>
	): Promise<void> {
		if (!this.signer || this.selfIndex < 0) return;
		const last = this.lastSigned;
		if (last && last.kind === this.kind) {
			const order = comparePosition(unsigned.height, unsigned.round, unsigned.type, last);
			if (order < 0) return;
			if (order === 0) {
				this.applyOwn(last);
				this.emitBroadcast(out, last);
				return;
			}
		}
		const partial = { ...unsigned, sender: this.signer.id, signature: new Uint8Array(0) } as SignedMessage;
		const statement = statementBytes(this.group!, statementOf(partial));
		const message = { ...partial, signature: await this.signer.sign(statement) } as SignedMessage;
		this.lastSigned = message;
		await this.store.save(this.snapshot());
		this.applyOwn(message);
		this.emitBroadcast(out, message);
	}

	private applyOwn(message: SignedMessage): void {
		const bytes = encodeMessage(message);
		const key = bytesToHex(sha256(bytes));
		if (this.seen.has(key)) return;
		this.seen.add(key);
		this.relayLog.push(bytes);
		this.record(message, this.selfIndex, []);
	}

	/**
	 * Checks cheap rules first, the signature last. `changed`: this height's state changed (run the rules);
	 * `intake`: see Intake. Throws ValidationError for a message that is wrong in itself.
	 */
	private async receiveInner(
		bytes: Bytes,
		out: ConsensusOutput[]
	): Promise<{ intake: Intake; changed: boolean }> {
		const ignored = { intake: 'ignore', changed: false } as const;
		const key = bytesToHex(sha256(bytes));
		if (this.seen.has(key)) return ignored;
		const message = decodeMessage(bytes);
		const height = message.type === 'commit' ? message.certificate.height : message.height;
		const kind = message.type === 'commit' ? message.certificate.kind : message.kind;
		if (kind !== this.kind)
			throw new ValidationError('consensus-kind', `a ${kind} message sent to the ${this.kind} consensus`);
		if (!this.started || height > this.height) {
			this.bufferFuture(message, height, bytes);
			return ignored;
		}
		if (height < this.height || (this.decision && message.type !== 'commit')) {
			if (message.type !== 'commit') this.answerLaggard(message, out);
			return ignored;
		}
		const group = this.group!;
		if (message.type === 'commit') {
			if (this.decision) return ignored;
			verifyCertificate(message.certificate, group, { kind: this.kind, height: this.height }, this.scheme);
			this.seen.add(key);
			if (!(await this.isValid(message.certificate.value))) return ignored;
			this.decide(message.certificate, out);
			return { intake: 'accept', changed: false };
		}
		const sender = group.indexOf(message.sender);
		if (sender < 0)
			throw new ValidationError('consensus-not-member', 'message from a member outside the group');
		if (message.round > this.round + MAX_ROUNDS_AHEAD) return ignored;
		if (message.type === 'proposal' && group.proposer(message.height, message.round) !== sender)
			throw new ValidationError(
				'consensus-not-proposer',
				`member ${sender} is not the proposer of round ${message.round}`
			);
		// The slot already holds this statement (BLS signatures are deterministic, so other bytes for it
		// are a forgery) or is full: nothing to learn, no signature to check.
		if (!this.hasRoom(message, sender)) return ignored;
		const statement = statementBytes(group, statementOf(message));
		if (!this.scheme.verify(group.members[sender]!.blsPublicKey, statement, message.signature))
			throw new ValidationError(
				'consensus-bad-signature',
				'signature does not match the sender and statement'
			);
		this.seen.add(key);
		if (!this.record(message, sender, out)) return ignored;
		this.relayLog.push(bytes);
		return { intake: 'accept', changed: true };
	}

	/** Whether `record` would store `message` (a new value in a slot that is not full). */
	private hasRoom(message: SignedMessage, sender: number): boolean {
		const messages = this.rounds.get(message.round);
		if (!messages) return true;
		const slot: SignedMessage[] =
			message.type === 'proposal'
				? messages.proposals
				: ((message.type === 'prevote' ? messages.prevotes : messages.precommits).get(sender) ?? []);
		return !slot.some((m) => sameMessage(m, message)) && slot.length < MAX_CONFLICTING;
	}

	/**
	 * Keeps a message of a later height for when that height starts, within the bounds of the module
	 * comment; once started, only the current group's members (the group rarely changes between
	 * heights, and a member whose message was dropped re-sends it every `resend` ms).
	 */
	private bufferFuture(message: ConsensusMessage, height: number, bytes: Bytes): void {
		if (this.started && height > this.height + HEIGHTS_BUFFERED_AHEAD) return;
		let slot: string;
		let limit: number;
		if (message.type === 'commit') {
			slot = `${height}:commit`;
			limit = FUTURE_COMMITS_PER_HEIGHT;
		} else {
			if (message.round >= FUTURE_ROUNDS) return;
			if (this.started && this.group!.indexOf(message.sender) < 0) return;
			slot = `${height}:${message.round}:${message.type}:${bytesToHex(message.sender)}`;
			limit = FUTURE_PER_SLOT;
		}
		if (!this.future.hasRoom(slot, limit)) return;
		if (message.type !== 'commit' && this.started) this.checkEarly(message, height);
		this.future.add(slot, height, bytes);
	}

	/** Checks a later height's signed message now when that height's group is known (see groupOf). */
	private checkEarly(message: SignedMessage, height: number): void {
		const group = this.groupOf(height);
		if (!group) return;
		const sender = group.indexOf(message.sender);
		if (sender < 0)
			throw new ValidationError('consensus-not-member', 'message from a member outside the group');
		if (message.type === 'proposal' && group.proposer(height, message.round) !== sender)
			throw new ValidationError(
				'consensus-not-proposer',
				`member ${sender} is not the proposer of round ${message.round}`
			);
		const statement = statementBytes(group, statementOf(message));
		if (!this.scheme.verify(group.members[sender]!.blsPublicKey, statement, message.signature))
			throw new ValidationError(
				'consensus-bad-signature',
				'signature does not match the sender and statement'
			);
	}

	/** Stores a verified message and reports equivocation. Returns false when nothing new was stored. */
	private record(message: SignedMessage, sender: number, out: ConsensusOutput[]): boolean {
		const messages = this.roundMessages(message.round);
		let slot: SignedMessage[];
		if (message.type === 'proposal') slot = messages.proposals;
		else {
			const votes = message.type === 'prevote' ? messages.prevotes : messages.precommits;
			slot = votes.get(sender) ?? [];
			votes.set(sender, slot as Vote[]);
		}
		const first = slot[0];
		if (slot.some((m) => sameMessage(m, message)) || slot.length >= MAX_CONFLICTING) return false;
		slot.push(message);
		if (first) {
			const key = `${sender}:${message.round}:${message.type}`;
			if (!this.evidenceReported.has(key)) {
				this.evidenceReported.add(key);
				out.push({ type: 'evidence', evidence: { first, second: message } });
			}
		}
		messages.senders.add(sender);
		if (this.silentProposers.size > 0)
			this.silentProposers.delete(bytesToHex(this.group!.members[sender]!.id));
		return true;
	}

	/**
	 * A COMMIT back for a message from a decided height, at most once per height and resend period:
	 * a laggard re-sends every period anyway, and replayed old votes get no more than that.
	 */
	private answerLaggard(message: SignedMessage, out: ConsensusOutput[]): void {
		const certificate = this.commits.get(message.height);
		if (!certificate || this.answered.has(message.height)) return;
		// Decided members have no resend timer running: arm one to lift the bound later.
		if (this.answered.size === 0 && this.decision) this.scheduleTimeout(out, 'resend', this.round);
		this.answered.add(message.height);
		const commit: Commit = { type: 'commit', certificate };
		out.push({ type: 'reply', message: commit, bytes: encodeMessage(commit) });
	}

	private async isValid(value: Bytes): Promise<boolean> {
		const key = bytesToHex(value);
		let valid = this.validity.get(key);
		if (valid === undefined) {
			try {
				valid = await this.app.validate(value, this.height);
			} catch (error) {
				if (!(error instanceof ValidationError)) throw error;
				valid = false;
			}
			this.validity.set(key, valid);
		}
		return valid;
	}

	/** Members with a vote for `value` (with its signature). */
	private supporters(votes: Map<number, Vote[]>, value: Bytes | null): Map<number, Bytes> {
		const out = new Map<number, Bytes>();
		for (const [member, slot] of votes) {
			const vote = slot.find((v) => sameValue(v.value, value));
			if (vote) out.set(member, vote.signature);
		}
		return out;
	}

	/** Non-nil values with a precommit quorum in `round`. */
	private decidedValues(round: RoundMessages): Bytes[] {
		const values = new Map<string, Bytes>();
		for (const slot of round.precommits.values())
			for (const vote of slot) if (vote.value) values.set(valueKey(vote.value), vote.value);
		return [...values.values()].filter((v) =>
			this.group!.isQuorum(this.supporters(round.precommits, v).keys())
		);
	}

	private decide(certificate: Certificate, out: ConsensusOutput[]): void {
		this.decision = certificate;
		this.commits.set(this.height, certificate);
		for (const height of this.commits.keys())
			if (height <= this.height - COMMITS_KEPT) this.commits.delete(height);
		out.push({
			type: 'decision',
			height: certificate.height,
			round: certificate.round,
			value: certificate.value,
			certificate
		});
		this.emitBroadcast(out, { type: 'commit', certificate });
	}

	/** Applies Tendermint's upon-rules until none fires. */
	private async advance(out: ConsensusOutput[]): Promise<void> {
		while (!this.decision && (await this.fireOneRule(out)));
	}

	private async fireOneRule(out: ConsensusOutput[]): Promise<boolean> {
		const group = this.group!;
		// L49: a precommit quorum for v in any round, and v valid: decide.
		for (const [round, messages] of this.rounds) {
			for (const value of this.decidedValues(messages)) {
				if (!(await this.isValid(value))) continue;
				const signatures = this.supporters(messages.precommits, value);
				this.decide(
					assembleCertificate(
						group,
						{ kind: this.kind, height: this.height, round, value },
						signatures,
						this.scheme
					),
					out
				);
				return true;
			}
		}
		// L55: f + 1 members already in a higher round: skip to it.
		for (const [round, messages] of this.rounds) {
			if (round > this.round && group.isBlocking(messages.senders)) {
				await this.startRound(round, out);
				return true;
			}
		}
		const current = this.roundMessages(this.round);
		for (const proposal of this.step === 'propose' ? current.proposals : []) {
			const v = proposal.value;
			const vr = proposal.validRound;
			if (vr === -1) {
				// L22
				const accept = (await this.isValid(v)) && (this.lockedRound === -1 || sameValue(this.lockedValue, v));
				this.step = 'prevote';
				await this.castVote(out, 'prevote', accept ? v : null);
				return true;
			}
			const justification = this.rounds.get(vr);
			if (justification && group.isQuorum(this.supporters(justification.prevotes, v).keys())) {
				// L28
				const accept = (await this.isValid(v)) && (this.lockedRound <= vr || sameValue(this.lockedValue, v));
				this.step = 'prevote';
				await this.castVote(out, 'prevote', accept ? v : null);
				return true;
			}
		}
		// L34: any prevote quorum: schedule the prevote timeout once.
		if (
			this.step === 'prevote' &&
			!this.prevoteTimeoutScheduled.has(this.round) &&
			group.isQuorum(current.prevotes.keys())
		) {
			this.prevoteTimeoutScheduled.add(this.round);
			this.scheduleTimeout(out, 'prevote', this.round);
			return true;
		}
		// L36: proposal and a prevote quorum for it: lock (if still prevoting) and remember as valid.
		const proposal =
			this.step === 'propose' || this.lockRuleFired.has(this.round)
				? undefined
				: current.proposals.find((p) => group.isQuorum(this.supporters(current.prevotes, p.value).keys()));
		if (proposal && (await this.isValid(proposal.value))) {
			this.lockRuleFired.add(this.round);
			this.validValue = proposal.value;
			this.validRound = this.round;
			if (this.step === 'prevote') {
				this.lockedValue = proposal.value;
				this.lockedRound = this.round;
				this.step = 'precommit';
				await this.castVote(out, 'precommit', proposal.value);
			}
			return true;
		}
		// L44: prevote quorum for nil.
		if (this.step === 'prevote' && group.isQuorum(this.supporters(current.prevotes, null).keys())) {
			this.step = 'precommit';
			await this.castVote(out, 'precommit', null);
			return true;
		}
		// L47: any precommit quorum: schedule the precommit timeout once.
		if (!this.precommitTimeoutScheduled.has(this.round) && group.isQuorum(current.precommits.keys())) {
			this.precommitTimeoutScheduled.add(this.round);
			this.scheduleTimeout(out, 'precommit', this.round);
			return true;
		}
		return false;
	}
}
