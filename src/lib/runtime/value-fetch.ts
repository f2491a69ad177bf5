/**
 * A consensus value this member has not received, fetched by its hash from peers: the keyblock
 * candidate or the batch proposal a proposal or a lock names.
 *
 * Why gossip is not enough: a candidate is gossiped once, and only its miner announces it again (a
 * proposal only its proposer). A member that missed it (it arrived while the member was still one
 * height behind, or the link dropped it) has no second chance once its author is down. While every
 * member is up the others decide without it; with one member down a decision needs every remaining
 * member, so one miss stalled the whole group (issue 18: one member partitioned, no pin for the
 * phase). Members answer from what they hold; the asker checks the hash and then the value through the
 * same `offer` as a gossiped one.
 */
import { equalBytes, type Bytes } from '../core/bytes.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import {
	decodeBatchProposal,
	encodeBatchProposal,
	MAX_PROPOSAL_BYTES,
	proposalHash
} from '../core/gossip.ts';
import type { BatchProposal } from '../core/gossip.ts';
import { decodeKeyblock, encodeKeyblock, keyblockHash, type Keyblock } from '../core/keyblock.ts';
import { ValidationError } from '../core/errors.ts';
import * as read from '../core/schema.ts';
import { DEFAULT_MAX_MESSAGE_BYTES, type PeerNet } from '../net/peer-net.ts';
import { call, codec, defineProtocol, serve } from '../net/protocol.ts';

const KINDS = ['keyblock', 'proposal'] as const;
export type ValueKind = (typeof KINDS)[number];

export interface ValueRequest {
	kind: ValueKind;
	hash: Bytes;
}

/** Peers asked at once for one value; the first answer whose hash matches wins, the rest are cut. */
const ASKED_AT_ONCE = 6;
/** The largest value: a keyblock (a gossip message) or a batch proposal. */
const MAX_VALUE_BYTES = Math.max(DEFAULT_MAX_MESSAGE_BYTES, MAX_PROPOSAL_BYTES);

export const VALUE_PROTOCOL = defineProtocol({
	id: '/spchain/consensus-value/1.0.0',
	request: codec<ValueRequest>(
		(r) => encodeCanonical({ kind: r.kind, hash: r.hash }),
		(bytes) => {
			const o = read.object(decodeCanonical(bytes, 128), 'valueRequest', ['kind', 'hash']);
			return {
				kind: read.oneOf(o.kind, 'valueRequest.kind', KINDS),
				hash: read.bytes(o.hash, 'valueRequest.hash', 32)
			};
		}
	),
	// The value's own encoding, or no bytes when this peer does not hold it.
	response: codec<Bytes>(
		(bytes) => encodeCanonical({ value: bytes }),
		(bytes) =>
			read.bytes(
				read.object(decodeCanonical(bytes, MAX_VALUE_BYTES + 64), 'valueAnswer', ['value']).value,
				'valueAnswer.value',
				{ max: MAX_VALUE_BYTES }
			)
	),
	maxBytes: MAX_VALUE_BYTES + 64,
	timeoutMs: 2500
});

/** What a node holds, by hash: its keyblock candidates and its kept batch proposals. */
export interface HeldValues {
	keyblockCandidate(hash: Bytes): Keyblock | undefined;
	proposal(hash: Bytes): BatchProposal | undefined;
}

export function serveValues(net: Pick<PeerNet, 'handle'>, held: HeldValues): void {
	serve(net, VALUE_PROTOCOL, async ({ kind, hash }) => {
		if (kind === 'keyblock') {
			const block = held.keyblockCandidate(hash);
			return block ? encodeKeyblock({ ...block, pin: undefined }) : new Uint8Array(0);
		}
		const proposal = held.proposal(hash);
		return proposal ? encodeBatchProposal(proposal) : new Uint8Array(0);
	});
}

/**
 * Asks connected peers for the value behind `hash`; resolves with the first answer whose hash matches
 * (decoded only, its checks are the caller's `offer`), or null when none had it in time. Peers that
 * answer with other bytes are penalised: nobody asked them for those.
 */
export async function fetchValue(
	net: Pick<PeerNet, 'peers' | 'request' | 'penalise'>,
	kind: 'keyblock',
	hash: Bytes,
	maxRegisters: number
): Promise<Keyblock | null>;
export async function fetchValue(
	net: Pick<PeerNet, 'peers' | 'request' | 'penalise'>,
	kind: 'proposal',
	hash: Bytes
): Promise<BatchProposal | null>;
export async function fetchValue(
	net: Pick<PeerNet, 'peers' | 'request' | 'penalise'>,
	kind: ValueKind,
	hash: Bytes,
	maxRegisters = 0
): Promise<Keyblock | BatchProposal | null> {
	const peers = shuffled(net.peers()).slice(0, ASKED_AT_ONCE);
	if (peers.length === 0) return null;
	const controller = new AbortController();
	const ask = async (peer: string) => {
		const bytes = await call(net, peer, VALUE_PROTOCOL, { kind, hash }, { signal: controller.signal });
		if (bytes.length === 0) throw new Error('not held');
		let value: Keyblock | BatchProposal;
		try {
			value = kind === 'keyblock' ? decodeKeyblock(bytes, maxRegisters) : decodeBatchProposal(bytes);
			const got =
				kind === 'keyblock' ? keyblockHash((value as Keyblock).header) : proposalHash(value as BatchProposal);
			if (!equalBytes(got, hash)) throw new Error('another value than the one asked for');
		} catch (error) {
			// An honest peer answers with the asked value or nothing.
			net.penalise(peer, `answered a ${kind} request with bytes that are not it`);
			throw error;
		}
		return value;
	};
	try {
		return await Promise.any(peers.map(ask));
	} catch {
		return null;
	} finally {
		controller.abort(new Error('fetched'));
	}
}

function shuffled<T>(items: T[]): T[] {
	const out = [...items];
	for (let i = out.length - 1; i > 0; i--) {
		const j = Math.floor(Math.random() * (i + 1));
		[out[i], out[j]] = [out[j]!, out[i]!];
	}
	return out;
}

/** A fetched value that fails its checks is simply not valid; anything else is a fault of ours. */
export function refusedAsInvalid(error: unknown): false {
	if (error instanceof ValidationError) return false;
	throw error;
}
