/**
 * The outsider of the attack bench: a libp2p peer with no consortium keys (its own PeerNet, so it
 * speaks the real protocols) that floods the honest nodes with what issue 18 saw stall the chain:
 * random bytes on every topic, forged votes of the current and later heights, junk batch proposals
 * under a member's name, correctly signed registers for far-future rounds, oversized frames, and
 * replays of the consensus messages it overheard; and streams it opens on the sync protocol and then
 * leaves silent (nothing sent) or half-open (a request frame begun and never finished, the answer never
 * read). Each gossip kind is one payload per step; the bench paces them.
 */
import { randomBytes } from 'node:crypto';
import type { Bytes } from '../../src/lib/core/bytes.ts';
import { blsSign } from '../../src/lib/core/consensus/bls.ts';
import { devMember } from '../../tests/fixtures/dev-members.ts';
import { encodeMessage, type Vote } from '../../src/lib/core/consensus/messages.ts';
import type { DevInstitution } from '../../tests/fixtures/genesis-dev.ts';
import type { GenesisConfig } from '../../src/lib/core/genesis.ts';
import {
	encodeBatchMessage,
	encodeConsensusEnvelope,
	type BatchProposal
} from '../../src/lib/core/gossip.ts';
import { encodeTransaction } from '../../src/lib/core/transaction.ts';
import type { Libp2p } from '@libp2p/interface';
import type { Stream } from '@libp2p/interface';
import { startSpchainNode } from '../../src/lib/net/net-core.ts';
import { DEFAULT_NODE_LISTEN } from '../../src/lib/net/peer-net.node.ts';
import { TOPICS, type PeerNet, type Topic } from '../../src/lib/net/peer-net.ts';
import { SYNC_PROTOCOL } from '../../src/lib/runtime/chain-sync.ts';
import { medicalTx, patientKeys, registerTx } from '../../tests/fixtures/chain.ts';

export type AttackKind =
	| 'random'
	| 'forged-votes'
	| 'future-votes'
	| 'junk-proposals'
	| 'future-registers'
	| 'oversized'
	| 'replay'
	| 'silent-streams'
	| 'half-open-streams';

const STREAM_KINDS: readonly AttackKind[] = ['silent-streams', 'half-open-streams'];

export interface Payload {
	topic: Topic;
	data: Bytes;
}

/** What the attacker knows of the honest chain (read from a node, as a watching peer would). */
export interface ChainView {
	height(): number;
	batches(): number;
}

export class Attacker {
	/** Consensus messages overheard, for replay (bounded). */
	private readonly overheard: Bytes[] = [];
	/** One valid G2 point, so forged votes cost the receiver a real pairing check. */
	private readonly signature = blsSign(devMember(990, 0.5).secretKey, new Uint8Array([1, 2, 3]));
	private readonly registers: Bytes[];
	private readonly proposalTx;
	/** Streams held open by the stream attacks (never closed by the attacker). */
	private readonly held: Stream[] = [];

	private constructor(
		readonly net: PeerNet,
		private readonly node: Libp2p,
		private readonly genesis: GenesisConfig,
		private readonly members: DevInstitution[],
		private readonly view: ChainView
	) {
		const mallory = patientKeys(`attacker ${net.peerId}`);
		this.registers = Array.from({ length: 64 }, (_, k) =>
			encodeTransaction(registerTx(genesis, mallory, members[0]!, 1_000_000 + k, `far ${k}`))
		);
		this.proposalTx = Array.from({ length: 8 }, (_, k) =>
			medicalTx(genesis, mallory, members[0]!, 1, `junk ${net.peerId} ${k}`)
		);
	}

	static async start(
		bootstrap: string[],
		genesis: GenesisConfig,
		members: DevInstitution[],
		view: ChainView
	): Promise<Attacker> {
		// Its frames may be larger than the honest limit (to send oversized ones).
		const { net, node } = await startSpchainNode(
			{ listen: [...DEFAULT_NODE_LISTEN, '/p2p-circuit', '/webrtc'] },
			{ bootstrap, maxMessageBytes: 4 * 1024 * 1024 }
		);
		const attacker = new Attacker(net, node, genesis, members, view);
		for (const topic of TOPICS)
			net.subscribe(topic, async (data) => {
				if (topic === 'consensus' && attacker.overheard.length < 2048) attacker.overheard.push(data);
				return 'ignore';
			});
		return attacker;
	}

