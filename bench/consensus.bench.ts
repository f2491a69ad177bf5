/**
 * Consensus crypto and agreement costs on this machine: BLS12-381 sign / verify / aggregate rates,
 * certificate verification (one aggregate check) against verifying each signer separately, for the group
 * sizes of the paper's evaluation (4, 7, 10, 13), and the CPU time of one full agreement height with real
 * signatures when every member runs in this one process (so the figure is the whole group's work).
 */
import { bytesToHex, type Bytes } from '../src/lib/core/bytes.ts';
import { assembleCertificate, statementBytes, verifyCertificate } from '../src/lib/core/certificate.ts';
import { blsAggregateSignatures, blsSign, blsVerify } from '../src/lib/core/consensus/bls.ts';
import { devMembers } from '../tests/fixtures/dev-members.ts';
import { ConsensusGroup } from '../src/lib/core/consensus/group.ts';
import { ConsensusMachine, type ConsensusOutput } from '../src/lib/core/consensus/machine.ts';
import { MemoryVotingStateStore } from '../src/lib/core/consensus/voting-state.ts';
import { sha256 } from '../src/lib/core/hash.ts';

function rate(label: string, count: number, run: (i: number) => void): number {
	const start = performance.now();
	for (let i = 0; i < count; i++) run(i);
	const ms = (performance.now() - start) / count;
	console.log(
		`${label.padEnd(44)} ${ms.toFixed(2).padStart(8)} ms/op ${(1000 / ms).toFixed(0).padStart(7)} op/s`
	);
	return ms;
}

async function oneHeight(n: number): Promise<{ ms: number; messages: number }> {
	const dev = devMembers(Array.from({ length: n }, (_, i) => 0.3 + (i % 5) / 10));
	const group = new ConsensusGroup(dev.map((d) => d.member));
	const machines = dev.map(
		(d, i) =>
			new ConsensusMachine({
				kind: 'keyblock',
				signer: d.signer,
				store: new MemoryVotingStateStore(),
				application: {
					propose: async (height) => sha256(new Uint8Array([i, height])),
					validate: async () => true
				}
			})
	);
	const queue: { to: number; bytes: Bytes }[] = [];
	let decided = 0;
	let messages = 0;
	const handle = (from: number, outputs: ConsensusOutput[]): void => {
		for (const output of outputs) {
			if (output.type === 'broadcast')
				for (let to = 0; to < n; to++) if (to !== from) queue.push({ to, bytes: output.bytes });
			if (output.type === 'decision') decided++;
		}
	};
	const start = performance.now();
	for (const [i, m] of machines.entries()) handle(i, await m.start(1, group));
	while (queue.length > 0 && decided < n) {
		const { to, bytes } = queue.shift()!;
		messages++;
		handle(to, await machines[to]!.receive(bytes));
	}
	return { ms: performance.now() - start, messages };
}

export default async function (): Promise<void> {
	const dev = devMembers(Array.from({ length: 13 }, () => 0.5));
	const messages = Array.from({ length: 32 }, (_, i) => sha256(new Uint8Array([i])));
	blsVerify(dev[0]!.member.blsPublicKey, messages[0]!, blsSign(dev[0]!.secretKey, messages[0]!)); // warm-up
	const fresh = Array.from({ length: 32 }, (_, i) => sha256(new Uint8Array([100, i])));
	const sign = rate('BLS sign (new statement, incl. hash-to-G2)', 16, (i) =>
		blsSign(dev[0]!.secretKey, fresh[i]!)
	);
	const signature = blsSign(dev[0]!.secretKey, messages[1]!);
	const verify = rate('BLS verify (statement hashed, signature decoded)', 16, () =>
		blsVerify(dev[0]!.member.blsPublicKey, messages[1]!, signature)
	);
	const signatures = dev.map((d) => blsSign(d.secretKey, messages[2]!));
	rate('BLS aggregate 13 already-verified signatures', 8, () => blsAggregateSignatures(signatures));

	console.log('\ncertificate verification vs group size (all members signed):');
	console.log('   n   certificate ms   n × verify ms   ratio');
	for (const n of [4, 7, 10, 13]) {
		const group = new ConsensusGroup(dev.slice(0, n).map((d) => d.member));
		const decision = { kind: 'keyblock' as const, height: 1, round: 0, value: messages[3 + n]! };
		const statement = statementBytes(group, { ...decision, step: 'precommit' });
		const certificate = assembleCertificate(
			group,
			decision,
			new Map(dev.slice(0, n).map((d) => [group.indexOf(d.member.id), blsSign(d.secretKey, statement)]))
		);
		verifyCertificate(certificate, group);
		const start = performance.now();
		const runs = 8;
		for (let i = 0; i < runs; i++) verifyCertificate(certificate, group);
		const ms = (performance.now() - start) / runs;
		console.log(
			`${String(n).padStart(4)} ${ms.toFixed(2).padStart(16)} ${(n * verify).toFixed(2).padStart(15)} ${((n * verify) / ms).toFixed(1).padStart(7)}×`
		);
	}

	console.log('\none agreement height, all members in this process, reliable in-order delivery:');
	console.log('   n   CPU ms   messages delivered');
	for (const n of [4, 7, 10, 13]) {
		const { ms, messages: delivered } = await oneHeight(n);
		console.log(`${String(n).padStart(4)} ${ms.toFixed(0).padStart(8)} ${String(delivered).padStart(12)}`);
	}
	console.log(
		`\nsign/verify ratio ${(verify / sign).toFixed(2)}; key ${bytesToHex(dev[0]!.member.blsPublicKey).slice(0, 8)}…`
	);
}
