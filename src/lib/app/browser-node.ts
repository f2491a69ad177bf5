/**
 * A full node in the page: the FullNode wired to the browser adapters (IndexedDB store, libp2p with
 * WebRTC through the relay, the Groth16 verifier, the prover and miners in Web Workers); a patient's
 * light node (sessions.ts) stands on the same base without the full node (openBrowserBase). The network
 * it joins is read from `/network.json` (served next to the PWA by the local network), or from the
 * `relay` query parameter; its genesis file from the URL network.json names (or `?genesis=`). A profile
 * keeps the genesis it first loaded (trust on first use; the pages show its fingerprint) and refuses to
 * run on another one, so a changed network.json cannot move its chain and keys to another network.
 */
import { base } from '$app/paths';
import { bytesToHex } from '../core/bytes.ts';
import { decodeGenesisFile } from '../core/genesis-file.ts';
import { genesisFingerprint, genesisHash, type GenesisConfig } from '../core/genesis.ts';
import { guardGenesis } from '../institution/genesis-guard.ts';
import { GenesisMismatchError, pinGenesis } from '../institution/genesis-pin.ts';
import { loadVerificationKey } from '../crypto/artifacts.browser.ts';
import { installWasmBackends } from '../crypto/wasm-backends.browser.ts';
import { Groth16BatchVerifier } from '../crypto/batch-verifier.ts';
import type { MiningControl } from '../mining/control.ts';
import { MinerPool } from '../mining/pool.ts';
import { spawnMiner } from '../mining/spawn.browser.ts';
import { createPeerNet } from '../net/peer-net.browser.ts';
import { ProtectedPeers } from '../institution/protected-peers.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { FullNode } from '../runtime/full-node.ts';
import type { InstitutionRole } from '../runtime/node-api.ts';
import { openStore } from '../store/store.browser.ts';
import { readJournalRows, type JournalReads } from '../runtime/stored-journal.ts';
import type { Store } from '../store/store.ts';
import { WorkerProver } from '../workers/prover-client.ts';
import { AppError } from './types.ts';

export interface NetworkInfo {
	relay: string[];
	clinics?: { name: string; addresses: string[] }[];
	/** URL of the network's genesis file (relative to the PWA). */
	genesis?: string;
}

/** Where to find the network: `?relay=<multiaddr>` and `?genesis=<url>` win, then /network.json. */
export async function networkInfo(): Promise<NetworkInfo> {
	const query = new URL(location.href).searchParams;
	const relay = query.getAll('relay');
	const genesis = query.get('genesis') ?? undefined;
	if (relay.length > 0) return { relay, genesis };
	try {
		const response = await fetch(`${base}/network.json`, { cache: 'no-store' });
		if (response.ok) {
			const info = (await response.json()) as NetworkInfo;
			return { ...info, relay: info.relay ?? [], genesis: genesis ?? info.genesis };
		}
	} catch {
		// offline: the node still opens its stored chain and waits for peers
	}
	return { relay: [], genesis };
}

/** The profile's genesis file, kept at first use (plain public data, next to the node's chain). */
const GENESIS_FILE_KEY = 'genesis-file';

/**
 * The genesis this profile runs: the one it kept, checked against what the network now names; on first
 * use, the network's (fetched, decoded and verified: hash, founders' signatures and proofs).
 */
export async function profileGenesis(store: Store, info: NetworkInfo): Promise<GenesisConfig> {
	const keptBytes = await store.get('meta', GENESIS_FILE_KEY);
	const keptText = keptBytes && new TextDecoder().decode(keptBytes);
	const kept = keptText && decodeGenesisFile(keptText).genesis;
	let offered: { text: string; genesis: GenesisConfig } | undefined;
	if (info.genesis) {
		let text: string | undefined;
		try {
			const response = await fetch(new URL(info.genesis, location.href), { cache: 'no-store' });
			if (response.ok) text = await response.text();
		} catch {
			// offline: the kept genesis (if any) serves
		}
		// The file kept is the file offered (the usual restart): decoded and checked once, not twice.
		if (kept && text === keptText) offered = { text, genesis: kept };
		else if (text !== undefined) {
			try {
				offered = { text, genesis: decodeGenesisFile(text).genesis };
			} catch (error) {
				throw new AppError(
					'genesis-invalid',
					`The network's genesis file is not valid: ${(error as Error).message}`
				);
			}
		}
	}
	if (kept && offered && bytesToHex(genesisHash(kept)) !== bytesToHex(genesisHash(offered.genesis)))
		throw new AppError(
			'genesis-changed',
			`This profile belongs to the network ${kept.network} (genesis ${genesisFingerprint(kept)}); the network here now runs ${offered.genesis.network} (genesis ${genesisFingerprint(offered.genesis)}). Its chain and keys stay on the first one: use another browser profile for the new network.`
		);
	if (kept) return kept;
	if (!offered)
		throw new AppError(
			'no-genesis',
			'No network genesis is known yet: open the app from a network address once (npm start serves one), online.'
		);
	await store.write([
		{ table: 'meta', key: GENESIS_FILE_KEY, value: new TextEncoder().encode(offered.text) }
	]);
	return offered.genesis;
}

