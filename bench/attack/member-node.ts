/**
 * A consensus-group member as the benches run it in a process of its own (attack/member-main.ts,
 * throughput/deployment-member.ts): the real FullNode of one dev institution on a LevelDB store,
 * over real libp2p, with a WASM miner, its own verifier and prover, and the consortium's peers protected.
 */
import { fromHex } from '../../src/lib/core/bytes.ts';
import type { GenesisConfig } from '../../src/lib/core/genesis.ts';
import { loadVerificationKey } from '../../src/lib/crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../../src/lib/crypto/batch-verifier.ts';
import { createNodeProver } from '../../src/lib/crypto/prover.node.ts';
import { MinerPool } from '../../src/lib/mining/pool.ts';
import { spawnMiner } from '../../src/lib/mining/spawn.node.ts';
import { createPeerNet } from '../../src/lib/net/peer-net.node.ts';
import type { PeerNet } from '../../src/lib/net/peer-net.ts';
import { FullNode } from '../../src/lib/runtime/full-node.ts';
import { institutionRole } from '../../src/lib/institution/institution-node.ts';
import { openStore } from '../../src/lib/store/store.node.ts';
import { devInstitution } from '../../tests/fixtures/genesis-dev.ts';
import type { MemberSetup } from './protocol.ts';

export interface MemberNode {
	net: PeerNet;
	node: FullNode;
	pool: MinerPool;
}

export async function startMemberNode(
	setup: MemberSetup,
	genesis: GenesisConfig,
	name: string
): Promise<MemberNode> {
	const clinic = devInstitution(name);
	const protectedIds = new Set(setup.protectedIds);
	const net = await createPeerNet({
		bootstrap: setup.bootstrap,
		listen: setup.listen,
		privateKey: fromHex(setup.privateKey),
		isProtected: (peer) => protectedIds.has(peer)
	});
	const pool = new MinerPool({ workers: 1, spawn: spawnMiner });
	const node = await FullNode.start({
		genesis,
		store: await openStore(setup.storeDir),
		net,
		verifier: await Groth16BatchVerifier.create(await loadVerificationKey()),
		// The role a clinic node composes (node/clinic-node.ts), mining a quarter of the time.
		institution: institutionRole(clinic, await createNodeProver(), pool, 0.25)
	});
	return { net, node, pool };
}
