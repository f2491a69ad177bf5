/**
 * Messages of later heights, kept unchecked until their height starts (or checked on arrival by the
 * machine when it already knows that height's group). Bookkeeping only: the machine decides what may
 * enter (machine.ts bufferFuture); this type bounds it by slot and in all, so a flood of forgeries costs
 * at most one signature check per (height, round 0, step, member) when the height starts, never an
 * unbounded queue (issue 18: 4,096 unchecked votes checked at once blocked a clinic for minutes).
 *
 * Parameters: later heights kept: HEIGHTS_BUFFERED_AHEAD (an honest member is a decision or two ahead
 * at most); rounds: FUTURE_ROUNDS (members start a height in round 0; resends bring later ones); one
 * message per slot (a forgery in it is replaced by the member's resend); two COMMITs per height; a hard
 * cap for the time before the machine starts, when no height or group bounds the slots.
 */
import type { Bytes } from '../bytes.ts';

export const HEIGHTS_BUFFERED_AHEAD = 2;
export const FUTURE_ROUNDS = 1;
export const FUTURE_PER_SLOT = 1;
export const FUTURE_COMMITS_PER_HEIGHT = 2;
export const MAX_BUFFERED_FUTURE = 1024;

export class FutureBuffer {
	/** By slot (height:round:step:sender, or height:commit). */
	private readonly slots = new Map<string, { height: number; list: Bytes[] }>();
	private count = 0;

	get size(): number {
		return this.count;
	}

	/** Whether a message for `slot` would be kept (the slot and the whole buffer have room). */
	hasRoom(slot: string, limit: number): boolean {
		return this.count < MAX_BUFFERED_FUTURE && (this.slots.get(slot)?.list.length ?? 0) < limit;
	}

	/** Keeps `bytes` in `slot`; the caller checked hasRoom. */
	add(slot: string, height: number, bytes: Bytes): void {
		const entry = this.slots.get(slot) ?? { height, list: [] };
		entry.list.push(bytes);
		this.slots.set(slot, entry);
		this.count++;
	}

	/**
	 * Removes and returns the messages of `height`, dropping those of earlier heights and those beyond
	 * the window (kept before the machine started, when no height bounded them).
	 */
	take(height: number): Bytes[] {
		const taken: Bytes[] = [];
		for (const [slot, entry] of this.slots) {
			if (entry.height > height && entry.height <= height + HEIGHTS_BUFFERED_AHEAD) continue;
			this.slots.delete(slot);
			this.count -= entry.list.length;
			if (entry.height === height) taken.push(...entry.list);
		}
		return taken;
	}
}
