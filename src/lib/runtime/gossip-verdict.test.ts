/**
 * Blame only the author, over real libp2p on loopback: an outsider X is connected to an honest member R
 * only, and R to another honest member C, which is one height ahead. X's forged votes reach C only if R
 * forwards them; R judges them with the node's own verdict (gossip-verdict.ts over its consensus driver
 * and machine). A forged vote of a height R has not reached cannot be checked by R, so R must neither
 * forward it (C would check it, refuse it and blame R) nor blame X for it; one of R's own height R
 * checks, refuses and blames X for. C never penalises R.
 */
import '../node/polyfills.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bytes } from '../core/bytes.ts';
import { statementBytes } from '../core/certificate.ts';
import { blsSign } from '../core/consensus/bls.ts';
import { devMembers } from '../../../tests/fixtures/dev-members.ts';
import { ConsensusGroup } from '../core/consensus/group.ts';
import { ConsensusMachine } from '../core/consensus/machine.ts';
import { encodeMessage, statementOf, type SignedMessage, type Vote } from '../core/consensus/messages.ts';
import { MemoryVotingStateStore } from '../core/consensus/voting-state.ts';
import { encodeConsensusEnvelope } from '../core/gossip.ts';
import { sha256 } from '../core/hash.ts';
import { createPeerNet } from '../net/peer-net.node.ts';
import type { PeerNet } from '../net/peer-net.ts';
import { ConsensusDriver } from './consensus-driver.ts';
import { consensusVerdict, judged } from './gossip-verdict.ts';

const dev = devMembers([0.5, 0.5, 0.5, 0.5]);
const group = new ConsensusGroup(dev.map((d) => d.member));
const ordered = [...dev].sort((a, b) => group.indexOf(a.member.id) - group.indexOf(b.member.id));

function vote(signer: number, sender: number, height: number, round: number, salt: number): Bytes {
	const partial: Vote = {
		type: 'prevote',
		kind: 'keyblock',
		height,
		round,
		value: sha256(new Uint8Array([salt, height, round])),
		sender: ordered[sender]!.member.id,
		signature: new Uint8Array(96)
	};
	const signature = blsSign(ordered[signer]!.secretKey, statementBytes(group, statementOf(partial)));
	const message = encodeMessage({ ...partial, signature } as SignedMessage);
	return encodeConsensusEnvelope({ kind: 'keyblock', message });
}

/** A member's driver at `height`, its outputs published nowhere (only its judgement is under test). */
async function memberAt(index: number, height: number): Promise<ConsensusDriver> {
	const machine = new ConsensusMachine({
		kind: 'keyblock',
		signer: ordered[index]!.signer,
		store: new MemoryVotingStateStore(),
		application: { propose: async () => new Uint8Array(32), validate: async () => true }
	});
	const driver = new ConsensusDriver(machine, {
		publish: async () => {},
		decided: () => {},
		evidence: () => {},
		error: () => {}
	});
	await driver.start(height, group);
	return driver;
}

let x: PeerNet;
let r: PeerNet;
let c: PeerNet;
let relayDriver: ConsensusDriver;
let checkerDriver: ConsensusDriver;

beforeAll(async () => {
	relayDriver = await memberAt(0, 1);
	checkerDriver = await memberAt(1, 2);
	r = await createPeerNet({ bootstrap: [] });
	// maxPeers 0: X and C dial only R (their bootstrap), never each other through R's directory.
	x = await createPeerNet({ bootstrap: r.addresses(), limits: { maxPeers: 0 } });
	c = await createPeerNet({ bootstrap: r.addresses(), limits: { maxPeers: 0 } });
	r.subscribe('consensus', (data) => judged(() => consensusVerdict(data, () => relayDriver)));
	c.subscribe('consensus', (data) => judged(() => consensusVerdict(data, () => checkerDriver)));
	x.subscribe('consensus', async () => 'ignore');
}, 60_000);

afterAll(async () => {
	for (const driver of [relayDriver, checkerDriver]) driver?.stop();
	await Promise.allSettled([x, r, c].map((net) => net?.stop()));
});

describe('gossip verdicts over libp2p', () => {
	it('a forwarded forged vote penalises no honest relay', async () => {
		await expect.poll(() => r.peers().length, { timeout: 30_000, interval: 200 }).toBe(2);
		expect(x.peers()).toEqual([r.peerId]);
		expect(c.peers()).toEqual([r.peerId]);

		// Genuine votes of R's height, from X: R checks and forwards them, C (a height ahead) ignores them.
		let salt = 0;
		await expect
			.poll(
				async () => {
					await x.publish('consensus', vote(2, 2, 1, 0, salt++));
					return c.stats().received;
				},
				{ timeout: 30_000, interval: 500 }
			)
			.toBeGreaterThan(0);

		// Forged votes of C's height (member 3's name, member 2's signature): R cannot check them yet.
		const before = { r: r.stats(), c: c.stats() };
		for (let k = 0; k < 20; k++) await x.publish('consensus', vote(2, 3, 2, 0, 100 + k));
		// One forged vote of R's own height: R checks it and blames X.
		await x.publish('consensus', vote(2, 3, 1, 0, 200));
		await expect
			.poll(() => r.stats().rejected, { timeout: 20_000, interval: 100 })
			.toBe(before.r.rejected + 1);
		// A genuine vote after them all: once C has it, anything R forwarded earlier has reached C too.
		const received = c.stats().received;
		await x.publish('consensus', vote(2, 2, 1, 1, 250));
		await expect.poll(() => c.stats().received, { timeout: 20_000, interval: 100 }).toBeGreaterThan(received);

		expect(r.stats().received - before.r.received).toBeGreaterThanOrEqual(22);
		expect(c.stats().rejected).toBe(0);
		expect(c.stats().banned).toEqual([]);
		// R buffered (not forwarded) the later height's forgeries, within its per-slot bound.
		expect(relayDriver.machine.buffered).toBeGreaterThan(0);
		expect(relayDriver.machine.buffered).toBe(1); // one slot (member 3, round 0, prevote)
	});
});
