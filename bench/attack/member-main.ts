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
import { bytesToHex, fromHex } from '../../src/lib/core/bytes.ts';
import { keyblockHash } from '../../src/lib/core/keyblock.ts';
import { loadVerificationKey } from '../../src/lib/crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../../src/lib/crypto/batch-verifier.ts';
import { createNodeProver } from '../../src/lib/crypto/prover.node.ts';
import { MinerPool } from '../../src/lib/mining/pool.ts';
import { spawnMiner } from '../../src/lib/mining/spawn.node.ts';
import { createPeerNet } from '../../src/lib/net/peer-net.node.ts';
import { FullNode } from '../../src/lib/runtime/full-node.ts';
import { openStore } from '../../src/lib/store/store.node.ts';
import { devInstitution } from '../../tests/fixtures/genesis-dev.ts';
import { attackGenesis, MEMBER_NAMES, MEMBER_PREFIX, type MemberSetup } from './protocol.ts';

const setup = JSON.parse(process.env.SPCHAIN_ATTACK_MEMBER ?? '{}') as MemberSetup;
const say = (message: object) => process.stdout.write(`${MEMBER_PREFIX}${JSON.stringify(message)}\n`);

const genesis = attackGenesis(setup.genesisTimestamp);
const clinic = devInstitution(MEMBER_NAMES[setup.index]!);
const protectedIds = new Set(setup.protectedIds);
const net = await createPeerNet({
	bootstrap: setup.bootstrap,
	privateKey: fromHex(setup.privateKey),
	isProtected: (peer) => protectedIds.has(peer)
});
const pool = new MinerPool({ workers: 1, spawn: spawnMiner });
const node = await FullNode.start({
	genesis,
	store: await openStore(setup.storeDir),
	net,
	verifier: await Groth16BatchVerifier.create(await loadVerificationKey()),
	institution: {
		id: clinic.institution.id,
		signingKey: clinic.secrets.signingKey,
		blsKey: clinic.secrets.blsKey,
		chameleonKey: clinic.institution.chameleonKey,
		trapdoor: clinic.secrets.trapdoor,
		prover: await createNodeProver(),
		pool,
		miningDuty: 0.25
	}
});
node.startMining();

setInterval(
	() =>
		say({
			type: 'status',
			height: node.chain.height,
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
