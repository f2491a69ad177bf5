/**
 * A headless clinic node: the same FullNode a clinic tab runs, wired to Node adapters (a file-backed
 * store, libp2p over WebSockets (and WebRTC through node-datachannel) with the relay as bootstrap, the
 * in-process SNARK prover, and worker_threads miners) and made a whole institution by the same
 * composition root as a clinic tab (institution/institution-node.ts): it holds the records it writes,
 * answers access requests and receives shares. `npm start` runs a few of these so a lone visitor finds
 * a live consortium.
 */
import { bytesToHex } from '../core/bytes.ts';
import type { GenesisConfig } from '../core/genesis.ts';
import { loadVerificationKey } from '../crypto/artifacts.node.ts';
import { installWasmBackends } from '../crypto/wasm-backends.node.ts';
import { Groth16BatchVerifier } from '../crypto/batch-verifier.ts';
import { createNodeProver } from '../crypto/prover.node.ts';
import { MinerPool } from '../mining/pool.ts';
import { spawnMiner } from '../mining/spawn.node.ts';
import { createPeerNet } from '../net/peer-net.node.ts';
import { ProtectedPeers } from '../institution/protected-peers.ts';
import { FullNode } from '../runtime/full-node.ts';
import {
	composeInstitution,
	institutionRole,
	type InstitutionNode
} from '../institution/institution-node.ts';
import type { InstitutionIdentity } from '../keys/institution.ts';
import { guardGenesis } from '../institution/genesis-guard.ts';
import { pinGenesis } from '../institution/genesis-pin.ts';
import type { TimeoutConfig } from '../core/consensus/machine.ts';
import { openStore } from '../store/store.node.ts';
import type { AdmissionPolicy } from '../institution/institution-admission.ts';
import { saveInstitutionIdentity } from '../keys/secrets.ts';
import { openKeystore } from './keystore.ts';
import { watchOperatorRequests } from './operator-requests.ts';

export interface ClinicNodeOptions {
	genesis: GenesisConfig;
	clinic: InstitutionIdentity;
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
	/** How this clinic answers applications to join the consortium (default 'manual'). */
	admission?: AdmissionPolicy;
	/** The passphrase of its keystore (`dataDir`), where a key rotation keeps the new key. */
	passphrase?: string;
	/** Where operator requests (node/operator-requests.ts) are logged (default console.log). */
	log?: (line: string) => void;
}

export interface ClinicNode extends InstitutionNode {
	node: FullNode;
	addresses(): string[];
	stop(): Promise<void>;
}

export async function startClinicNode(options: ClinicNodeOptions): Promise<ClinicNode> {
	const { clinic } = options;
	// Signatures and votes are checked on libsecp256k1 and mcl in WASM (same verdicts as noble, faster).
	await installWasmBackends();
	const store = await openStore(options.dataDir);
	try {
		await pinGenesis(store, options.genesis);
	} catch (error) {
		await store.close();
		throw error;
	}
	const protection = new ProtectedPeers();
	const net = await createPeerNet({
		bootstrap: options.bootstrap,
		listen: options.listen,
		isProtected: protection.isProtected
	});
	guardGenesis(net, options.genesis, (refusal) =>
		console.log(`${clinic.institution.name}: ${refusal.message}`)
	);
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
		institution: institutionRole(clinic, prover, pool, options.miningDuty)
	});
	const institution = await composeInstitution({
		identity: clinic,
		node,
		net,
		store,
		prover: () => prover,
		protection,
		admission: options.admission
	});
	const log = options.log ?? ((line: string) => console.log(`${clinic.institution.name}: ${line}`));
	const stopRequests = await watchOperatorRequests({
		dir: options.dataDir,
		desk: institution.admission.desk,
		node,
		identity: clinic,
		save: async (secrets) => {
			const keystore = await openKeystore({ dir: options.dataDir, passphrase: options.passphrase });
			try {
				await saveInstitutionIdentity(keystore.vault, clinic.institution.name, secrets);
			} finally {
				await keystore.close();
			}
		},
		log
	});
	return {
		...institution,
		node,
		addresses: () => net.addresses(),
		stop: async () => {
			stopRequests();
			institution.admission.stop();
			await node.stop();
			pool?.terminate();
			await net.stop();
			await prover.close();
			await store.close();
		}
	};
}
