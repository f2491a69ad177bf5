/**
 * Who is who on the network: each node tells every peer it connects to which chain identities it
 * speaks for (signed presences, core/presence.ts), and keeps the verified presences of its peers, so a
 * clinic can reach a patient by public key and a patient can reach the institution holding a record.
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import { checkPresence, type Presence } from '../core/presence.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { call, serve } from '../net/protocol.ts';
import { IDENTITY } from './wire.ts';

export class Directory {
	/** Identity (hex public key) → peer id, from verified presences. */
	private readonly peers = new Map<string, string>();
	private readonly listeners = new Set<() => void>();

	constructor(
		private readonly net: PeerNet,
		private readonly own: () => Presence[],
		private readonly clock: () => number = Date.now
	) {
		serve(net, IDENTITY, async () => own());
		net.addEventListener('peer:connect', (event) => void this.ask(event.detail, true));
		for (const peer of net.peers()) void this.ask(peer, true);
	}

	peerOf(identity: Bytes): string | undefined {
		return this.peers.get(bytesToHex(identity));
	}

	/** The identities (hex public keys) `peer` has proven it speaks for. */
	identitiesOf(peer: string): string[] {
		return [...this.peers].filter(([, p]) => p === peer).map(([identity]) => identity);
	}

	isOnline(identity: Bytes): boolean {
		const peer = this.peerOf(identity);
		return peer !== undefined && this.net.peers().includes(peer);
	}

	onChange(listener: () => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/**
	 * Asks `peer` who it is; invalid presences penalise it. Listeners hear of a peer that just connected
	 * or of a new identity; a repeated answer is no news (outboxes retry on news, and asking around to
	 * locate someone must not make them retry in a loop).
	 */
	async ask(peer: string, connected = false, signal?: AbortSignal): Promise<void> {
		try {
			let news = connected;
			for (const presence of await call(this.net, peer, IDENTITY, null, { signal })) {
				checkPresence(presence, peer, this.clock());
				const identity = bytesToHex(presence.publicKey);
				news ||= this.peers.get(identity) !== peer;
				this.peers.set(identity, peer);
			}
			if (news) for (const listener of this.listeners) listener();
		} catch (error) {
			if ((error as { name?: string }).name === 'ValidationError')
				this.net.penalise(peer, `identity: ${(error as Error).message}`);
		}
	}

	/**
	 * The peer speaking for `identity`, asking around (peers announce identities created after they
	 * connected only when asked again) until `timeoutMs`. A peer known to speak for it whose connection
	 * dropped is asked too, which dials it again: a dropped link is not someone offline.
	 */
	async locate(identity: Bytes, timeoutMs = 10_000): Promise<string | undefined> {
		const deadline = this.clock() + timeoutMs;
		for (;;) {
			if (this.isOnline(identity)) return this.peerOf(identity);
			const remaining = deadline - this.clock();
			if (remaining <= 0) return undefined;
			const known = this.peerOf(identity);
			const signal = AbortSignal.timeout(remaining);
			await Promise.all([
				...this.net.peers().map((peer) => this.ask(peer, false, signal)),
				known === undefined ? undefined : this.ask(known, false, signal)
			]);
			if (this.isOnline(identity)) return this.peerOf(identity);
			await new Promise((resolve) =>
				setTimeout(resolve, Math.min(1000, Math.max(0, deadline - this.clock())))
			);
		}
	}

	/** Re-asks every connected peer (after our own identity changed, or to find someone). */
	async refresh(): Promise<void> {
		await Promise.all(this.net.peers().map((peer) => this.ask(peer)));
	}
}
