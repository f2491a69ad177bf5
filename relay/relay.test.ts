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

async function relayClient(): Promise<Libp2p> {
	const client = await createLibp2p({
		addresses: { listen: ['/p2p-circuit'] },
		transports: [webSockets(), circuitRelayTransport()],
		connectionEncrypters: [noise()],
		streamMuxers: [yamux()],
		connectionGater: { denyDialMultiaddr: () => false },
		services: { identify: identify() }
	});
	running.push(client);
	return client;
}

function circuitAddress(node: Libp2p): string | undefined {
	return node
		.getMultiaddrs()
		.map((addr) => addr.toString())
		.find((addr) => addr.includes('/p2p-circuit'));
}

describe('relay', () => {
	it('connects two clients through a relayed circuit', async () => {
		const relay = await startRelay({ port: 0 });
		running.push(relay);
		const [listener, dialer] = await Promise.all([relayClient(), relayClient()]);
		await listener.dial(multiaddr(relay.addresses[0]));
		await expect.poll(() => circuitAddress(listener), { timeout: 10_000 }).toBeDefined();
		const connection = await dialer.dial(multiaddr(circuitAddress(listener)!));
		expect(connection.remotePeer.equals(listener.peerId)).toBe(true);
		expect(connection.remoteAddr.toString()).toContain('/p2p-circuit');
	});

	it('grants a reservation to a Node client over WebSockets', async () => {
		const relay = await startRelay({ port: 0 });
		running.push(relay);
		const client = await relayClient();
		await client.dial(multiaddr(relay.addresses[0]));
		await expect.poll(() => circuitAddress(client), { timeout: 10_000 }).toBeDefined();
	});
});
