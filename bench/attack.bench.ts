/**
 * `npm run bench -- attack` (issue 18): a hostile network against real nodes. A relay and the four
 * consensus-group members of a development genesis run as FullNodes in this process (real libp2p on
 * loopback, gossipsub, WASM miners in worker threads, BLS-certified pins); outsiders with no keys
 * (bench/attack/attacker.ts, in a child process: bench/attack/attacker-main.ts) flood them phase by
 * phase, each phase with fresh identities. Each phase prints the honest pin rate
 * (pinned keyblocks per minute) against the quiet baseline, the process's CPU (cores) and peak RSS,
 * the bans by who of whom, and at the end whether the honest chains agree. Faults: one member stopped
 * (f = 1 of 4) and restarted from its store.
 *
 * BENCH_QUICK=1: 15 s phases (about 3 minutes in all); otherwise 60 s (about 11 minutes). The figures depend on the
 * machine's load, which is printed with them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { loadavg } from 'node:os';
import { bytesToHex } from '../src/lib/core/bytes.ts';
import { devGenesis, devInstitution, targetForExpectedHashes } from '../tests/fixtures/genesis-dev.ts';
import type { DevInstitution } from '../tests/fixtures/genesis-dev.ts';
import { keyblockHash } from '../src/lib/core/keyblock.ts';
import { loadVerificationKey } from '../src/lib/crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../src/lib/crypto/batch-verifier.ts';
import { createNodeProver } from '../src/lib/crypto/prover.node.ts';
import { MinerPool } from '../src/lib/mining/pool.ts';
import { spawnMiner } from '../src/lib/mining/spawn.node.ts';
import { servePeerDirectory } from '../src/lib/net/directory.ts';
import { createPeerNet } from '../src/lib/net/peer-net.node.ts';
import type { PeerNet } from '../src/lib/net/peer-net.ts';
import { FullNode } from '../src/lib/runtime/full-node.ts';
import { openMemoryStore, type MemoryStore } from '../src/lib/store/memory-store.ts';
import { startRelay } from '../relay/relay.ts';
import type { AttackKind } from './attack/attacker.ts';
import { ATTACK_PREFIX, MEMBER_NAMES, type AttackCommand } from './attack/protocol.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const PHASE_MS = QUICK ? 15_000 : 60_000;
const NAMES = MEMBER_NAMES;
/** Messages per second each attacking identity sends. */
const RATE = 400;
const SYBILS = 8;

interface Member {
	name: string;
	clinic: DevInstitution;
	store: MemoryStore;
	net: PeerNet;
	node: FullNode;
	pool: MinerPool;
}

interface PhaseResult {
	phase: string;
	pinsPerMinute: number;
	cores: number;
	peakRssMb: number;
	sent: number;
	bans: string[];
	honestBans: number;
}

/**
 * Node 20 has WebSocket (which libp2p's transport needs) only behind --experimental-websocket: without
 * it, the bench runs itself in a child that has it (bench/attack/run.ts).
 */
export default async function attackBench(): Promise<void> {
	if (typeof WebSocket !== 'undefined') return runAttackBench();
	const child = spawn(
		process.execPath,
		['--experimental-websocket', '--import', 'tsx', new URL('./attack/run.ts', import.meta.url).pathname],
		{ stdio: 'inherit', env: process.env }
	);
	const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
	if (code !== 0) throw new Error(`the attack bench exited with ${code}`);
}

