/**
 * Relay integration: a real Node libp2p client dials the relay over WebSockets on loopback and
 * obtains a circuit-relay v2 reservation (its own /p2p-circuit address appears).
 */
import '../src/lib/node/polyfills.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { createLibp2p, type Libp2p } from 'libp2p';
import { webSockets } from '@libp2p/websockets';
import { noise } from '@libp2p/noise';
import { yamux } from '@libp2p/yamux';
import { identify } from '@libp2p/identify';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { multiaddr } from '@multiformats/multiaddr';
import { startRelay, type Relay } from './relay.ts';

const running: Array<Relay | Libp2p> = [];
afterEach(async () => {
	await Promise.all(running.splice(0).map((item) => item.stop()));
});

describe('relay', () => {
	it('grants a reservation to a Node client over WebSockets', async () => {
		const relay = await startRelay({ port: 0 });
		running.push(relay);
		const client = await createLibp2p({
			addresses: { listen: ['/p2p-circuit'] },
			transports: [webSockets(), circuitRelayTransport()],
			connectionEncrypters: [noise()],
			streamMuxers: [yamux()],
			connectionGater: { denyDialMultiaddr: () => false },
			services: { identify: identify() }
		});
		running.push(client);
		await client.dial(multiaddr(relay.addresses[0]));
		await expect
			.poll(() => client.getMultiaddrs().some((addr) => addr.toString().includes('/p2p-circuit')), {
				timeout: 10_000
			})
			.toBe(true);
	});
});
