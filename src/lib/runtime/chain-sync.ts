/**
 * Chain sync over a request/response stream: a node asks a peer for its journal and applies each fact
 * as it arrives, verifying it like any other (pins against the group, PoW, signatures, proofs), so a
 * peer can only slow a sync down, never corrupt it. Keyblocks come in journal order, so headers are
 * checked before the patient blocks and records that depend on them. Facts already held are skipped.
 *
 * The stream: one header frame `{ total }` (how many facts follow: the serving peer's journal from the
 * requested position, as it stood when the request came), then exactly `total` fact frames. The total
 * is what a progress bar needs; a peer that sends more facts than it announced, or fewer before its end
 * marker, is refused like one that sends an invalid fact.
 */
import type { Bytes } from '../core/bytes.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { ensure, ValidationError } from '../core/errors.ts';
import * as read from '../core/schema.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { decodeFact, FACT_TYPES, type ChainFact } from './chain-fact.ts';
import type { ChainState } from './chain-state.ts';

/** 2.0.0: the header frame with the fact count (1.0.0 streams had none). */
export const SYNC_PROTOCOL = '/spchain/sync/2.0.0';
const MAX_FACT_BYTES = 8 * 1024 * 1024;
/** Bound on an announced journal length (far above any chain; it only sizes a progress bar). */
const MAX_SYNC_FACTS = 2 ** 40;
/** A peer that sends nothing for this long has its sync cut (a silent stream must not hold a slot). */
export const SYNC_IDLE_MS = 30_000;

export interface SyncProgress {
	/** Facts the peer announced (0 until its header arrives). */
	total: number;
	/** Facts received and checked so far: applied, or already held. */
	received: number;
	/** Facts new to this node, verified and applied. */
	applied: number;
	height: number;
}

/** What a node serves to syncing peers: its journal in order (a ChainState, or a bench's fixture). */
export interface SyncSource {
	journal(from?: number): AsyncIterable<{ type: ChainFact['type']; bytes: Bytes }>;
}

function encodeFrame(type: ChainFact['type'], bytes: Bytes): Bytes {
	return encodeCanonical({ type, bytes });
}

function decodeFrame(frame: Bytes): { type: ChainFact['type']; bytes: Bytes } {
	const o = read.object(decodeCanonical(frame, MAX_FACT_BYTES + 64), 'syncFrame', ['type', 'bytes']);
	return {
		type: read.oneOf(o.type, 'syncFrame.type', FACT_TYPES),
		bytes: read.bytes(o.bytes, 'syncFrame.bytes', { max: MAX_FACT_BYTES })
	};
}

function decodeHeader(frame: Bytes): number {
	const o = read.object(decodeCanonical(frame, 64), 'syncHeader', ['total']);
	return read.uint(o.total, 'syncHeader.total', MAX_SYNC_FACTS);
}

/** Syncs served at once: one per peer, and a few in all (each holds a copy of the journal's tail). */
export const MAX_SERVED_SYNCS = 8;

/** A sync request refused because the peer already has one running, or too many are. */
export class SyncBusyError extends Error {
	override name = 'SyncBusyError';
}

/** Serves our journal to peers: the header with its length, then its facts. */
export function serveSync(net: PeerNet, source: SyncSource): void {
	const serving = new Set<string>();
	net.handle(SYNC_PROTOCOL, async function* (request, from) {
		const o = read.object(decodeCanonical(request, 64), 'syncRequest', ['from']);
		if (serving.has(from)) throw new SyncBusyError('a sync for this peer is already running');
		if (serving.size >= MAX_SERVED_SYNCS)
			throw new SyncBusyError('too many syncs running; try again shortly');
		serving.add(from);
		try {
			// The journal as it stands now (later facts reach the peer by gossip or its next sync), so the
			// announced total is exact.
			const facts: { type: ChainFact['type']; bytes: Bytes }[] = [];
			for await (const fact of source.journal(read.uint(o.from, 'syncRequest.from'))) facts.push(fact);
			yield encodeCanonical({ total: facts.length });
			for (const { type, bytes } of facts) yield encodeFrame(type, bytes);
		} finally {
			serving.delete(from);
		}
	});
}

/**
 * Pulls `peer`'s journal and applies it. Invalid data penalises the peer and ends the sync with the
 * ValidationError; what was applied before it stays (each fact was verified on its own). With `tail`,
 * only the peer's journal from that position (a cheap catch-up for facts gossip may have dropped).
 * A peer that goes silent for SYNC_IDLE_MS is cut off (the sync rejects with a RequestError).
 * `certified`: facts are applied certified-first, their signatures and proofs verified in the
 * background (certified-sync.ts); a forged one is then caught there, not here.
 */
export async function syncFrom(
	net: PeerNet,
	chain: ChainState,
	peer: string,
	onProgress: (progress: SyncProgress) => void = () => {},
	signal?: AbortSignal,
	tail?: { from: number },
	certified = false
): Promise<SyncProgress> {
	const progress: SyncProgress = { total: 0, received: 0, applied: 0, height: chain.height };
	let header = false;
	const from = tail?.from ?? 0;
	const idle = new AbortController();
	let timer: ReturnType<typeof setTimeout> | undefined;
	const arm = () => {
		clearTimeout(timer);
		timer = setTimeout(() => idle.abort(), SYNC_IDLE_MS);
	};
	const both = signal ? AbortSignal.any([signal, idle.signal]) : idle.signal;
	try {
		arm();
		for await (const frame of net.request(peer, SYNC_PROTOCOL, encodeCanonical({ from }), {
			signal: both
		})) {
			arm();
			if (!header) {
				progress.total = decodeHeader(frame);
				header = true;
				onProgress(progress);
				continue;
			}
			ensure(
				progress.received < progress.total,
				'sync-length',
				`the peer announced ${progress.total} facts and sent more`
			);
			const { type, bytes } = decodeFrame(frame);
			const fact = decodeFact(type, bytes, chain.ledger.genesis);
			progress.received++;
			if ((await chain.apply(fact, certified ? 'certified' : 'verified')) === 'applied') progress.applied++;
			progress.height = chain.height;
			onProgress(progress);
		}
		ensure(header, 'sync-header', 'the peer ended the sync without saying how many facts it holds');
		ensure(
			progress.received === progress.total,
			'sync-length',
			`the peer announced ${progress.total} facts and sent ${progress.received}`
		);
	} catch (error) {
		// A tail of the peer's journal may lack what its facts depend on: that is not the peer's fault.
		// Nor is our own chain being invalid (certified-sync.ts).
		if (error instanceof ValidationError && !tail && error.code !== 'chain-invalid')
			net.penalise(peer, `sync: ${error.message}`);
		throw error;
	} finally {
		clearTimeout(timer);
	}
	return progress;
}
