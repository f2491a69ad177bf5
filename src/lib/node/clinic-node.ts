/**
 * A headless clinic node: the same FullNode a clinic tab runs, wired to Node adapters (a file-backed
 * store, libp2p over WebSockets (and WebRTC through node-datachannel) with the relay as bootstrap, the
 * in-process SNARK prover, and worker_threads miners). `npm start` runs a few of these so a lone
 * visitor finds a live consortium.
 */
import { bytesToHex } from '../core/bytes.ts';
import type { DevInstitution } from '../core/genesis-dev.ts';
import type { GenesisConfig } from '../core/genesis.ts';
import { loadVerificationKey } from '../crypto/artifacts.node.ts';
import { installWasmBackends } from '../crypto/wasm-backends.node.ts';
import { Groth16BatchVerifier } from '../crypto/batch-verifier.ts';
import { createNodeProver } from '../crypto/prover.node.ts';
import { MinerPool } from '../mining/pool.ts';
import { spawnMiner } from '../mining/spawn.node.ts';
import { createPeerNet } from '../net/peer-net.node.ts';
import { FullNode } from '../runtime/full-node.ts';
import type { TimeoutConfig } from '../core/consensus/machine.ts';
import { openStore } from '../store/store.node.ts';

export interface ClinicNodeOptions {
	genesis: GenesisConfig;
	clinic: DevInstitution;
	/** Directory of this clinic's store. */
	dataDir: string;
	bootstrap: string[];
	/** Multiaddrs to listen on, e.g. /ip4/127.0.0.1/tcp/9101/ws. */
	listen: string[];
	/** Mining workers (0: this node does not mine). */
	miners: number;
	/** Share of time they hash (default 1). */
	miningDuty?: number;
	timeouts?: TimeoutConfig;
}

export interface ClinicNode {
	node: FullNode;
	addresses(): string[];
	stop(): Promise<void>;
}

export async function startClinicNode(options: ClinicNodeOptions): Promise<ClinicNode> {
	const { clinic } = options;
	// Signatures and votes are checked on libsecp256k1 and mcl in WASM (same verdicts as noble, faster).
	await installWasmBackends();
	const store = await openStore(options.dataDir);
	const net = await createPeerNet({ bootstrap: options.bootstrap, listen: options.listen });
	// Proofs count only under the verification key the consortium's genesis pins.
	const verifier = await Groth16BatchVerifier.create(
		await loadVerificationKey(),
		bytesToHex(options.genesis.chameleonVkeyHash)
	);
	const prover = await createNodeProver();
	const pool = options.miners > 0 ? new MinerPool({ workers: options.miners, spawn: spawnMiner }) : undefined;
	const node = await FullNode.start({
		genesis: options.genesis,
		store,
		net,
		verifier,
		timeouts: options.timeouts,
		institution: {
			id: clinic.institution.id,
			signingKey: clinic.secrets.signingKey,
			blsKey: clinic.secrets.blsKey,
			chameleonKey: clinic.institution.chameleonKey,
			trapdoor: clinic.secrets.trapdoor,
			prover,
			pool,
			miningDuty: options.miningDuty
		}
	});
	return {
		node,
		addresses: () => net.addresses(),
		stop: async () => {
			await node.stop();
			pool?.terminate();
			await net.stop();
			await prover.close();
			await store.close();
		}
	};
}
