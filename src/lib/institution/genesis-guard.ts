/**
 * Peers on another chain are refused at the door. Every node answers `/spchain/genesis` with its
 * genesis hash and asks each SPChain peer that connects for theirs; a peer on another genesis is told
 * nothing more: it is penalised until banned (disconnected and refused for the ban period), and the
 * node reports it with both networks' fingerprints, instead of the peer's blocks and votes failing one
 * by one against rules of a chain it does not run.
 */
import { bytesToHex, equalBytes } from '../core/bytes.ts';
import { genesisFingerprint, genesisHash, type GenesisConfig } from '../core/genesis.ts';
import type { PeerNet } from '../net/peer-net.ts';

export const GENESIS_PROTOCOL = '/spchain/genesis/1.0.0';
/** Penalties are bounded per call; this many always reach the ban threshold. */
const MAX_PENALTIES = 1000;

export interface ForeignPeer {
	peer: string;
	/** The peer's genesis hash (hex). */
	genesis: string;
	message: string;
}

export interface GenesisGuard {
	/** Peers refused so far (newest last). */
	refused(): ForeignPeer[];
	/** Asks one peer now (also done on every connection); resolves to whether it runs our genesis. */
	check(peer: string): Promise<boolean | undefined>;
}

export function guardGenesis(
	net: PeerNet,
	genesis: GenesisConfig,
	onRefused: (refusal: ForeignPeer) => void = () => undefined
): GenesisGuard {
	const ours = genesisHash(genesis);
	const refused: ForeignPeer[] = [];
	net.handle(GENESIS_PROTOCOL, async function* () {
		yield ours;
	});
	async function check(peer: string): Promise<boolean | undefined> {
		let theirs: Uint8Array | undefined;
		try {
			for await (const frame of net.request(peer, GENESIS_PROTOCOL, new Uint8Array(0))) {
				theirs = frame;
				break;
			}
		} catch {
			return undefined; // gone, or an older node: its blocks are still checked by the chain rules
		}
		if (!theirs) return undefined;
		if (equalBytes(theirs, ours)) return true;
		const refusal: ForeignPeer = {
			peer,
			genesis: bytesToHex(theirs),
			message: `refused peer ${peer.slice(-8)}: it runs another network (genesis ${bytesToHex(theirs).slice(0, 16)}…), not ${genesis.network} (genesis ${genesisFingerprint(genesis)})`
		};
		refused.push(refusal);
		onRefused(refusal);
		for (let i = 0; i < MAX_PENALTIES && net.peers().includes(peer); i++)
			net.penalise(peer, `another network (genesis ${bytesToHex(theirs).slice(0, 16)}…)`);
		return false;
	}
	net.addEventListener('peer:connect', (event) => void check(event.detail));
	for (const peer of net.peers()) void check(peer);
	return { refused: () => [...refused], check };
}