export async function runAttackBench(): Promise<void> {
	const genesis = devGenesis({
		timestamp: Date.now() - 60_000,
		initialTarget: targetForExpectedHashes(1n << 21n),
		// no hand-over during the bench: the four stay the group
		epochLength: 100_000
	});
	const relay = await startRelay({ port: 0 });
	await servePeerDirectory(relay.node);
	const verifier = await Groth16BatchVerifier.create(await loadVerificationKey());
	const prover = await createNodeProver();
	const clinics = NAMES.map(devInstitution);

	async function startMember(clinic: DevInstitution, name: string, store = openMemoryStore()) {
		const net = await createPeerNet({ bootstrap: relay.addresses });
		const pool = new MinerPool({ workers: 1, spawn: spawnMiner });
		const node = await FullNode.start({
			genesis,
			store,
			net,
			verifier,
			institution: {
				id: clinic.institution.id,
				signingKey: clinic.secrets.signingKey,
				blsKey: clinic.secrets.blsKey,
				chameleonKey: clinic.institution.chameleonKey,
				trapdoor: clinic.secrets.trapdoor,
				prover,
				pool,
				miningDuty: 0.25
			}
		});
		node.startMining();
		return { name, clinic, store, net, node, pool };
	}

	async function stopMember(member: Member): Promise<void> {
		await member.node.stop();
		member.pool.terminate();
		await member.net.stop();
	}

	const members: Member[] = [];
	for (const [i, clinic] of clinics.entries()) members.push(await startMember(clinic, NAMES[i]!));
	const names = new Map<string, string>();
	const honestIds = () => new Set(members.map((m) => m.net.peerId));
	const reference = () => members[0]!.node;
	const view = { height: () => reference().chain.height, batches: () => reference().chain.batchCount };

	console.log(
		`load average ${loadavg()
			.map((l) => l.toFixed(1))
			.join(' ')}; phases of ${PHASE_MS / 1000} s`
	);
	console.log('waiting for the members to connect and pin the first keyblock…');
	while (members.some((m) => m.net.peers().length < 3) || reference().chain.height < 1)
		await new Promise((resolve) => setTimeout(resolve, 500));

	const bootstrap = [...relay.addresses, ...members.flatMap((m) => m.net.addresses().slice(0, 1))];
	const attackers = startAttackers();
	let attackerCount = 0;
	const viewTimer = setInterval(
		() => attackers.command({ type: 'view', height: view.height(), batches: view.batches() }),
		500
	);
	/** Fresh identities flood `kinds` (identity i the kind i mod n) until `until`; returns messages sent. */
	async function attack(identities: number, kinds: AttackKind[], perSecond: number, warmUp = 0) {
		attackers.command({ type: 'prepare', bootstrap, identities, members: members.length });
		const { ids } = (await attackers.next('ready')) as { ids: string[] };
		for (const id of ids) names.set(id, `attacker ${attackerCount++}`);
		return async (until: number) => {
			attackers.command({ type: 'flood', kinds, perSecond, until, warmUp });
			return ((await attackers.next('done')) as { sent: number }).sent;
		};
	}
	for (const m of members) names.set(m.net.peerId, m.name);

	const results: PhaseResult[] = [];
	/** Every ban seen so far (bans last 10 minutes: a phase lists only its new ones). */
	const seenBans = new Set<string>();
	async function phase(name: string, body: (until: number) => Promise<number>): Promise<PhaseResult> {
		const start = Date.now();
		const until = start + PHASE_MS;
		const heightBefore = reference().chain.height;
		const cpuBefore = process.cpuUsage();
		let peak = process.memoryUsage().rss;
		const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 1000);
		const sent = await body(until);
		const left = until - Date.now();
		if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
		clearInterval(sampler);
		const cpu = process.cpuUsage(cpuBefore);
		const wall = Date.now() - start;
		const honest = honestIds();
		const bans: string[] = [];
		let honestBans = 0;
		for (const m of members)
			for (const banned of m.net.stats().banned) {
				const ban = `${m.name} banned ${names.get(banned) ?? banned.slice(-8)}`;
				if (honest.has(banned)) honestBans++;
				if (!seenBans.has(ban)) bans.push(ban); // new in this phase
				seenBans.add(ban);
			}
		const result: PhaseResult = {
			phase: name,
			pinsPerMinute: ((reference().chain.height - heightBefore) * 60_000) / wall,
			cores: (cpu.user + cpu.system) / 1000 / wall,
			peakRssMb: peak / 2 ** 20,
			sent,
			bans,
			honestBans
		};
		results.push(result);
		console.log(
			`${name.padEnd(28)} ${result.pinsPerMinute.toFixed(2).padStart(6)} pins/min  ` +
				`${result.cores.toFixed(2)} cores  ${result.peakRssMb.toFixed(0)} MB peak  ` +
				`${sent} sent  honest bans ${honestBans}  load ${loadavg()[0]!.toFixed(1)}`
		);
		return result;
	}

	const rssStart = process.memoryUsage().rss;
	const baseline = await phase('quiet baseline', async () => 0);
	const kinds: AttackKind[] = [
		'random',
		'forged-votes',
		'future-votes',
		'junk-proposals',
		'future-registers',
		'oversized',
		'replay'
	];
	for (const kind of kinds) {
		// the replayer first overhears a few rounds of honest votes
		const flood = await attack(1, [kind], kind === 'oversized' ? 5 : RATE, kind === 'replay' ? 5000 : 0);
		await phase(kind, flood);
	}
	const crowd = await attack(SYBILS, ['forged-votes', 'random'], RATE / 2);
	await phase(`${SYBILS} identities, mixed`, crowd);
	clearInterval(viewTimer);
	attackers.stop();

	// Faults: one member of four down (f = 1), then back from its store.
	const down = members.pop()!;
	await stopMember(down);
	await phase(`${down.name} stopped`, async () => 0);
	const back = await startMember(down.clinic, down.name, down.store);
	members.push(back);
	names.set(back.net.peerId, down.name);
	while (back.net.peers().length < 3) await new Promise((resolve) => setTimeout(resolve, 250));
	await phase(`${down.name} restarted`, async () => 0);
	const rssEnd = process.memoryUsage().rss;

	// The honest chains agree on every keyblock they all hold.
	const common = Math.min(...members.map((m) => m.node.chain.height));
	let agree = true;
	for (let h = 1; h <= common; h++) {
		const hashes = new Set(
			members.map((m) => bytesToHex(keyblockHash(m.node.chain.ledger.keyblock(h)!.block.header)))
		);
		if (hashes.size !== 1) agree = false;
	}
	console.log(
		`\nquiet baseline ${baseline.pinsPerMinute.toFixed(2)} pins/min; ` +
			`lowest under attack ${Math.min(...results.slice(1, -2).map((r) => r.pinsPerMinute)).toFixed(2)}; ` +
			`honest-honest bans ${results.reduce((n, r) => n + r.honestBans, 0)}`
	);
	console.log(
		`RSS ${(rssStart / 2 ** 20).toFixed(0)} MB at the start, ${(rssEnd / 2 ** 20).toFixed(0)} MB after the faults`
	);
	console.log(`chains agree on keyblocks 1..${common}: ${agree ? 'yes' : 'NO'}`);
	for (const r of results)
		if (r.bans.length > 0) console.log(`bans after "${r.phase}": ${r.bans.join('; ')}`);

	for (const m of members) await stopMember(m);
	await prover.close();
	await relay.stop();
}

