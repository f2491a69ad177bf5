/**
 * What a full node (full-node.ts) is given when it starts, and what it reports: its status and its
 * events, which the app, the diagnostics and the logs read.
 */
import type { Bytes } from '../core/bytes.ts';
import type { ChameleonVerifier } from '../core/chameleon.ts';
import type { TimeoutConfig } from '../core/consensus/machine.ts';
import type { GenesisConfig } from '../core/genesis.ts';
import type { ChameleonProver } from '../crypto/chameleon-prover.ts';
import type { MinerPool } from '../mining/pool.ts';
import type { PeerNet, Topic } from '../net/peer-net.ts';
import type { Store } from '../store/store.ts';
import type { ChainFact } from './chain-fact.ts';
import type { SyncProgress } from './chain-sync.ts';
import type { InvalidFact, VerificationProgress } from './certified-sync.ts';
import type { JournalReads } from './stored-journal.ts';

/** An institution's secrets and workers, for nodes run by a consortium member. */
export interface InstitutionRole {
	id: Bytes;
	/** The id's signing secret; after key rotations, the others (oldest first) follow in `rotatedKeys`. */
	signingKey: Bytes;
	/** Live list of rotated signing secrets (InstitutionSecrets.rotatedSigningKeys): a new one joins it. */
	rotatedKeys?: readonly Bytes[];
	blsKey: Bytes;
	chameleonKey: Bytes;
	trapdoor: bigint;
	prover: ChameleonProver;
	/** Mining workers; absent for an institution node that does not mine. */
	pool?: MinerPool;
	/** Share of time the miners hash (default 1). */
	miningDuty?: number;
}

export interface FullNodeOptions {
	genesis: GenesisConfig;
	store: Store;
	net: PeerNet;
	verifier: ChameleonVerifier;
	institution?: InstitutionRole;
	/** T_m of Algorithm 2. */
	batchCapacity?: number;
	timeouts?: TimeoutConfig;
	clock?: () => number;
	/** The store's journal, read ahead while the rest of the start-up ran (ChainStateOptions.journal). */
	journal?: Promise<JournalReads>;
}

export interface NodeStatus {
	peerId: string;
	peers: number;
	height: number;
	batches: number;
	patients: number;
	mempool: number;
	member: boolean;
	mining: boolean;
	syncing: SyncProgress | null;
	/** Whether the chain is verified in full or certified only, and a fact found invalid (certified-sync.ts). */
	verification: VerificationProgress;
}

export type NodeEvent =
	| { type: 'fact'; fact: ChainFact }
	| { type: 'status' }
	| { type: 'error'; message: string }
	/** A certified fact failed its background verification: the chain takes nothing more (certified-sync.ts). */
	| { type: 'invalid'; invalid: InvalidFact }
	| { type: 'penalised'; peer: string; reason: string }
	/** A gossip message this node did not take, and why (a log's view of what the network sends). */
	| { type: 'refused'; topic: Topic; code: string; message: string; blamed: boolean }
	/** A transaction waiting here that the chain can no longer take (mempool.ts prune): it left the pool. */
	| { type: 'dropped'; id: Bytes; code: string; message: string };
