/**
 * One consensus-group member of the attack bench in a process of its own, on a LevelDB store on disk,
 * so the bench can `kill -9` it, restart it from what it wrote, and freeze it (SIGSTOP: a partition
 * whose TCP connections stay open but carry nothing). The bench passes its set-up as JSON in
 * SPCHAIN_ATTACK_MEMBER; the member reports `MEMBER {json}` lines on stdout: its height, peers and bans
 * every second, its keyblock hashes when a `hashes` line arrives on stdin, and `collected` after a
 * garbage collection a `gc` line asks for.
 */
import '../../src/lib/node/polyfills.ts';
import { createInterface } from 'node:readline';
import { bytesToHex } from '../../src/lib/core/bytes.ts';
import { keyblockHash } from '../../src/lib/core/keyblock.ts';
import { installWasmBackends } from '../../src/lib/crypto/wasm-backends.node.ts';
import { startMemberNode } from './member-node.ts';
import { attackGenesis, MEMBER_NAMES, MEMBER_PREFIX, type MemberSetup } from './protocol.ts';

const setup = JSON.parse(process.env.SPCHAIN_ATTACK_MEMBER ?? '{}') as MemberSetup;
const say = (message: object) => process.stdout.write(`${MEMBER_PREFIX}${JSON.stringify(message)}\n`);

// The hot-path signature checks on libsecp256k1 and mcl, as a clinic node runs them (node/clinic-node.ts).
await installWasmBackends();
const { net, node } = await startMemberNode(
	setup,
	attackGenesis(setup.genesisTimestamp),
	MEMBER_NAMES[setup.index]!
);
node.startMining();

setInterval(
	() =>
		say({
			type: 'status',
			height: node.chain.height,
			batches: node.chain.batchCount,
			peers: net.peers().length,
			banned: net.stats().banned
		}),
	1000
);
createInterface({ input: process.stdin }).on('line', (line) => {
	if (line.trim() === 'gc') {
		(globalThis as { gc?: () => void }).gc?.();
		say({ type: 'collected' });
		return;
	}
	if (line.trim() !== 'hashes') return;
	const hashes: string[] = [];
	for (let h = 1; h <= node.chain.height; h++)
		hashes.push(bytesToHex(keyblockHash(node.chain.ledger.keyblock(h)!.block.header)));
	say({ type: 'hashes', hashes });
});
