/**
 * PeerNet in Node (headless clinic nodes). A WebSockets listener (default 127.0.0.1, a free port; pass
 * `listen: ['/ip4/0.0.0.0/tcp/9101/ws']` to fix it) that pages and other nodes dial directly, plus a
 * circuit relay reservation and WebRTC through node-datachannel, so a page can also reach this node
 * with `<relay>/p2p-circuit/webrtc/p2p/<id>`.
 * Node 20: import `src/lib/node/polyfills.ts` first and run with --experimental-websocket.
 */
import { startPeerNet } from './net-core.ts';
import type { PeerNet, PeerNetOptions } from './peer-net.ts';

export const DEFAULT_NODE_LISTEN = ['/ip4/127.0.0.1/tcp/0/ws'];

export function createPeerNet(options: PeerNetOptions): Promise<PeerNet> {
	const listen = [...(options.listen ?? DEFAULT_NODE_LISTEN), '/p2p-circuit', '/webrtc'];
	return startPeerNet({ listen }, { ...options, listen });
}
