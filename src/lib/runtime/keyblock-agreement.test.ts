/**
 * The node's pin choice against a withholding miner (core pin-choice.ts driven through the node's
 * KeyblockAgreement, with real PoW candidates): a member proposes and prevotes only the keyblock it
 * received first; a rival released later gets no prevote until the height has been split for
 * PIN_SPLIT_MS, after which any valid candidate may be pinned so the group still decides.
 */
import { describe, expect, it, vi } from 'vitest';
import { bytesToHex } from '../core/bytes.ts';
import { keyblockHash } from '../core/keyblock.ts';
import { encodePin } from '../core/pinning.ts';
import { certify } from '../../../tests/fixtures/pins.ts';
import { PIN_SPLIT_MS } from '../core/consensus/pin-choice.ts';
import { openMemoryStore } from '../store/memory-store.ts';
import { clinics, mineNext, soundVerifier, testGenesis } from '../../../tests/fixtures/chain.ts';
import { ChainState } from './chain-state.ts';
import { genesisGroup } from './genesis-group.ts';
import { KeyblockAgreement } from './keyblock-agreement.ts';

const genesis = testGenesis();
const [aster, birch] = clinics as [(typeof clinics)[0], (typeof clinics)[0]];

describe('keyblock pin choice', () => {
	it('backs the first valid candidate; a later release only after a split', async () => {
		let now = Date.UTC(2030, 0, 1);
		const clock = () => now;
		const chain = await ChainState.open({
			genesis,
			store: openMemoryStore(),
			group: genesisGroup(genesis),
			verifier: soundVerifier,
			clock
		});
		const agreement = new KeyblockAgreement({
			chain,
			driverFor: () => null,
			publishPinned: async () => {},
			clock
		});
		const honest = mineNext(chain.ledger, aster);
		const withheld = mineNext(chain.ledger, birch);
		expect(await agreement.offer(honest)).toBe(true);
		now += 800; // the selfish miner saw the honest block and released its own
		expect(await agreement.offer(withheld)).toBe(true);

		expect(await agreement.propose(1)).toEqual(keyblockHash(honest.header));
		expect(await agreement.validate(keyblockHash(honest.header), 1)).toBe(true);
		expect(await agreement.validate(keyblockHash(withheld.header), 1)).toBe(false);
		// Just before the split time, still only the first arrival.
		now += PIN_SPLIT_MS - 801;
		expect(await agreement.validate(keyblockHash(withheld.header), 1)).toBe(false);
		// Split for PIN_SPLIT_MS: any valid candidate, so members that saw the other block first can agree.
		now += 1;
		expect(await agreement.validate(keyblockHash(withheld.header), 1)).toBe(true);
		// A value this member never received is not backed however long the height is open.
		expect(await agreement.validate(new Uint8Array(32).fill(7), 1)).toBe(false);
	}, 30_000);

	it('fetches a candidate it missed from peers, checks it, and backs it', async () => {
		const chain = await ChainState.open({
			genesis,
			store: openMemoryStore(),
			group: genesisGroup(genesis),
			verifier: soundVerifier
		});
		const missed = mineNext(chain.ledger, aster);
		// Same header, another miner's signature: the fetched bytes fail the keyblock's own checks.
		const forged = { ...mineNext(chain.ledger, birch), header: missed.header };
		const asked: string[] = [];
		let answer: typeof missed | null = forged;
		const agreement = new KeyblockAgreement({
			chain,
			driverFor: () => null,
			publishPinned: async () => {},
			fetchCandidate: async (hash) => {
				asked.push(bytesToHex(hash));
				return answer;
			}
		});
		expect(await agreement.validate(keyblockHash(missed.header), 1)).toBe(false);
		expect(agreement.pendingCandidates).toHaveLength(0);
		answer = missed;
		expect(await agreement.validate(keyblockHash(missed.header), 1)).toBe(true);
		expect(asked).toEqual([bytesToHex(keyblockHash(missed.header)), bytesToHex(keyblockHash(missed.header))]);
		// Held now: served to the next peer that missed it, and not fetched again.
		expect(agreement.candidate(keyblockHash(missed.header))).toBeDefined();
		expect(await agreement.validate(keyblockHash(missed.header), 1)).toBe(true);
		expect(asked).toHaveLength(2);
	}, 30_000);

	it('stops waiting for a value as soon as the chain passes its height', async () => {
		const chain = await ChainState.open({
			genesis,
			store: openMemoryStore(),
			group: genesisGroup(genesis),
			verifier: soundVerifier
		});
		const agreement = new KeyblockAgreement({ chain, driverFor: () => null, publishPinned: async () => {} });
		const block = mineNext(chain.ledger, aster);
		const value = keyblockHash(block.header);
		const certificate = certify(genesisGroup(genesis), clinics.slice(0, 3), 'keyblock', 1, value);
		// No timer runs: only the chain's move can settle the wait.
		vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
		try {
			const verdict = agreement.validate(new Uint8Array(32).fill(7), 1);
			await chain.apply({ type: 'keyblock', block: { ...block, pin: encodePin(certificate) } });
			agreement.chainAdvanced();
			expect(await verdict).toBe(false);
		} finally {
			vi.useRealTimers();
		}
	}, 30_000);
});
