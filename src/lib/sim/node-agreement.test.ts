/**
 * One set of rules: a real chain (real PoW keyblocks pinned with real BLS certificates, hand-overs
 * applied by the node's ChainState, which recomputes each one) and the simulator's ActivityLedger fed
 * the same keyblocks compute the same group, members and weights, at every epoch.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex } from '../core/bytes.ts';
import { reputationWeight, type ConsensusGroup } from '../core/consensus/group.ts';
import { PRESENCE_WINDOW_EPOCHS } from '../core/consensus/membership.ts';
import { devInstitution, type DevInstitution } from '../../../tests/fixtures/genesis-dev.ts';
import { keyblockHash } from '../core/keyblock.ts';
import { encodePin } from '../core/pinning.ts';
import { ChainState } from '../runtime/chain-state.ts';
import { expectedGroup } from '../runtime/chain-metrics.ts';
import { genesisGroup } from '../runtime/genesis-group.ts';
import { openMemoryStore } from '../store/memory-store.ts';
import { mineNext, soundVerifier, testGenesis } from '../../../tests/fixtures/chain.ts';
import { certify } from '../../../tests/fixtures/pins.ts';
import { ActivityLedger } from './activity-ledger.ts';
import { seededRandom } from './random.ts';

// Epochs of 2 keyblocks, so the chain crosses the presence window (PRESENCE_WINDOW_EPOCHS epochs).
const genesis = testGenesis({ epochLength: 2 });
const all: DevInstitution[] = genesis.institutions.map((i) => devInstitution(i.name));
const signersOf = (group: ConsensusGroup) => all.filter((d) => group.indexOf(d.institution.id) >= 0);

describe('simulator and node agree', () => {
	it('compute the same group and weights from one chain at every hand-over', async () => {
		const chain = await ChainState.open({
			genesis,
			store: openMemoryStore(),
			group: genesisGroup(genesis),
			verifier: soundVerifier,
			clock: () => Date.UTC(2030, 0, 1)
		});
		const ids = genesis.institutions.map((i) => bytesToHex(i.id));
		const ledger = new ActivityLedger(ids, genesis.reputation);
		const params = chain.membershipParams;
		const random = seededRandom(11);
		// Skewed miners; Dogwood (3) mines in epoch 0 at most and leaves the presence window before the
		// end; Elm (4) mines most of epoch 3.
		const minerAt = (epoch: number) => {
			if (epoch === 3 && random.float() < 0.8) return 4;
			const pool = epoch === 0 ? [0, 1, 2, 3] : [0, 0, 1, 2, 4];
			return pool[Math.floor(random.float() * pool.length)]!;
		};
		const epochs = PRESENCE_WINDOW_EPOCHS + 3;
		let compared = 0;
		for (let epoch = 0; epoch < epochs; epoch++) {
			if (epoch > 0) {
				const node = expectedGroup(chain, epoch);
				const simulated = ledger.incomingGroup(epoch, params);
				const rOf = new Map(ledger.standings().map((s) => [s.institution, s.r]));
				expect(node.members.map((m) => bytesToHex(m.id)).sort()).toEqual([...simulated].sort());
				expect(node.members.map((m, i) => [bytesToHex(m.id), node.weights[i]]).sort()).toEqual(
					simulated.map((id) => [id, reputationWeight(rOf.get(id)!)]).sort()
				);
				compared++;
				const certificate = certify(chain.group, signersOf(chain.group), 'membership', epoch, node.hash);
				await chain.apply({ type: 'handover', handover: { epoch, members: [...node.members], certificate } });
			}
			for (let i = 0; i < params.epochLength; i++) {
				const miner = minerAt(epoch);
				const block = mineNext(chain.ledger, all[miner]!);
				const group = chain.groupFor(block.header.height)!;
				const pin = certify(
					group,
					signersOf(group),
					'keyblock',
					block.header.height,
					keyblockHash(block.header)
				);
				await chain.apply({ type: 'keyblock', block: { ...block, pin: encodePin(pin) } });
				ledger.addKeyblock(miner);
			}
		}
		expect(compared).toBe(epochs - 1);
		// The presence rule acted on both sides: Dogwood holds no seat in the last group.
		expect(ledger.incomingGroup(epochs, params)).not.toContain(ids[3]);
		expect(expectedGroup(chain, epochs).indexOf(all[3]!.institution.id)).toBe(-1);
	}, 180_000);
});
