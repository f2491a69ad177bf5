/**
 * The hand-over on a real chain (real PoW keyblocks, real BLS certificates, the node's ChainState):
 * the incoming group is the top X by lifetime reputation, not "who mined the last epoch", and a node
 * refuses a hand-over naming any other group even when the outgoing group certified it.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, equalBytes } from '../core/bytes.ts';
import { ConsensusGroup } from '../core/consensus/group.ts';
import { PRESENCE_WINDOW_EPOCHS, rankIncomingGroup, type Handover } from '../core/consensus/membership.ts';
import { devInstitution, type DevInstitution } from '../../../tests/fixtures/genesis-dev.ts';
import { keyblockHash } from '../core/keyblock.ts';
import { encodePin } from '../core/pinning.ts';
import { consensusGroup } from '../core/reputation.ts';
import { openMemoryStore } from '../store/memory-store.ts';
import { mineNext, soundVerifier, testGenesis } from '../../../tests/fixtures/chain.ts';
import { certify } from '../../../tests/fixtures/pins.ts';
import { chainReputations, chainStandings, RANKING_TOLERANCE } from './chain-metrics.ts';
import { ChainState } from './chain-state.ts';
import { genesisGroup } from './genesis-group.ts';
import { HandoverAgreement } from './membership-handover.ts';

const genesis = testGenesis();
const NOW = Date.UTC(2030, 0, 1);
const all: DevInstitution[] = genesis.institutions.map((i) => devInstitution(i.name));
const [aster, birch, cedar, dogwood, elm] = all as [
	DevInstitution,
	DevInstitution,
	DevInstitution,
	DevInstitution,
	DevInstitution
];
const signersOf = (group: ConsensusGroup) => all.filter((d) => group.indexOf(d.institution.id) >= 0);

/** A node's chain where the keyblocks of epoch e are mined by `miners(e, i)`, pinned by that epoch's group. */
async function buildChain(
	epochs: number,
	miners: (epoch: number, index: number) => DevInstitution,
	genesis = testGenesis()
) {
	const chain = await ChainState.open({
		genesis,
		store: openMemoryStore(),
		group: genesisGroup(genesis),
		verifier: soundVerifier,
		clock: () => NOW
	});
	const handovers = new HandoverAgreement({ chain, driverFor: () => null, publish: async () => {} });
	for (let epoch = 0; epoch < epochs; epoch++) {
		if (epoch > 0)
			await chain.apply({
				type: 'handover',
				handover: certified(chain, chain.group, handovers.incomingGroup(epoch))
			});
		for (let i = 0; i < genesis.epochLength; i++) {
			const block = mineNext(chain.ledger, miners(epoch, i));
			const group = chain.groupFor(block.header.height)!;
			const value = keyblockHash(block.header);
			const pin = certify(group, signersOf(group), 'keyblock', block.header.height, value);
			await chain.apply({ type: 'keyblock', block: { ...block, pin: encodePin(pin) } });
		}
	}
	return { chain, handovers };
}

/** A hand-over to `incoming`, signed by every member of `outgoing`. */
function certified(chain: ChainState, outgoing: ConsensusGroup, incoming: ConsensusGroup): Handover {
	expect(chain.epochs).toBe(incoming.epoch);
	return {
		epoch: incoming.epoch,
		members: [...incoming.members],
		certificate: certify(outgoing, signersOf(outgoing), 'membership', incoming.epoch, incoming.hash)
	};
}

const ids = (group: ConsensusGroup) => group.members.map((m) => bytesToHex(m.id)).sort();

