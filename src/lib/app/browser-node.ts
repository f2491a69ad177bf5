/**
 * A full node in the page: the FullNode wired to the browser adapters (IndexedDB store, libp2p with
 * WebRTC through the relay, the Groth16 verifier, the prover and miners in Web Workers). The network
 * it joins is read from `/network.json` (served next to the PWA by the local demo network), or from the
 * `relay` query parameter.
 */
import { base } from '$app/paths';
import { bytesToHex } from '../core/bytes.ts';
import { devGenesis } from '../../../tests/fixtures/genesis-dev.ts';
import type { GenesisConfig } from '../core/genesis.ts';
import { loadVerificationKey } from '../crypto/artifacts.browser.ts';
import { Groth16BatchVerifier } from '../crypto/batch-verifier.ts';
import type { MiningControl } from '../mining/control.ts';
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
	/** Worker count and pause of this tab's miners (institution tabs that mine). */
	mining?: MiningControl;
	close(): Promise<void>;
}

export interface BrowserNodeOptions {
	profile: string;
	/** Secrets of the institution this tab runs (absent for a patient or a visitor). */
	institution?: Omit<InstitutionRole, 'prover' | 'pool'>;
	/** Mining workers (0: none); by default the count last chosen in this profile, else 1. */
	miners?: number;
}

/** The user's worker count, a plain preference (no secret) kept with the profile's node data. */
const WORKERS_KEY = 'mining-workers';

async function savedWorkers(store: Store): Promise<number | undefined> {
	const bytes = await store.get('meta', WORKERS_KEY);
	const workers = bytes && Number(new TextDecoder().decode(bytes));
	return workers && Number.isInteger(workers) && workers > 0 ? workers : undefined;
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
		// Proofs count only under the verification key the consortium's genesis pins.
		verifier = await Groth16BatchVerifier.create(
			await loadVerificationKey(snarkBase),
			bytesToHex(genesis.chameleonVkeyHash)
		);
	} catch (error) {
		throw new AppError('verifier', `The proof verifier could not start: ${(error as Error).message}`);
	}
	const maxWorkers = Math.max(1, navigator.hardwareConcurrency || 1);
	const miners = options.institution
		? (options.miners ?? Math.min((await savedWorkers(store)) ?? 1, maxWorkers))
		: 0;
	const pool = miners > 0 ? new MinerPool({ workers: miners, spawn: spawnMiner }) : undefined;
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
	// The node panel's worker count and pause (the page gets start/stop from the session).
	const mining: MiningControl | undefined = pool
		? {
				maxWorkers,
				get workers() {
					return pool.workers;
				},
				get paused() {
					return pool.paused;
				},
				async setWorkers(workers) {
					if (!Number.isInteger(workers) || workers < 1 || workers > maxWorkers)
						throw new AppError('mining-workers', `Choose between 1 and ${maxWorkers} mining workers.`);
					pool.resize(workers);
					const value = new TextEncoder().encode(String(workers));
					await store.write([{ table: 'meta', key: WORKERS_KEY, value }]);
				},
				pause: () => pool.pause(),
				resume: () => pool.resume()
			}
		: undefined;
	return {
		node,
		net,
		store,
		genesis,
		snarkBase,
		prover: getProver,
		hashes: () => pool?.hashes ?? 0,
		mining,
		close: async () => {
			await node.stop();
			pool?.terminate();
			await prover?.close();
			await net.stop();
			await store.close();
		}
	};
}
