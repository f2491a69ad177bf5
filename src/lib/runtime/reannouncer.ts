/**
 * What a node announces again until the chain has it: its own keyblock candidate (until a keyblock is
 * pinned at that height) and the transactions submitted through it (until pinned or gone from its
 * mempool). Gossip delivers each message once: a candidate lost on the way would stall pinning, and a
 * transaction ignored by a peer that was behind (a label whose record it had not attached yet) would
 * wait until its round expires.
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import { encodeKeyblock, type Keyblock } from '../core/keyblock.ts';
import type { Topic } from '../net/peer-net.ts';

/** How often the candidate and the submitted transactions are published again. */
export const ANNOUNCE_INTERVAL_MS = 5000;
/** Bound on the transactions one node re-announces (a clinic's own queue, not a relay's). */
const MAX_REANNOUNCED = 4096;

export interface ReannouncerOptions {
	publish(topic: Topic, data: Bytes): Promise<void>;
	/** The height the next keyblock will have. */
	nextHeight(): number;
	/** Whether a submitted transaction still waits: neither pinned nor dropped from the mempool. */
	waiting(id: Bytes): boolean;
}

export class Reannouncer {
	private candidate: Keyblock | null = null;
	private readonly submitted = new Map<string, { id: Bytes; encoded: Bytes }>();
	private timer: ReturnType<typeof setInterval> | undefined;

	constructor(private readonly options: ReannouncerOptions) {}

	/** Our mined candidate; null once a keyblock was pinned. */
	setCandidate(block: Keyblock | null): void {
		this.candidate = block;
	}

	submittedHere(id: Bytes, encoded: Bytes): void {
		if (this.submitted.size < MAX_REANNOUNCED) this.submitted.set(bytesToHex(id), { id, encoded });
	}

	start(): void {
		this.timer ??= setInterval(() => this.announce(), ANNOUNCE_INTERVAL_MS);
	}

	stop(): void {
		clearInterval(this.timer);
		this.timer = undefined;
	}

	private announce(): void {
		const { publish, nextHeight, waiting } = this.options;
		if (this.candidate?.header.height === nextHeight())
			void publish('keyblocks', encodeKeyblock(this.candidate)).catch(() => undefined);
		for (const [key, { id, encoded }] of this.submitted) {
			if (!waiting(id)) this.submitted.delete(key);
			else void publish('transactions', encoded).catch(() => undefined);
		}
	}
}
