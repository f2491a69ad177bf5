/**
 * Bootstrap peers kept connected, a libp2p service. The relay and the clinic nodes a PeerNet starts
 * from are put in the peer store with their addresses and libp2p's KEEP_ALIVE tag: libp2p's own
 * reconnect queue then redials them whenever they disconnect (a few tries with back-off, configured on
 * the connection manager). What that queue does not cover, this service does: the first dial at start
 * and a peer the queue gave up on (`peer:reconnect-failure`, after which libp2p drops the tag) are
 * retried with capped back-off until they answer, and the tag is put back.
 */
import {
	KEEP_ALIVE,
	type Connection,
	type Libp2pEvents,
	type PeerId,
	type PeerStore,
	type Startable,
	type TypedEventTarget
} from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import pRetry from 'p-retry';
import { PROTECTED_TAG } from './peer-guard.ts';
import { errorMessage } from './error-message.ts';

const MAX_BACKOFF_MS = 30_000;

export interface KeepAliveComponents {
	peerStore: Pick<PeerStore, 'merge'>;
	connectionManager: {
		openConnection(target: PeerId | Multiaddr[], options?: { signal?: AbortSignal }): Promise<Connection>;
	};
	events: TypedEventTarget<Libp2pEvents>;
}

export interface KeepAliveInit {
	/** Multiaddrs with /p2p/<peer id>; a peer may be listed with several addresses. */
	bootstrap: readonly string[];
}

/** Bootstrap addresses grouped by peer id; unreadable ones are reported and skipped. */
export function bootstrapPeers(addresses: readonly string[]): Map<string, Multiaddr[]> {
	const peers = new Map<string, Multiaddr[]>();
	for (const address of addresses) {
		try {
			const ma = multiaddr(address);
			const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
			if (!id) throw new Error('no /p2p/<peer id> at its end');
			peers.set(id, [...(peers.get(id) ?? []), ma]);
		} catch (error) {
			console.warn(
				`[net] bad bootstrap address ${address}: ${error instanceof Error ? error.message : error}`
			);
		}
	}
	return peers;
}

export class KeepAliveService implements Startable {
	private readonly peers: Map<string, Multiaddr[]>;
	private readonly retrying = new Set<string>();
	private stopController = new AbortController();

	constructor(
		private readonly components: KeepAliveComponents,
		init: KeepAliveInit
	) {
		this.peers = bootstrapPeers(init.bootstrap);
	}

	readonly [Symbol.toStringTag] = 'spchain/keep-alive';

	get peerIds(): string[] {
		return [...this.peers.keys()];
	}

	async start(): Promise<void> {
		this.stopController = new AbortController();
		this.components.events.addEventListener('peer:reconnect-failure', this.onGiveUp);
		for (const [id, addrs] of this.peers)
			await this.components.peerStore
				.merge(peerIdFromString(id), { multiaddrs: addrs, tags: tagsOf() })
				.catch(() => undefined);
	}

	afterStart(): void {
		for (const id of this.peers.keys()) this.retryUntilConnected(id);
	}

	stop(): void {
		this.stopController.abort();
		this.components.events.removeEventListener('peer:reconnect-failure', this.onGiveUp);
	}

	private readonly onGiveUp = (event: CustomEvent<PeerId>): void => {
		const id = event.detail.toString();
		if (this.peers.has(id)) this.retryUntilConnected(id);
	};

	private retryUntilConnected(id: string): void {
		const addrs = this.peers.get(id);
		if (!addrs || this.retrying.has(id) || this.stopController.signal.aborted) return;
		this.retrying.add(id);
		const signal = this.stopController.signal;
		void pRetry(
			async () => {
				signal.throwIfAborted();
				// (the WebSocket transport can reject with an ErrorEvent, which p-retry would not retry)
				await this.components.connectionManager
					.openConnection(addrs, { signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)]) })
					.catch((error: unknown) => {
						throw error instanceof Error ? error : new Error(`dial failed: ${errorMessage(error)}`);
					});
				await this.components.peerStore.merge(peerIdFromString(id), { tags: tagsOf() });
			},
			{
				retries: Number.POSITIVE_INFINITY,
				minTimeout: 500,
				maxTimeout: MAX_BACKOFF_MS,
				factor: 2,
				randomize: true,
				signal,
				shouldRetry: () => !signal.aborted,
				onFailedAttempt: ({ error, attemptNumber }) => {
					if (attemptNumber === 1 || attemptNumber % 10 === 0)
						console.debug(
							`[net] bootstrap ${id.slice(-8)} unreachable (try ${attemptNumber}): ${error.message}`
						);
				}
			}
		)
			.catch(() => undefined)
			.finally(() => this.retrying.delete(id));
	}
}

/** KEEP_ALIVE for libp2p's reconnect queue; the protected tag keeps the connection first when pruning. */
function tagsOf() {
	return { [KEEP_ALIVE]: { value: 1 }, [PROTECTED_TAG]: { value: 100 } };
}

/** The js-libp2p service factory: `services: { keepAlive: keepAlive(init) }`. */
export function keepAlive(init: KeepAliveInit): (components: KeepAliveComponents) => KeepAliveService {
	return (components) => new KeepAliveService(components, init);
}
