import { describe, expect, it } from 'vitest';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { bytesToHex } from '../bytes.ts';
import { assembleCertificate, statementBytes, type Certificate } from '../certificate.ts';
import { ValidationError } from '../errors.ts';
import { blsSign } from './bls.ts';
import { devMember, type DevMember } from '../../../../tests/fixtures/dev-members.ts';
import { ConsensusGroup } from './group.ts';
import { attachMachine, InMemoryNetwork } from './in-memory-network.ts';
import { ConsensusMachine } from './machine.ts';
import {
	decodeHandover,
	encodeHandover,
	epochOf,
	followHandovers,
	isEpochEnd,
	selectGroup,
	verifyHandover,
	type Handover
} from './membership.ts';
import { MemoryVotingStateStore } from './voting-state.ts';

const params = { groupSize: 4, epochLength: 10 };
const candidates = (reputations: number[]): DevMember[] => reputations.map((r, i) => devMember(i, r));

function handover(outgoing: ConsensusGroup, signers: DevMember[], incoming: ConsensusGroup): Handover {
	const decision = { kind: 'membership' as const, height: incoming.epoch, round: 0, value: incoming.hash };
	const statement = statementBytes(outgoing, { ...decision, step: 'precommit' });
	const certificate = assembleCertificate(
		outgoing,
		decision,
		new Map(signers.map((d) => [outgoing.indexOf(d.member.id), blsSign(d.secretKey, statement)]))
	);
	return { epoch: incoming.epoch, members: [...incoming.members], certificate };
}

describe('group membership and certified hand-over', () => {
	it('epochs: heights 1-10 are epoch 0, 11-20 epoch 1', () => {
		expect([1, 10, 11, 20, 21].map((h) => epochOf(h, params))).toEqual([0, 0, 1, 1, 2]);
		expect(isEpochEnd(10, params)).toBe(true);
		expect(isEpochEnd(11, params)).toBe(false);
	});

	it('selects the top-X by reputation, ties to the lower id', () => {
		const pool = candidates([0.1, 0.9, 0.5, 0.5, 0.7, 0.2]);
		const group = selectGroup(
			pool.map((d) => d.member),
			1,
			params
		);
		const chosen = new Set(group.members.map((m) => bytesToHex(m.id)));
		expect(chosen.size).toBe(4);
		for (const i of [1, 2, 3, 4]) expect(chosen.has(bytesToHex(pool[i]!.member.id))).toBe(true);
	});

	it('follows certified hand-overs and rejects uncertified or misdirected ones', () => {
		const pool = candidates([0.9, 0.8, 0.7, 0.6, 0.95, 0.05]);
		const genesis = selectGroup(
			pool.map((d) => d.member),
			0,
			params
		);
		// Reputations move: member 4 rises, member 3 drops out.
		const next = selectGroup(
			pool.map((d, i) => ({ ...d.member, reputation: i === 3 ? 0.01 : d.member.reputation })),
			1,
			params
		);
		const outgoingSigners = pool.filter((d) => genesis.indexOf(d.member.id) >= 0);
		const good = handover(genesis, outgoingSigners.slice(0, 3), next);
		const decoded = decodeHandover(encodeHandover(good));
		const current = followHandovers(genesis, [decoded]);
		expect(bytesToHex(current.hash)).toBe(bytesToHex(next.hash));

		// Signed by the incoming group instead of the outgoing one.
		const incomingSigners = pool.filter((d) => next.indexOf(d.member.id) >= 0);
		const selfCertified = handover(next, incomingSigners, next);
		expect(() => verifyHandover(genesis, selfCertified)).toThrow(ValidationError);
		// Members swapped after certification.
		const swapped = { ...good, members: [...good.members.slice(1), pool[5]!.member] };
		expect(() => verifyHandover(genesis, swapped)).toThrow(
			expect.objectContaining({ code: 'certificate-value' })
		);
		// Skipping an epoch.
		expect(() => verifyHandover(genesis, { ...good, epoch: 2 })).toThrow(
			expect.objectContaining({ code: 'handover-epoch' })
		);
	});

	it('the outgoing group agrees on the hand-over with the consensus machine', async () => {
		const pool = candidates([0.9, 0.8, 0.7, 0.6, 0.95]);
		const outgoing = selectGroup(
			pool.map((d) => d.member),
			0,
			params
		);
		// Every member computes the next group from the chain's reputations; member 4 has risen.
		const incoming = selectGroup(
			pool.map((d) => d.member),
			1,
			params
		);
		const rng = xoroshiro128plus(7);
		const network = new InMemoryNetwork(
			{ int: (from, to) => uniformInt(rng, from, to) },
			{ gst: 3000, dropPerMille: 200, duplicatePerMille: 100, maxDelayBeforeGst: 1500, maxDelayAfterGst: 100 }
		);
		const certificates: Certificate[] = [];
		for (const d of pool.filter((p) => outgoing.indexOf(p.member.id) >= 0)) {
			const machine = new ConsensusMachine({
				kind: 'membership',
				signer: d.signer,
				store: new MemoryVotingStateStore(),
				application: {
					propose: async () => incoming.hash,
					validate: async (value) => bytesToHex(value) === bytesToHex(incoming.hash)
				}
			});
			attachMachine(network, bytesToHex(d.member.id), machine, (output) => {
				if (output.type === 'decision') certificates.push(output.certificate);
			})(incoming.epoch, outgoing);
		}
		await network.run(() => certificates.length === outgoing.size, 120_000);
		expect(certificates).toHaveLength(outgoing.size);
		for (const certificate of certificates) {
			const next = verifyHandover(outgoing, { epoch: 1, members: [...incoming.members], certificate });
			expect(bytesToHex(next.hash)).toBe(bytesToHex(incoming.hash));
		}
	});
});
