/**
 * Joining later over real libp2p on loopback: three genesis institutions (a quorum of the genesis group
 * of four) answer applications with the 'open' policy; an institution outside genesis applies, collects
 * their approvals, submits the admission, a member's keyblock carries it and the group pins it; the new
 * institution then mines a keyblock that the group pins, and a node that syncs later rebuilds the same
 * registry from the journal. A 'manual' member keeps the application until its operator decides.
 */
import '../node/polyfills.ts';
import { describe, expect, it } from 'vitest';
import { targetForExpectedHashes, type DevInstitution } from '../../../tests/fixtures/genesis-dev.ts';
import { clinics, outsider, testGenesis } from '../../../tests/fixtures/chain.ts';
import { useTestNetwork } from '../../../tests/fixtures/test-network.ts';
import { AdmissionDesk, seekAdmission, type AdmissionPolicy, type AdmissionStatus } from './admission.ts';
import type { FullNode } from './full-node.ts';

// Long epochs: no hand-over during the test, so the genesis group approves and pins throughout.
const genesis = testGenesis({
	timestamp: Date.now() - 60_000,
	epochLength: 100,
	initialTarget: targetForExpectedHashes(1n << 16n)
});
const [aster, birch, cedar] = clinics as [DevInstitution, DevInstitution, DevInstitution];
const network = useTestNetwork(genesis);
const { nodes } = network;

async function startNode(clinic?: DevInstitution): Promise<FullNode> {
	return (await network.startNode({ clinic, mine: clinic !== undefined })).node;
}

function desk(node: FullNode, clinic: DevInstitution, policy: AdmissionPolicy): AdmissionDesk {
	return new AdmissionDesk({ node, id: clinic.institution.id, blsKey: clinic.secrets.blsKey, policy });
}

describe('admission of an institution outside genesis, over libp2p', () => {
	it('applies, is approved by the group quorum, admitted by a pinned keyblock, and mines', async () => {
		const members = [await startNode(aster), await startNode(birch), await startNode(cedar)];
		const manual = desk(members[0]!, aster, 'manual');
		desk(members[1]!, birch, 'open');
		desk(members[2]!, cedar, 'open');
		const applicant = await startNode(outsider);
		await expect.poll(() => nodes.every((n) => n.net.peers().length >= 3), { timeout: 30_000 }).toBe(true);

		const statuses: AdmissionStatus[] = [];
		const admitted = seekAdmission({
			node: applicant,
			net: applicant.net,
			institution: outsider.institution,
			signingKey: outsider.secrets.signingKey,
			onStatus: (s) => statuses.push(s),
			retryMs: 1000
		});
		// Two open members are not a quorum of four: the manual member's operator must decide.
		await expect
			.poll(() => statuses.at(-1), { timeout: 30_000 })
			.toMatchObject({ state: 'applying', approvals: 2, members: 4, pending: 1 });
		expect(manual.pending()).toHaveLength(1);
		expect(manual.pending()[0]!.institution.name).toBe('Outsider Clinic');
		manual.decide(manual.pending()[0]!.hash, true);

		members[0]!.startMining();
		const from = await admitted;
		expect(statuses.some((s) => s.state === 'submitted')).toBe(true);
		// Every node holds the same registry, with the newcomer after the founders.
		for (const node of nodes)
			await expect
				.poll(() => node.chain.ledger.registry.byId(outsider.institution.id)?.admittedAt, { timeout: 60_000 })
				.toBe(from - 1);
		expect(applicant.chain.ledger.registry.byId(outsider.institution.id)!.index).toBe(
			genesis.institutions.length
		);

		// The newcomer mines alone now; the group pins its keyblock.
		members[0]!.stopMining();
		applicant.startMining();
		const minedByNewcomer = () => {
			const { ledger } = members[1]!.chain;
			for (let h = from; h <= ledger.height; h++)
				if (
					ledger.minerOf(ledger.keyblock(h)!.block.header).every((b, i) => b === outsider.institution.id[i])
				)
					return true;
			return false;
		};
		await expect.poll(minedByNewcomer, { timeout: 120_000, interval: 500 }).toBe(true);
		applicant.stopMining();

		// A node that syncs later rebuilds the registry from the journal (pinned keyblocks).
		const late = await startNode();
		await expect
			.poll(() => late.chain.ledger.registry.byId(outsider.institution.id)?.admittedAt, { timeout: 90_000 })
			.toBe(from - 1);
	}, 400_000);
});
