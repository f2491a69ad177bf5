/**
 * Peer discovery. Every PeerNet node serves MEMBER_PROTOCOL, which answers with the SPChain peers it
 * is connected to (peer id and the addresses identify told it). The relay can serve the same list
 * under RELAY_DIRECTORY_PROTOCOL (`servePeerDirectory(relay.node)`): it sees every page that holds a
 * reservation, so two pages that only know the relay find each other through it. A node asks the
 * peers it is connected to every few seconds and dials the ones it does not know yet; for a list that
 * came from a relay it also tries `<relay>/p2p-circuit/webrtc/p2p/<id>`, the address that signals a
 * direct WebRTC connection through that relay.
 */
import type { Libp2p, PeerId, PeerStore, Stream } from '@libp2p/interface';
import { readFrames, sendFrame, withTimeout } from './frames.ts';

export const MEMBER_PROTOCOL = '/spchain/peers/1.0.0';
export const RELAY_DIRECTORY_PROTOCOL = '/spchain/relay-peers/1.0.0';
export const HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop';

export interface DirectoryEntry {
	id: string;
	addrs: string[];
}

const MAX_ENTRIES = 256;
const MAX_LIST_BYTES = 256 * 1024;

/** What a directory answer is read from: a libp2p node, or the discovery service's components. */
export interface DirectorySource {
	getPeers(): PeerId[];
	peerStore: Pick<PeerStore, 'get'>;
}

/** The connected peers that speak MEMBER_PROTOCOL (learned through identify), with their addresses. */
export async function memberEntries(node: DirectorySource, exclude?: string): Promise<DirectoryEntry[]> {
	const entries: DirectoryEntry[] = [];
	for (const peerId of node.getPeers()) {
		const id = peerId.toString();
		if (id === exclude) continue;
		try {
			const peer = await node.peerStore.get(peerId);
			if (!peer.protocols.includes(MEMBER_PROTOCOL)) continue;
			entries.push({ id, addrs: peer.addresses.map((a) => a.multiaddr.toString()).slice(0, 16) });
		} catch {
			// not in the peer store (yet)
		}
		if (entries.length >= MAX_ENTRIES) break;
	}
	return entries;
}

/** Answers one directory request on `stream`. */
export async function answerDirectory(node: DirectorySource, stream: Stream, asker: PeerId): Promise<void> {
	try {
		const entries = await memberEntries(node, asker.toString());
		await sendFrame(stream, new TextEncoder().encode(JSON.stringify(entries)));
		await stream.close();
	} catch (error) {
		stream.abort(error as Error);
	}
}

/** Makes a libp2p node (the relay) answer RELAY_DIRECTORY_PROTOCOL with its connected SPChain peers. */
export async function servePeerDirectory(node: DirectorySource & Pick<Libp2p, 'handle'>): Promise<void> {
	await node.handle(
		RELAY_DIRECTORY_PROTOCOL,
		(stream, connection) => answerDirectory(node, stream, connection.remotePeer),
		{ maxInboundStreams: 64 }
	);
}

/** Reads a directory answer (at most MAX_ENTRIES entries of strings; anything else is dropped). */
export async function readDirectory(stream: Stream): Promise<DirectoryEntry[]> {
	const frames = readFrames(stream, MAX_LIST_BYTES);
	const first = await withTimeout(frames.next(), 10_000, 'directory');
	await stream.close().catch(() => undefined);
	if (first.done) return [];
	const parsed: unknown = JSON.parse(new TextDecoder().decode(first.value));
	if (!Array.isArray(parsed)) return [];
	const entries: DirectoryEntry[] = [];
	for (const item of parsed.slice(0, MAX_ENTRIES)) {
		if (typeof item !== 'object' || item === null) continue;
		const { id, addrs } = item as { id?: unknown; addrs?: unknown };
		if (typeof id !== 'string' || !Array.isArray(addrs)) continue;
		entries.push({ id, addrs: addrs.filter((a): a is string => typeof a === 'string').slice(0, 16) });
	}
	return entries;
}
