/**
 * A full node in the page: the FullNode wired to the browser adapters (IndexedDB store, libp2p with
 * WebRTC through the relay, the Groth16 verifier, the prover and miners in Web Workers). The network
 * it joins is read from `/network.json` (served next to the PWA by the local demo network), or from the
 * `relay` query parameter.
 */
import { base } from '$app/paths';
import { devGenesis } from '../core/genesis-dev.ts';
import type { GenesisConfig } from '../core/genesis.ts';
import { loadVerificationKey } from '../crypto/artifacts.browser.ts';
import { Groth16BatchVerifier } from '../crypto/batch-verifier.ts';
import { MinerPool } from '../mining/pool.ts';
import { spawnMiner } from '../mining/spawn.browser.ts';
import { createPeerNet } from '../net/peer-net.browser.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { FullNode, type InstitutionRole } from '../runtime/full-node.ts';
import { openStore } from '../store/store.browser.ts';
import type { Store } from '../store/store.ts';
import { WorkerProver } from '../workers/prover-client.ts';
import { AppError } from './types.ts';

export interface NetworkInfo {
	relay: string[];
	clinics?: { name: string; addresses: string[] }[];
}

/** Where to find the network: `?relay=<multiaddr>` wins, then /network.json. */
export async function networkInfo(): Promise<NetworkInfo> {
	const fromQuery = new URL(location.href).searchParams.getAll('relay');
	if (fromQuery.length > 0) return { relay: fromQuery };
	try {
		const response = await fetch(`${base}/network.json`, { cache: 'no-store' });
		if (response.ok) return (await response.json()) as NetworkInfo;
	} catch {
		// offline: the node still opens its stored chain and waits for peers
	}
	return { relay: [] };
}

export interface BrowserNode {
	node: FullNode;
	net: PeerNet;
	store: Store;
	genesis: GenesisConfig;
	snarkBase: URL;
	prover(): WorkerProver;
	/** Hashes tried by this tab's miners so far (for the rate display). */
	hashes(): number;
	close(): Promise<void>;
}

export interface BrowserNodeOptions {
	profile: string;
	/** Secrets of the institution this tab runs (absent for a patient or a visitor). */
	institution?: Omit<InstitutionRole, 'prover' | 'pool'>;
	miners?: number;
}

export async function openBrowserNode(options: BrowserNodeOptions): Promise<BrowserNode> {
	const genesis = devGenesis();
	const snarkBase = new URL(`${base}/snark/`, location.href);
	let prover: WorkerProver | undefined;
	const getProver = () => (prover ??= new WorkerProver(snarkBase));
	const store = await openStore(options.profile);
	const info = await networkInfo();
	const bootstrap = [...info.relay, ...(info.clinics ?? []).flatMap((c) => c.addresses)];
	const net = await createPeerNet({ bootstrap });
	let verifier: Groth16BatchVerifier;
	try {
		verifier = await Groth16BatchVerifier.create(await loadVerificationKey(snarkBase));
	} catch (error) {
		throw new AppError('verifier', `The proof verifier could not start: ${(error as Error).message}`);
	}
	const pool =
		options.institution && (options.miners ?? 1) > 0
			? new MinerPool({ workers: options.miners ?? 1, spawn: spawnMiner })
			: undefined;
	const lazyProver = {
		prove: (...args: Parameters<WorkerProver['prove']>) => getProver().prove(...args),
		close: async () => prover?.close()
	};
	const node = await FullNode.start({
		genesis,
		store,
		net,
		verifier,
		institution: options.institution ? { ...options.institution, prover: lazyProver, pool } : undefined
	});
	return {
		node,
		net,
		store,
		genesis,
		snarkBase,
		prover: getProver,
		hashes: () => pool?.stats.reduce((sum, s) => sum + s.hashes, 0) ?? 0,
		close: async () => {
			await node.stop();
			pool?.terminate();
			await prover?.close();
			await net.stop();
			await store.close();
		}
	};
}
