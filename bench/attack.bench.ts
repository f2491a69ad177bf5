/**
 * `npm run bench -- attack` (issue 18): a hostile network against real nodes. A relay and the four
 * consensus-group members of a development genesis run as FullNodes in this process (real libp2p on
 * loopback, gossipsub, WASM miners in worker threads, BLS-certified pins); outsiders with no keys
 * (bench/attack/attacker.ts) flood them phase by phase. Each phase prints the honest pin rate
 * (pinned keyblocks per minute) against the quiet baseline, the process's CPU (cores) and peak RSS,
 * the bans by who of whom, and at the end whether the honest chains agree. Faults: one member stopped
 * (f = 1 of 4) and restarted from its store.
 *
 * BENCH_QUICK=1: 15 s phases (about 3 minutes in all); otherwise 60 s (about 11 minutes). The figures depend on the
 * machine's load, which is printed with them.
 */
import { loadavg } from 'node:os';
import { bytesToHex } from '../src/lib/core/bytes.ts';
import { devGenesis, devInstitution, targetForExpectedHashes } from '../src/lib/core/genesis-dev.ts';
import type { DevInstitution } from '../src/lib/core/genesis-dev.ts';
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
import { Attacker, type AttackKind } from './attack/attacker.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const PHASE_MS = QUICK ? 15_000 : 60_000;
const NAMES = ['Aster Clinic', 'Birch Hospital', 'Cedar Health', 'Dogwood Medical'];
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

export default async function attackBench(): Promise<void> {
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
	const attackers: Attacker[] = [];
	/** A new identity (a banned one is refused at connection: each phase starts unbanned). */
	async function fresh(): Promise<Attacker> {
		const a = await Attacker.start(bootstrap, genesis, clinics, view);
		names.set(a.net.peerId, `attacker ${attackers.length}`);
		attackers.push(a);
		while (a.net.connections().length < members.length)
			await new Promise((resolve) => setTimeout(resolve, 250));
		return a;
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
		const a = await fresh();
		// the replayer first overhears a few rounds of honest votes
		if (kind === 'replay') await new Promise((resolve) => setTimeout(resolve, 5000));
		await phase(kind, (until) => a.flood(kind, kind === 'oversized' ? 5 : RATE, until));
	}
	const crowd = await Promise.all(Array.from({ length: SYBILS }, () => fresh()));
	await phase(`${SYBILS} identities, mixed`, async (until) => {
		const sent = await Promise.all(
			crowd.map((a, i) => a.flood(i % 2 === 0 ? 'forged-votes' : 'random', RATE / 2, until))
		);
		return sent.reduce((sum, n) => sum + n, 0);
	});
	for (const a of attackers) await a.stop();

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