	/** The k-th payload of an attack (k varies it, so gossipsub's seen-cache does not drop repeats). */
	payload(kind: AttackKind, k: number): Payload | null {
		switch (kind) {
			case 'random':
				return { topic: TOPICS[k % TOPICS.length]!, data: randomBytes(64 + (k % 512)) };
			case 'forged-votes':
				return { topic: 'consensus', data: this.forgedVote(this.view.height() + 1, k) };
			case 'future-votes':
				return { topic: 'consensus', data: this.forgedVote(this.view.height() + 2 + (k % 2), k) };
			case 'junk-proposals':
				return { topic: 'batches', data: this.junkProposal(k) };
			case 'future-registers':
				return { topic: 'transactions', data: this.registers[k % this.registers.length]! };
			case 'oversized':
				return { topic: TOPICS[k % TOPICS.length]!, data: randomBytes(2 * 1024 * 1024) };
			case 'replay':
				return this.overheard.length === 0
					? null
					: { topic: 'consensus', data: this.overheard[k % this.overheard.length]! };
			default:
				return null; // the stream attacks send no gossip
		}
	}

	/** Opens one sync stream on each connected member and leaves it silent or half-open. */
	private async openStreams(kind: AttackKind): Promise<number> {
		let opened = 0;
		for (const peer of this.net.peers()) {
			const connection = this.node.getConnections().find((c) => c.remotePeer.toString() === peer);
			if (!connection) continue;
			try {
				const stream = await connection.newStream(SYNC_PROTOCOL, { signal: AbortSignal.timeout(2000) });
				// half-open: a length prefix of 100 bytes, then 3 of them, then nothing (and never a read)
				if (kind === 'half-open-streams') stream.send(Uint8Array.from([100, 1, 2, 3]));
				this.held.push(stream);
				opened++;
			} catch {
				// refused (its share of streams is full): that is the defence at work
			}
		}
		return opened;
	}

	private forgedVote(height: number, k: number): Bytes {
		const member = this.members[k % this.members.length]!;
		const vote: Vote = {
			type: k % 2 === 0 ? 'prevote' : 'precommit',
			kind: 'keyblock',
			height,
			round: k % 3,
			value: randomBytes(32),
			sender: member.institution.id,
			signature: this.signature
		};
		return encodeConsensusEnvelope({ kind: 'keyblock', message: encodeMessage(vote) });
	}

	private junkProposal(k: number): Bytes {
		const proposal: BatchProposal = {
			sequence: this.view.batches() + 1,
			round: this.view.height(),
			institution: this.members[k % this.members.length]!.institution.id,
			transactions: [this.proposalTx[k % this.proposalTx.length]!]
		};
		return encodeBatchMessage({ type: 'proposal', proposal });
	}

	/** Publishes `kind` at about `perSecond` until `until` (ms since epoch). Returns how many were sent. */
	async flood(kind: AttackKind, perSecond: number, until: number): Promise<number> {
		let sent = 0;
		const tick = 100;
		const perTick = Math.max(1, Math.round((perSecond * tick) / 1000));
		while (Date.now() < until) {
			const started = Date.now();
			for (let i = 0; i < perTick; i++) {
				if (STREAM_KINDS.includes(kind)) {
					sent += await this.openStreams(kind);
					continue;
				}
				const payload = this.payload(kind, sent);
				if (!payload) break;
				try {
					await this.net.publish(payload.topic, payload.data);
					sent++;
				} catch {
					// banned, disconnected or no peers: keep trying, like an attacker would
				}
			}
			await new Promise((resolve) => setTimeout(resolve, Math.max(0, tick - (Date.now() - started))));
		}
		return sent;
	}

	stop(): Promise<void> {
		this.held.length = 0;
		return this.net.stop();
	}
}
