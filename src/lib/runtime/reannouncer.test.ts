/**
 * The re-announcer's schedule for transactions submitted through a node: a waiting transaction goes out
 * again every 5 s (it must reach a miner within its round window); one a proposal of another
 * institution carried waits 80 s between announcements (every peer held it, and decoding a backlog
 * it already held cost more than verifying it); one pinned or dropped is never sent again.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import { ANNOUNCE_INTERVAL_MS, MAX_ANNOUNCE_GAP_MS, Reannouncer } from './reannouncer.ts';

const id = (n: number) => new Uint8Array(32).fill(n);

function harness() {
	let now = 1_000_000;
	const sent: string[] = [];
	const waiting = new Set<string>();
	const announcer = new Reannouncer({
		publish: async (topic, data) => void sent.push(`${topic}:${data[0]}`),
		nextHeight: () => 1,
		waiting: (tx: Bytes) => waiting.has(bytesToHex(tx)),
		clock: () => now
	});
	const submit = (n: number) => {
		waiting.add(bytesToHex(id(n)));
		announcer.submittedHere(id(n), new Uint8Array([n]));
	};
	/** Runs the 5 s rounds up to `seconds` after the start; returns what each round sent, by its time. */
	const rounds = (seconds: number) => {
		const out: Record<number, string[]> = {};
		const start = now;
		while (now - start < seconds * 1000) {
			now += ANNOUNCE_INTERVAL_MS;
			sent.length = 0;
			announcer.announce();
			if (sent.length > 0) out[(now - start) / 1000] = [...sent];
		}
		return out;
	};
	return { announcer, submit, rounds, waiting };
}

describe('Reannouncer', () => {
	it('sends a waiting transaction again every round until a proposal carried it, then every 80 s', () => {
		const { announcer, submit, rounds } = harness();
		submit(1);
		const tx = ['transactions:1'];
		expect(rounds(20)).toEqual({ 5: tx, 10: tx, 15: tx, 20: tx });
		announcer.heldByPeers([id(1)]);
		expect(rounds(170)).toEqual({ 80: tx, 160: tx });
		expect(MAX_ANNOUNCE_GAP_MS).toBe(80_000);
	});

	it('waits the longest gap for a transaction another proposal carried, and forgets a pinned one', () => {
		const { announcer, submit, rounds, waiting } = harness();
		submit(1);
		submit(2);
		submit(3);
		announcer.heldByPeers([id(2), id(9)]);
		waiting.delete(bytesToHex(id(3))); // pinned (or dropped) before its first re-announcement
		const one = ['transactions:1'];
		expect(rounds(90)).toEqual({
			...Object.fromEntries([5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75].map((t) => [t, one])),
			80: ['transactions:1', 'transactions:2'],
			85: one,
			90: one
		});
		waiting.add(bytesToHex(id(3))); // not resubmitted: it stays forgotten
		expect(Object.values(rounds(400)).flat()).not.toContain('transactions:3');
	});
});
