/**
 * PeerNet in a page (main thread: RTCPeerConnection exists only there). WebSockets reach the relay and
 * Node clinic nodes; the page listens on /p2p-circuit (a reservation on the relay) and /webrtc, so other
 * pages dial `<relay>/p2p-circuit/webrtc/p2p/<id>`: the relay carries the SDP/ICE signalling and the
 * connection then runs directly over WebRTC (it survives the relay going down).
 */
import { startPeerNet } from './net-core.ts';
import type { PeerNet, PeerNetOptions } from './peer-net.ts';

export function createPeerNet(options: PeerNetOptions): Promise<PeerNet> {
	return startPeerNet({ listen: ['/p2p-circuit', '/webrtc'] }, options);
}
