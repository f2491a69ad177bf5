/**
 * The SPChain relay: a circuit-relay v2 server over WebSockets that browsers use to find each other
 * and signal WebRTC. It is a bootstrap peer only: it relays bytes it cannot read (Noise-encrypted
 * end to end) and knows nothing about medical data. Peers upgrade to direct WebRTC and keep working
 * when it goes down.
 *
 * Limits are raised from the library defaults (15 reservations, 2 min and 128 KiB per relayed
 * connection), which are sized for a public relay, not for signalling a clinic consortium.
 */
import { createLibp2p, type Libp2p } from 'libp2p';
import { webSockets } from '@libp2p/websockets';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify } from '@libp2p/identify';
import { circuitRelayServer } from '@libp2p/circuit-relay-v2';
import { ping } from '@libp2p/ping';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';

export interface RelayOptions {
	host: string;
	port: number;
	/** Stable identity so browsers can keep the relay's multiaddr across restarts. */
	privateKey?: PrivateKey;
	maxReservations: number;
	/** Milliseconds a relayed connection may stay open. */
	durationLimitMs: number;
	/** Bytes a relayed connection may carry before it is closed. */
	dataLimitBytes: bigint;
}

export const DEFAULT_RELAY_OPTIONS: RelayOptions = {
	host: '127.0.0.1',
	port: 9090,
	maxReservations: 1024,
	durationLimitMs: 30 * 60_000,
	dataLimitBytes: 64n * 1024n * 1024n
};

export interface Relay {
	node: Libp2p;
	/** WebSocket multiaddrs including /p2p/<peer id>, for browsers and Node nodes to dial. */
	addresses: string[];
	stop(): Promise<void>;
}

export async function startRelay(options: Partial<RelayOptions> = {}): Promise<Relay> {
	const config = { ...DEFAULT_RELAY_OPTIONS, ...options };
	const node = await createLibp2p({
		privateKey: config.privateKey ?? (await generateKeyPair('Ed25519')),
		addresses: { listen: [`/ip4/${config.host}/tcp/${config.port}/ws`] },
		transports: [webSockets()],
		connectionEncrypters: [noise()],
		streamMuxers: [yamux()],
		// The demo runs every peer on one host: a high inbound threshold keeps the relay from refusing
		// a burst of dials from one address.
		connectionManager: { maxConnections: 4096, inboundConnectionThreshold: 1000 },
		services: {
			identify: identify(),
			ping: ping(),
			relay: circuitRelayServer({
				reservations: {
					maxReservations: config.maxReservations,
					defaultDurationLimit: config.durationLimitMs,
					defaultDataLimit: config.dataLimitBytes
				},
				maxInboundHopStreams: 1024,
				maxOutboundStopStreams: 1024
			})
		}
	});
	return {
		node,
		addresses: node.getMultiaddrs().map((addr) => addr.toString()),
		stop: async () => {
			await node.stop();
		}
	};
}

export async function loadOrCreateRelayKey(
	read: () => Uint8Array | undefined,
	write: (bytes: Uint8Array) => void
) {
	const stored = read();
	if (stored) return privateKeyFromProtobuf(stored);
	const key = await generateKeyPair('Ed25519');
	write(privateKeyToProtobuf(key));
	return key;
}
