/**
 * The sync bench's serving peer, run as a child process (libp2p in Node needs --experimental-websocket
 * and the polyfills, which `npm run bench` does not pass): the real relay with its peer directory, and
 * a Node PeerNet that serves the cached journal through `serveSync`, the handler every full node serves
 * its ChainState with. It only serves: it verifies nothing and gossips nothing.
 *
 *   node --experimental-websocket --import tsx bench/sync/peer.ts <journal file>
 *   → READY {"relay": [multiaddr…], "peer": [multiaddr…]}; exits when stdin closes.
 */
import '../../src/lib/node/polyfills.ts';
import { startRelay } from '../../relay/relay.ts';
import { servePeerDirectory } from '../../src/lib/net/directory.ts';
import { createPeerNet } from '../../src/lib/net/peer-net.node.ts';
import { serveSync } from '../../src/lib/runtime/chain-sync.ts';
import { readJournal } from './journal.ts';

const facts = readJournal(process.argv[2]!);
const relay = await startRelay({ port: 0 });
await servePeerDirectory(relay.node);
const net = await createPeerNet({ bootstrap: relay.addresses });
serveSync(net, {
	async *journal(from = 0) {
		yield* facts.slice(from);
	}
});
process.stdout.write(`READY ${JSON.stringify({ relay: relay.addresses, peer: net.addresses() })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
	void Promise.allSettled([net.stop(), relay.stop()]).then(() => process.exit(0));
});