export interface BrowserNode {
	node: FullNode;
	net: PeerNet;
	/** Which peers the net keeps first: bound to the directory the session creates. */
	protection: ProtectedPeers;
	store: Store;
	genesis: GenesisConfig;
	/** The genesis hash in short groups, for people to compare. */
	fingerprint: string;
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

/** What every node of the page stands on: its store, the profile's genesis, the network and the verifier. */
export interface BrowserBase {
	store: Store;
	genesis: GenesisConfig;
	net: PeerNet;
	protection: ProtectedPeers;
	verifier: Groth16BatchVerifier;
	snarkBase: URL;
	/** The store's journal, read while the rest started (only when asked: a full node's chain). */
	journal?: Promise<JournalReads>;
}

export interface BrowserBaseOptions {
	/** Begin reading the stored journal as soon as the store opens (a full node's ChainState reads it). */
	readJournal?: boolean;
}

/**
 * Opens the profile's store, its genesis (kept or first loaded), the network and the proof verifier.
 * Steps that do not need each other run side by side: compiling the WASM back ends, fetching the
 * network's files and reading IndexedDB happen off the page's main thread, so a restart waits for the
 * longest of them rather than for their sum.
 */
export async function openBrowserBase(
	profile: string,
	options: BrowserBaseOptions = {}
): Promise<BrowserBase> {
	const snarkBase = new URL(`${base}/snark/`, location.href);
	// Signatures and votes are checked on libsecp256k1 and mcl in WASM (same verdicts as noble, faster),
	// installed before anything is checked, the genesis file included; the journal's reads go on meanwhile.
	const backends = handledLater(installWasmBackends());
	const verificationKey = handledLater(loadVerificationKey(snarkBase));
	const info = networkInfo();
	const store = await openStore(profile);
	// Its failure is the node's to report: ChainState.open awaits it.
	const journal = options.readJournal ? handledLater(readJournalRows(store)) : undefined;
	let net: PeerNet | undefined;
	try {
		const network = await info;
		await backends;
		const genesis = await profileGenesis(store, network);
		await pinGenesis(store, genesis);
		const bootstrap = [...network.relay, ...(network.clinics ?? []).flatMap((c) => c.addresses)];
		const protection = new ProtectedPeers();
		const opening = createPeerNet({ bootstrap, isProtected: protection.isProtected });
		const verifier = handledLater(startVerifier(verificationKey, genesis));
		net = await opening;
		// A peer on another chain is refused at once, with both fingerprints in the console.
		guardGenesis(net, genesis, (refusal) => console.warn(`[network] ${refusal.message}`));
		return { store, genesis, net, protection, verifier: await verifier, snarkBase, journal };
	} catch (error) {
		await net?.stop();
		await store.close();
		if (error instanceof GenesisMismatchError) throw new AppError('genesis-mismatch', error.message);
		throw error;
	}
}

/**
 * `promise`, marked as handled: it is awaited later (or never, when an earlier step fails first), and
 * its rejection must not be reported as unhandled meanwhile.
 */
function handledLater<T>(promise: Promise<T>): Promise<T> {
	promise.catch(() => undefined);
	return promise;
}

async function startVerifier(
	verificationKey: ReturnType<typeof loadVerificationKey>,
	genesis: GenesisConfig
): Promise<Groth16BatchVerifier> {
	try {
		// Proofs count only under the verification key the consortium's genesis pins.
		return await Groth16BatchVerifier.create(await verificationKey, bytesToHex(genesis.chameleonVkeyHash));
	} catch (error) {
		throw new AppError('verifier', `The proof verifier could not start: ${(error as Error).message}`);
	}
}

export async function openBrowserNode(options: BrowserNodeOptions): Promise<BrowserNode> {
	const { store, genesis, net, protection, verifier, snarkBase, journal } = await openBrowserBase(
		options.profile,
		{ readJournal: true }
	);
	let prover: WorkerProver | undefined;
	const getProver = () => (prover ??= new WorkerProver(snarkBase));
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
		journal,
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
		protection,
		store,
		genesis,
		fingerprint: genesisFingerprint(genesis),
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
