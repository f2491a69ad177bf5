/**
 * Chain sync over a request/response stream: a node asks a peer for its journal and applies each fact
 * as it arrives, verifying it like any other (pins against the group, PoW, signatures, proofs), so a
 * peer can only slow a sync down, never corrupt it. Keyblocks come in journal order, so headers are
 * checked before the patient blocks and records that depend on them. Facts already held are skipped.
 */
import type { Bytes } from '../core/bytes.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { ValidationError } from '../core/errors.ts';
import * as read from '../core/schema.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { decodeFact, FACT_TYPES, type ChainFact, type ChainState } from './chain-state.ts';

export const SYNC_PROTOCOL = '/spchain/sync/1.0.0';
const MAX_FACT_BYTES = 8 * 1024 * 1024;

export interface SyncProgress {
	received: number;
	applied: number;
	height: number;
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

/** Serves our journal to peers. */
export function serveSync(net: PeerNet, chain: ChainState): void {
	net.handle(SYNC_PROTOCOL, async function* (request) {
		const o = read.object(decodeCanonical(request, 64), 'syncRequest', ['from']);
		for await (const { type, bytes } of chain.journal(read.uint(o.from, 'syncRequest.from')))
			yield encodeFrame(type, bytes);
	});
}

/**
 * Pulls `peer`'s journal and applies it. Invalid data penalises the peer and ends the sync with the
 * ValidationError; what was applied before it stays (each fact was verified on its own).
 */
export async function syncFrom(
	net: PeerNet,
	chain: ChainState,
	peer: string,
	onProgress: (progress: SyncProgress) => void = () => {},
	signal?: AbortSignal
): Promise<SyncProgress> {
	const progress: SyncProgress = { received: 0, applied: 0, height: chain.height };
	try {
		for await (const frame of net.request(peer, SYNC_PROTOCOL, encodeCanonical({ from: 0 }), { signal })) {
			const { type, bytes } = decodeFrame(frame);
			const fact = decodeFact(type, bytes, chain.ledger.genesis);
			progress.received++;
			if ((await chain.apply(fact)) === 'applied') progress.applied++;
			progress.height = chain.height;
			onProgress(progress);
		}
	} catch (error) {
		if (error instanceof ValidationError) net.penalise(peer, `sync: ${error.message}`);
		throw error;
	}
	return progress;
}