describe('hand-over by lifetime reputation', () => {
	it('hands over to the top X by lifetime reputation although one institution mined the whole last epoch', async () => {
		// Epochs 0-1: the four genesis members mine in turn; epoch 2: Elm mines every keyblock.
		const honest = [aster, birch, cedar, dogwood];
		const { chain, handovers } = await buildChain(3, (epoch, i) => (epoch < 2 ? honest[i % 4]! : elm));
		expect(chain.height).toBe(30);
		const lastEpochMiners = new Set(
			Array.from({ length: 10 }, (_, i) => bytesToHex(chain.ledger.keyblock(21 + i)!.block.header.miner))
		);
		expect(lastEpochMiners).toEqual(new Set([bytesToHex(elm.institution.id)]));

		const next = handovers.incomingGroup(3);
		// RepuCoin's "miners of the epoch" rule would give a group of one (Elm), holding every pin.
		expect(next.size).toBe(genesis.consensusGroupSize);
		const lifetime = chainReputations(chain, 30, 20);
		expect(ids(next)).toEqual(consensusGroup(lifetime, genesis.consensusGroupSize).sort());
		// Elm earned one seat with its epoch of work, no more; its weight is its lifetime R.
		expect(next.indexOf(elm.institution.id)).toBeGreaterThanOrEqual(0);
		const elmWeight = next.weights[next.indexOf(elm.institution.id)]!;
		expect(3 * elmWeight).toBeLessThan(next.totalWeight);
		// The node accepts exactly this group from the outgoing group's certificate.
		expect(await chain.apply({ type: 'handover', handover: certified(chain, chain.group, next) })).toBe(
			'applied'
		);
		expect(equalBytes(chain.group.hash, next.hash)).toBe(true);
	}, 60_000);

	it('a node refuses a certified hand-over whose members or weights differ from its own ranking', async () => {
		const honest = [aster, birch, cedar, dogwood];
		const { chain, handovers } = await buildChain(2, (epoch, i) => (epoch < 1 ? honest[i % 4]! : elm));
		const outgoing = chain.group;
		const right = handovers.incomingGroup(2);
		// What the old rule (miners of the last epoch) would certify: Elm alone.
		const onlyElm = new ConsensusGroup(
			[{ id: elm.institution.id, blsPublicKey: elm.institution.blsKey, reputation: 0.5 }],
			2
		);
		await expect(
			chain.apply({ type: 'handover', handover: certified(chain, outgoing, onlyElm) })
		).rejects.toMatchObject({ code: 'handover-ranking' });
		// The right members with inflated weights for one of them.
		const inflated = new ConsensusGroup(
			right.members.map((m, i) => (i === 0 ? { ...m, reputation: m.reputation + 0.1 } : m)),
			2
		);
		await expect(
			chain.apply({ type: 'handover', handover: certified(chain, outgoing, inflated) })
		).rejects.toMatchObject({ code: 'handover-ranking' });
		// An uncertified right group is refused by the certificate check (necessary, not sufficient).
		const unsigned = certified(chain, outgoing, right);
		await expect(
			chain.apply({
				type: 'handover',
				handover: { ...unsigned, certificate: { ...unsigned.certificate, value: onlyElm.hash } }
			})
		).rejects.toMatchObject({ name: 'ValidationError' });
		expect(chain.epochs).toBe(2);
		// Within RANKING_TOLERANCE (a record attachment one node has and another not yet) it is the same group.
		const shaded = new ConsensusGroup(
			right.members.map((m, i) => (i === 0 ? { ...m, reputation: m.reputation + RANKING_TOLERANCE / 2 } : m)),
			2
		);
		expect(await chain.apply({ type: 'handover', handover: certified(chain, outgoing, shaded) })).toBe(
			'applied'
		);
	}, 60_000);

	it('drops an institution unseen on chain for the presence window, and only then', async () => {
		// Epochs of 2 keyblocks, so the window (PRESENCE_WINDOW_EPOCHS epochs) is short enough to cross.
		const short = testGenesis({ epochLength: 2 });
		const window = PRESENCE_WINDOW_EPOCHS * 2;
		// Dogwood mines keyblock 4 only; Elm never mines. Nobody proposes batches.
		const epochs = Math.ceil((4 + window) / 2) + 1;
		const { chain, handovers } = await buildChain(
			epochs,
			(epoch, i) => (epoch === 1 && i === 1 ? dogwood : [aster, birch, cedar][(epoch + i) % 3]!),
			short
		);
		const dogwoodId = bytesToHex(dogwood.institution.id);
		expect(chainStandings(chain, epochs).find((s) => s.institution === dogwoodId)!.lastSeen).toBe(4);
		// Never seen: never eligible, even on a young chain.
		expect(handovers.incomingGroup(1).indexOf(elm.institution.id)).toBe(-1);
		// Eligible while keyblock 4 is within the window before the epoch's end, not after.
		const lastIn = Math.floor((4 + window - 1) / 2);
		const params = chain.membershipParams;
		expect(rankIncomingGroup(chainStandings(chain, lastIn), lastIn, params)).toContain(dogwoodId);
		expect(rankIncomingGroup(chainStandings(chain, lastIn + 1), lastIn + 1, params)).not.toContain(dogwoodId);
		const last = handovers.incomingGroup(epochs);
		expect(last.indexOf(dogwood.institution.id)).toBe(-1);
		expect(last.size).toBe(3);
	}, 180_000);
});
