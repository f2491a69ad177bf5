/**
 * A consensus member's work on one batch, as the live node does it (runtime/batch-agreement.ts): decode
 * the proposal, check every transaction (fees, holder, the patient's BIP-340 signature), batch-verify
 * every chameleon-hash Groth16 proof, then sign the prevote; verify the others' prevotes and sign the
 * precommit; verify the others' precommits; verify the certificate. One process per core runs the tasks
 * of every member in turn; no result is shared between members (each verifies everything itself).
 * (Processes, not worker threads: snarkjs's own worker shim misreads a worker thread as one of its own.)
 *
 * SPCHAIN_BENCH_CRYPTO picks the signature back ends: `wasm` (libsecp256k1 and mcl, what the nodes
 * install) or `noble` (@noble/curves, the baseline). The CPU time of each prevote's decoding and checks
 * (fees, holder and signature; proofs) is measured by stage and returned, for the per-transaction
 * verification cost and where it goes.
 */
import '../../src/lib/node/polyfills.ts';
import { decodeCertificate, statementBytes, verifyCertificate } from '../../src/lib/core/certificate.ts';
import { messageFromDigest } from '../../src/lib/core/chameleon.ts';
import { blsSign, blsVerify } from '../../src/lib/core/consensus/bls.ts';
import { devMembers } from '../../tests/fixtures/dev-members.ts';
import { ConsensusGroup } from '../../src/lib/core/consensus/group.ts';
import { devGenesis, devInstitution } from '../../tests/fixtures/genesis-dev.ts';
import { decodeBatchProposal, proposalHash } from '../../src/lib/core/gossip.ts';
import { chameleonStatement, checkTransaction, isRecordTransaction } from '../../src/lib/core/transaction.ts';
import { loadVerificationKey } from '../../src/lib/crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../../src/lib/crypto/batch-verifier.ts';
import { useSignatureVerifier } from '../../src/lib/core/identity.ts';
import { installMclBls } from '../../src/lib/crypto/bls-mcl.ts';
import { loadSchnorrWasmVerifier } from '../../src/lib/crypto/schnorr-wasm.node.ts';
import type { MemberResult, MemberTask, StageCpu } from './protocol.ts';

const send = (message: MemberResult) => process.send!(message);
const genesis = devGenesis();
const author = devInstitution('Aster Clinic').institution;
const backends = process.env.SPCHAIN_BENCH_CRYPTO ?? 'wasm';
if (backends !== 'wasm' && backends !== 'noble')
	throw new Error(`SPCHAIN_BENCH_CRYPTO must be wasm or noble, got ${backends}`);
// The WASM verifiers without the node's remembered verdicts: one process runs several members' tasks,
// and each member must pay for its own checks.
if (backends === 'wasm') {
	useSignatureVerifier(await loadSchnorrWasmVerifier());
	await installMclBls();
}
const verifier = await Groth16BatchVerifier.create(await loadVerificationKey());
const groups = new Map<number, ConsensusGroup>();
const groupOf = (size: number) => {
	let group = groups.get(size);
	if (!group) {
		group = new ConsensusGroup(devMembers(Array.from({ length: size }, () => 1)).map((d) => d.member));
		groups.set(size, group);
	}
	return group;
};
const devMemberId = (member: number) =>
	devMembers(Array.from({ length: member + 1 }, () => 1))[member]!.member.id;
const secretOf = (member: number) =>
	devMembers(Array.from({ length: member + 1 }, () => 1))[member]!.secretKey;

async function prevote(task: Extract<MemberTask, { type: 'prevote' }>): Promise<MemberResult> {
	const stageCpuMs: StageCpu = { decode: 0, checks: 0, proofs: 0 };
	let mark = process.cpuUsage();
	const lap = (stage: keyof StageCpu) => {
		const used = process.cpuUsage(mark);
		stageCpuMs[stage] += (used.user + used.system) / 1000;
		mark = process.cpuUsage();
	};
	const proposal = decodeBatchProposal(task.proposal);
	lap('decode');
	if (task.verify) {
		const statements = proposal.transactions.map((tx) => {
			checkTransaction(tx, genesis.fees);
			if (!isRecordTransaction(tx)) throw new Error('a register transaction in a record batch');
			return chameleonStatement(tx.body, author.chameleonKey, messageFromDigest);
		});
		lap('checks');
		const results = await verifier.verifyAll(statements);
		if (results.some((ok) => !ok)) throw new Error('a chameleon proof did not verify');
		lap('proofs');
	}
	const value = proposalHash(proposal);
	const group = groupOf(task.groupSize);
	const message = statementBytes(group, {
		kind: 'transactions',
		height: task.sequence,
		round: 0,
		step: 'prevote',
		value
	});
	return {
		type: 'done',
		id: task.id,
		value,
		signature: blsSign(secretOf(task.member), message),
		transactions: proposal.transactions.length,
		stageCpuMs
	};
}

function nextVote(task: Extract<MemberTask, { type: 'precommit' | 'commit' }>): MemberResult {
	const group = groupOf(task.groupSize);
	const step = task.type === 'precommit' ? 'prevote' : 'precommit';
	const received = statementBytes(group, {
		kind: 'transactions',
		height: task.sequence,
		round: 0,
		step,
		value: task.value
	});
	for (const [index, signature] of task.votes.entries()) {
		if (index === task.member || !signature) continue;
		// Votes are indexed by member number; the group orders members by id.
		const key = group.members[group.indexOf(devMemberId(index))]!.blsPublicKey;
		if (!blsVerify(key, received, signature)) throw new Error(`member ${index}'s ${step} does not verify`);
	}
	if (task.type === 'commit') return { type: 'done', id: task.id };
	const message = statementBytes(group, {
		kind: 'transactions',
		height: task.sequence,
		round: 0,
		step: 'precommit',
		value: task.value
	});
	return { type: 'done', id: task.id, signature: blsSign(secretOf(task.member), message) };
}

process.on('message', (task: MemberTask) => {
	const run = async (): Promise<MemberResult> => {
		switch (task.type) {
			case 'prevote':
				return prevote(task);
			case 'precommit':
			case 'commit':
				return nextVote(task);
			case 'certificate':
				verifyCertificate(decodeCertificate(task.certificate), groupOf(task.groupSize), {
					kind: 'transactions'
				});
				return { type: 'done', id: task.id };
		}
	};
	run().then(
		(result) => send(result),
		(error: unknown) =>
			send({
				type: 'failed',
				id: task.id,
				message: error instanceof Error ? error.message : String(error)
			})
	);
});
send({ type: 'ready' });