/** The attackers' process (bench/attack/attacker-main.ts) and its answers, in order. */
function startAttackers() {
	const child: ChildProcessWithoutNullStreams = spawn(
		process.execPath,
		[
			'--experimental-websocket',
			'--import',
			'tsx',
			new URL('./attack/attacker-main.ts', import.meta.url).pathname
		],
		{ env: process.env }
	);
	child.stderr.on('data', () => {}); // its own libp2p noise
	const answers: { type: string }[] = [];
	const waiting: (() => void)[] = [];
	createInterface({ input: child.stdout }).on('line', (line) => {
		if (!line.startsWith(ATTACK_PREFIX)) return;
		answers.push(JSON.parse(line.slice(ATTACK_PREFIX.length)) as { type: string });
		waiting.splice(0).forEach((wake) => wake());
	});
	return {
		command: (command: AttackCommand) => child.stdin.write(`${JSON.stringify(command)}\n`),
		async next(type: string): Promise<unknown> {
			for (;;) {
				const index = answers.findIndex((a) => a.type === type);
				if (index >= 0) return answers.splice(index, 1)[0];
				if (child.exitCode !== null) throw new Error(`the attackers exited with ${child.exitCode}`);
				await new Promise<void>((resolve) => {
					waiting.push(resolve);
					setTimeout(resolve, 1000);
				});
			}
		},
		stop: () => child.stdin.end()
	};
}
