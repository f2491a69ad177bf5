/**
 * What a node announces again until the chain has it: its own keyblock candidate (until a keyblock is
 * pinned at that height) and the transactions submitted through it (until pinned or gone from its
 * mempool). Gossip delivers each message once: a candidate lost on the way would stall pinning, and a
 * transaction ignored by a peer that was behind (a label whose record it had not attached yet) or busy
 * (a burst beyond its validation budget, net/peer-guard.ts) would wait until its round expires.
 *
 * A re-announced transaction costs every peer a gossip delivery, a decode and a mempool look-up even
 * when the peer holds it already, and a backlog of a few hundred re-sent every 5 s cost the members of
 * the throughput bench's deployment more CPU than verifying them. So a transaction is announced again
 * every 5 s only until a proposal of another institution carried it (that proposer held it and every
 * member has checked it), then every 80 s until it is pinned or dropped: proposals are unsigned, so the
 * proof is only that someone held it. Until then the 5 s stay: a transaction must reach a miner
 * within its round window (a register only goes into keyblocks, which no proposal carries), and a
 * doubling gap let a register whose first copies were missed expire before it was sent again.
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import { encodeKeyblock, type Keyblock } from '../core/keyblock.ts';
import type { Topic } from '../net/peer-net.ts';

/** How often the candidate is published again, and the first gap of a submitted transaction. */
export const ANNOUNCE_INTERVAL_MS = 5000;
/** The gap between two announcements of a transaction a proposal of another institution carried. */
export const MAX_ANNOUNCE_GAP_MS = 16 * ANNOUNCE_INTERVAL_MS;
/** Bound on the transactions one node re-announces (a clinic's own queue, not a relay's). */
const MAX_REANNOUNCED = 4096;

export interface ReannouncerOptions {
	publish(topic: Topic, data: Bytes): Promise<void>;
	/** The height the next keyblock will have. */
	nextHeight(): number;
	/** Whether a submitted transaction still waits: neither pinned nor dropped from the mempool. */
	waiting(id: Bytes): boolean;
	clock?: () => number;
}

interface Submitted {
	id: Bytes;
	encoded: Bytes;
	/** When it is announced next (ms), and the gap after that. */
	due: number;
	gap: number;
}

export class Reannouncer {
	private candidate: Keyblock | null = null;
	private readonly submitted = new Map<string, Submitted>();
	private readonly clock: () => number;
	private timer: ReturnType<typeof setInterval> | undefined;

	constructor(private readonly options: ReannouncerOptions) {
		this.clock = options.clock ?? Date.now;
	}

	/** Our mined candidate; null once a keyblock was pinned. */
	setCandidate(block: Keyblock | null): void {
		this.candidate = block;
	}

	/** A transaction submitted here, published once already. */
	submittedHere(id: Bytes, encoded: Bytes): void {
		if (this.submitted.size >= MAX_REANNOUNCED) return;
		const gap = ANNOUNCE_INTERVAL_MS;
		this.submitted.set(bytesToHex(id), { id, encoded, due: this.clock() + gap, gap });
	}

	/** Transactions a proposal of another institution carried: its proposer and the group hold them. */
	heldByPeers(ids: readonly Bytes[]): void {
		const due = this.clock() + MAX_ANNOUNCE_GAP_MS;
		for (const id of ids) {
			const entry = this.submitted.get(bytesToHex(id));
			if (entry) {
				entry.due = Math.max(entry.due, due);
				entry.gap = MAX_ANNOUNCE_GAP_MS;
			}
		}
	}

	start(): void {
		this.timer ??= setInterval(() => this.announce(), ANNOUNCE_INTERVAL_MS);
	}

	stop(): void {
		clearInterval(this.timer);
		this.timer = undefined;
	}

	/** One round: the candidate, and every waiting transaction whose time has come. */
	announce(): void {
		const { publish, nextHeight, waiting } = this.options;
		if (this.candidate?.header.height === nextHeight())
			void publish('keyblocks', encodeKeyblock(this.candidate)).catch(() => undefined);
		const now = this.clock();
		for (const [key, entry] of this.submitted) {
			if (!waiting(entry.id)) this.submitted.delete(key);
			else if (entry.due <= now) {
				void publish('transactions', entry.encoded).catch(() => undefined);
				entry.due = now + entry.gap;
			}
		}
	}
}
