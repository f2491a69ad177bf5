/**
 * The consensus state machine driven directly: decisions, refusals with their codes, evidence,
 * restarts, late values, silent proposers, the later-height buffer and replies to laggards.
 * Why this file is long: one describe per behaviour of one machine, sharing its signed-message helpers.
 */
import { describe, expect, it } from 'vitest';
import { bytesToHex, type Bytes } from '../bytes.ts';
import { blsScheme, statementBytes, verifyCertificate, type SignatureScheme } from '../certificate.ts';
import { ValidationError } from '../errors.ts';
import { decodeEvidence, encodeEvidence, verifyEvidence } from '../evidence.ts';
import { sha256 } from '../hash.ts';
import { blsSign } from './bls.ts';
import { devMember, devMembers } from '../../../../tests/fixtures/dev-members.ts';
import { ConsensusGroup } from './group.ts';
import {
	FUTURE_PER_SLOT,
	FUTURE_ROUNDS,
	HEIGHTS_BUFFERED_AHEAD,
	MAX_BUFFERED_FUTURE
} from './future-buffer.ts';
import { ConsensusMachine, DEFAULT_TIMEOUTS, type ConsensusOutput } from './machine.ts';
import {
	decodeMessage,
	encodeMessage,
	statementOf,
	type Proposal,
	type SignedMessage,
	type Vote
} from './messages.ts';
import { MemoryVotingStateStore } from './voting-state.ts';

const dev = devMembers([0.5, 0.5, 0.5, 0.5]);
const group = new ConsensusGroup(dev.map((d) => d.member));
/** Dev members in group (bitmap) order. */
const ordered = [...dev].sort((a, b) => group.indexOf(a.member.id) - group.indexOf(b.member.id));
const valueOf = (i: number, height: number): Bytes => sha256(new Uint8Array([i, height]));

function machine(i: number, store = new MemoryVotingStateStore()): ConsensusMachine {
	return new ConsensusMachine({
		kind: 'keyblock',
		signer: ordered[i]!.signer,
		store,
		application: { propose: async (height) => valueOf(i, height), validate: async () => true }
	});
}

function signed(
	i: number,
	message: Omit<Proposal, 'sender' | 'signature'> | Omit<Vote, 'sender' | 'signature'>
): Bytes {
	const partial = {
		...message,
		sender: ordered[i]!.member.id,
		signature: new Uint8Array(96)
	} as SignedMessage;
	const signature = blsSign(ordered[i]!.secretKey, statementBytes(group, statementOf(partial)));
	return encodeMessage({ ...partial, signature } as SignedMessage);
}

function broadcasts(outputs: ConsensusOutput[]): Bytes[] {
	return outputs.flatMap((o) => (o.type === 'broadcast' ? [o.bytes] : []));
}

async function rejection(promise: Promise<unknown>): Promise<string> {
	try {
		await promise;
	} catch (error) {
		if (error instanceof ValidationError) return error.code;
		throw error;
	}
	return 'accepted';
}

describe('consensus state machine', () => {
	it('four honest members with reliable delivery decide the proposer value in round 0', async () => {
		const machines = [0, 1, 2, 3].map((i) => machine(i));
		const queue: { to: number; bytes: Bytes }[] = [];
		const decisions: {
			member: number;
			value: Bytes;
			certificate: import('../certificate.ts').Certificate;
		}[] = [];
		const handle = (from: number, outputs: ConsensusOutput[]): void => {
			for (const output of outputs) {
				if (output.type === 'broadcast')
					for (let to = 0; to < 4; to++) if (to !== from) queue.push({ to, bytes: output.bytes });
				if (output.type === 'decision') decisions.push({ member: from, ...output });
			}
		};
		for (const [i, m] of machines.entries()) handle(i, await m.start(1, group));
		while (queue.length > 0) {
			const { to, bytes } = queue.shift()!;
			handle(to, await machines[to]!.receive(bytes));
		}
		expect(decisions).toHaveLength(4);
		const proposer = group.proposer(1, 0);
		for (const d of decisions) {
			expect(bytesToHex(d.value)).toBe(bytesToHex(valueOf(proposer, 1)));
			verifyCertificate(d.certificate, group, { kind: 'keyblock', height: 1, value: d.value });
		}
	});

	it('rejects forged, foreign, misdirected and malformed messages with clear codes', async () => {
		const m = machine(0);
		await m.start(1, group);
		const vote = { type: 'prevote', kind: 'keyblock', height: 1, round: 0, value: valueOf(9, 1) } as const;
		// Signed by member 2 but claiming to be member 1.
		const good = decodeMessage(signed(2, vote)) as Vote;
		const forged = encodeMessage({ ...good, sender: ordered[1]!.member.id });
		expect(await rejection(m.receive(forged))).toBe('consensus-bad-signature');
		const outsider = devMember(99, 0.5);
		expect(await rejection(m.receive(encodeMessage({ ...good, sender: outsider.member.id })))).toBe(
			'consensus-not-member'
		);
		const notProposer = (group.proposer(1, 0) + 1) % 4;
		expect(
			await rejection(
				m.receive(
					signed(notProposer, {
						type: 'proposal',
						kind: 'keyblock',
						height: 1,
						round: 0,
						value: valueOf(1, 1),
						validRound: -1
					})
				)
			)
		).toBe('consensus-not-proposer');
		expect(await rejection(m.receive(signed(2, { ...vote, kind: 'transactions' })))).toBe('consensus-kind');
		expect(await rejection(m.receive(new Uint8Array([0xa1, 0x61, 0x78, 0x01])))).toBe('schema');
		expect(await rejection(m.receive(new Uint8Array([0xff, 0x00])))).toBe('encoding');
		expect(await rejection(m.receive(signed(2, vote)))).toBe('accepted');
	});

	it('reports equivocation as verifiable evidence naming the offender', async () => {
		const m = machine(0);
		await m.start(1, group);
		const base = { type: 'prevote', kind: 'keyblock', height: 1, round: 0 } as const;
		await m.receive(signed(3, { ...base, value: valueOf(1, 1) }));
		const outputs = await m.receive(signed(3, { ...base, value: valueOf(2, 1) }));
		const evidence = outputs.find((o) => o.type === 'evidence');
		expect(evidence?.type).toBe('evidence');
		if (evidence?.type !== 'evidence') return;
		const decoded = decodeEvidence(encodeEvidence(evidence.evidence));
		expect(verifyEvidence(decoded, group)).toEqual({
			offender: bytesToHex(ordered[3]!.member.id),
			height: 1
		});
		// The same vote twice is not evidence; two different members are not either.
		expect(() => verifyEvidence({ first: decoded.first, second: decoded.first }, group)).toThrow(
			ValidationError
		);
		const other = decodeMessage(signed(2, { ...base, value: valueOf(2, 1) })) as SignedMessage;
		expect(() => verifyEvidence({ first: decoded.first, second: other }, group)).toThrow(ValidationError);
	});

	it('a restarted member re-sends its vote and never signs a conflicting one at the same position', async () => {
		const store = new MemoryVotingStateStore();
		const proposer = group.proposer(1, 0);
		const me = (proposer + 1) % 4;
		const first = machine(me, store);
		await first.start(1, group);
		const proposalA = signed(proposer, {
			type: 'proposal',
			kind: 'keyblock',
			height: 1,
			round: 0,
			value: valueOf(proposer, 1),
			validRound: -1
		});
		const sent = broadcasts(await first.receive(proposalA));
		expect(sent).toHaveLength(1);
		const prevote = decodeMessage(sent[0]!) as Vote;
		expect(prevote.type).toBe('prevote');
		expect(store.saves).toBe(1);

		// Crash; a new process with the same store starts height 1 again.
		const restarted = machine(me, store);
		const resent = broadcasts(await restarted.start(1, group));
		expect(resent.map(bytesToHex)).toContain(bytesToHex(sent[0]!));
		// A propose timeout for round 0 (which would prevote nil) must not produce a second prevote.
		const afterTimeout = broadcasts(await restarted.timeout({ step: 'propose', height: 1, round: 0 }));
		const prevotes = afterTimeout.map(decodeMessage).filter((msg) => msg.type === 'prevote');
		for (const vote of prevotes) expect(bytesToHex((vote as Vote).value!)).toBe(bytesToHex(prevote.value!));
	});

	it('a restarted member keeps its lock across the crash', async () => {
		const store = new MemoryVotingStateStore();
		const proposer = group.proposer(1, 0);
		const me = (proposer + 2) % 4; // not the proposer of round 0 or round 1
		const m = machine(me, store);
		await m.start(1, group);
		const v = valueOf(proposer, 1);
		await m.receive(
			signed(proposer, { type: 'proposal', kind: 'keyblock', height: 1, round: 0, value: v, validRound: -1 })
		);
		for (const i of [0, 1, 2, 3].filter((i) => i !== me))
			await m.receive(signed(i, { type: 'prevote', kind: 'keyblock', height: 1, round: 0, value: v }));
		const saved = await store.load('keyblock');
		expect(saved?.lockedRound).toBe(0);
		expect(bytesToHex(saved!.lockedValue!)).toBe(bytesToHex(v));

		// After the restart, a round-1 proposal of another value without a proof of lock gets a nil prevote.
		const restarted = machine(me, store);
		await restarted.start(1, group);
		const proposer1 = group.proposer(1, 1);
		const other = valueOf(proposer1, 9);
		const outputs = [
			...(await restarted.receive(
				signed(proposer1, {
					type: 'proposal',
					kind: 'keyblock',
					height: 1,
					round: 1,
					value: other,
					validRound: -1
				})
			)),
			// The member resumed in round 0; its precommit timeout moves it to round 1.
			...(await restarted.timeout({ step: 'precommit', height: 1, round: 0 })),
			...(await restarted.timeout({ step: 'propose', height: 1, round: 1 }))
		];
		const votes = broadcasts(outputs)
			.map(decodeMessage)
			.filter((msg): msg is Vote => msg.type === 'prevote' && msg.round === 1);
		expect(votes).toHaveLength(1);
		expect(votes[0]!.value).toBeNull();
	});

	it('gives up sooner on a proposer that stayed silent through its round, until it is heard again', async () => {
		const proposer = group.proposer(1, 0);
		const me = (proposer + 1) % 4;
		const m = machine(me);
		const proposeDelay = (outputs: ConsensusOutput[]) =>
			outputs.flatMap((o) => (o.type === 'timeout' && o.timeout.step === 'propose' ? [o.delay] : []));
		// Heights 1, 5 and 9 share round 0's proposer (round-robin over four members).
		expect(group.proposer(5, 0)).toBe(proposer);
		expect(group.proposer(9, 0)).toBe(proposer);

		expect(proposeDelay(await m.start(1, group))).toEqual([DEFAULT_TIMEOUTS.propose]);
		// Nothing came from the proposer in round 0: its timeout fires and the member prevotes nil.
		await m.timeout({ step: 'propose', height: 1, round: 0 });
		expect(proposeDelay(await m.start(5, group))).toEqual([250]);

		// A verified message of it ends its silence: its next round gets the full timeout again.
		await m.receive(
			signed(proposer, { type: 'prevote', kind: 'keyblock', height: 5, round: 0, value: null })
		);
		expect(proposeDelay(await m.start(9, group))).toEqual([DEFAULT_TIMEOUTS.propose]);
		// A proposer whose proposal arrived late (after our timeout, but within the round) is not silent.
		await m.receive(
			signed(proposer, {
				type: 'proposal',
				kind: 'keyblock',
				height: 9,
				round: 0,
				value: valueOf(proposer, 9),
				validRound: -1
			})
		);
		await m.timeout({ step: 'propose', height: 9, round: 0 });
		expect(proposeDelay(await m.start(13, group))).toEqual([DEFAULT_TIMEOUTS.propose]);
	});

	it('judges a value again in a later round when it was missing (not invalid) the first time', async () => {
		let arrived = false;
		const proposer = group.proposer(1, 0);
		const proposer1 = group.proposer(1, 1);
		const me = [0, 1, 2, 3].find((i) => i !== proposer && i !== proposer1)!;
		const m = new ConsensusMachine({
			kind: 'keyblock',
			signer: ordered[me]!.signer,
			store: new MemoryVotingStateStore(),
			application: { propose: async (height) => valueOf(me, height), validate: async () => arrived }
		});
		await m.start(1, group);
		const v = valueOf(proposer, 1);
		const prevotesOf = (outputs: ConsensusOutput[], round: number) =>
			broadcasts(outputs)
				.map(decodeMessage)
				.filter((msg): msg is Vote => msg.type === 'prevote' && msg.round === round);
		const round0 = await m.receive(
			signed(proposer, { type: 'proposal', kind: 'keyblock', height: 1, round: 0, value: v, validRound: -1 })
		);
		expect(prevotesOf(round0, 0).map((vote) => vote.value)).toEqual([null]);

		// The block behind v arrives late; in round 1 the same value is proposed again and now wins our vote.
		arrived = true;
		const round1 = [
			...(await m.timeout({ step: 'precommit', height: 1, round: 0 })),
			...(await m.receive(
				signed(proposer1, {
					type: 'proposal',
					kind: 'keyblock',
					height: 1,
					round: 1,
					value: v,
					validRound: -1
				})
			))
		];
		expect(prevotesOf(round1, 1).map((vote) => bytesToHex(vote.value!))).toEqual([bytesToHex(v)]);
	});

	describe('a hostile network', () => {
		/** BLS with a count of every signature check (single and aggregate): CPU in checks, not time. */
		function countingScheme(): SignatureScheme & { checks: number } {
			const scheme = {
				checks: 0,
				verify: (pk: Bytes, message: Bytes, signature: Bytes) => {
					scheme.checks++;
					return blsScheme.verify(pk, message, signature);
				},
				aggregate: blsScheme.aggregate,
				verifyAggregate: (pks: readonly Bytes[], message: Bytes, signature: Bytes) => {
					scheme.checks++;
					return blsScheme.verifyAggregate(pks, message, signature);
				}
			};
			return scheme;
		}

		function counted(i: number, groupOf?: (height: number) => ConsensusGroup | undefined) {
			const scheme = countingScheme();
			const m = new ConsensusMachine({
				kind: 'keyblock',
				signer: ordered[i]!.signer,
				store: new MemoryVotingStateStore(),
				scheme,
				groupOf,
				application: { propose: async (height) => valueOf(i, height), validate: async () => true }
			});
			return { m, scheme };
		}

		/** A vote claiming to be `member`'s with a real (valid-point) signature over another statement. */
		let template: Vote | undefined;
		function forgedVote(member: number, height: number, round: number, salt: number): Bytes {
			const genuine = (template ??= decodeMessage(
				signed(2, { type: 'prevote', kind: 'keyblock', height: 1, round: 0, value: null })
			) as Vote);
			const value = sha256(new Uint8Array([salt & 255, salt >> 8, salt >> 16, member]));
			const type = salt % 2 === 0 ? 'prevote' : 'precommit';
			return encodeMessage({ ...genuine, type, height, round, value, sender: ordered[member]!.member.id });
		}

		it('a full future-vote buffer costs a bounded number of signature checks', async () => {
			const { m, scheme } = counted(0);
			await m.start(1, group);
			// 6,000 forged votes of later heights: every member's id, an outsider's, any round.
			const outsider = devMember(77, 0.5).member.id;
			for (let k = 0; k < 6000; k++) {
				const member = k % 5;
				const bytes =
					member === 4
						? encodeMessage({ ...(decodeMessage(forgedVote(1, 2, 0, k)) as Vote), sender: outsider })
						: forgedVote(member, 2 + (k % (HEIGHTS_BUFFERED_AHEAD + 3)), k % 40, k);
				expect((await m.deliver(bytes)).intake).toBe('ignore');
			}
			// Nothing was checked on arrival, and the buffer holds at most a slot's worth per member.
			expect(scheme.checks).toBe(0);
			const perHeight = group.size * FUTURE_ROUNDS * 2 * FUTURE_PER_SLOT;
			expect(m.buffered).toBeLessThanOrEqual(HEIGHTS_BUFFERED_AHEAD * perHeight);
			expect(m.buffered).toBeLessThan(MAX_BUFFERED_FUTURE);

			// Height 1 decides (a commit), height 2 starts and drains its share: bounded checks.
			const votes = [0, 1, 2, 3].map((i) =>
				signed(i, { type: 'precommit', kind: 'keyblock', height: 1, round: 0, value: valueOf(1, 1) })
			);
			for (const vote of votes.slice(1)) await m.deliver(vote);
			expect(m.position.decided).toBe(true);
			const beforeDrain = scheme.checks;
			await m.start(2, group);
			expect(scheme.checks - beforeDrain).toBeGreaterThan(0); // the buffer was examined…
			expect(scheme.checks - beforeDrain).toBeLessThanOrEqual(perHeight); // …within its bound
			expect(m.buffered).toBeLessThanOrEqual(perHeight); // height 3's share waits, the rest is gone

			// The forgeries took the member's buffer slots, not its voice: its genuine vote still counts.
			const genuine = signed(2, { type: 'prevote', kind: 'keyblock', height: 2, round: 0, value: null });
			expect((await m.deliver(genuine)).intake).toBe('accept');
		});

		it('a machine not started yet buffers within bounds, and starting drops what lies beyond its window', async () => {
			const { m, scheme } = counted(0);
			for (let k = 0; k < 3000; k++) await m.deliver(forgedVote(k % 4, 1_000_000 + k, 0, k));
			expect(m.buffered).toBe(MAX_BUFFERED_FUTURE);
			expect(scheme.checks).toBe(0);
			await m.start(1, group);
			expect(m.buffered).toBe(0);
			// …so the buffer takes later heights again.
			expect((await m.deliver(forgedVote(1, 2, 0, 1))).intake).toBe('ignore');
			expect(m.buffered).toBe(1);
		});

		it('when the later height’s group is known, a forgery is refused on arrival and takes no slot', async () => {
			const { m, scheme } = counted(0, () => group);
			await m.start(1, group);
			expect(await rejection(m.deliver(forgedVote(2, 2, 0, 0)))).toBe('consensus-bad-signature');
			expect(m.buffered).toBe(0);
			// The genuine vote for that slot is checked and kept, and one more for it costs nothing.
			const genuine = signed(2, { type: 'prevote', kind: 'keyblock', height: 2, round: 0, value: null });
			expect((await m.deliver(genuine)).intake).toBe('ignore');
			expect(m.buffered).toBe(1);
			const checks = scheme.checks;
			expect((await m.deliver(forgedVote(2, 2, 0, 2))).intake).toBe('ignore');
			expect(scheme.checks).toBe(checks);
		});

		it('forwards only what it checked: future and past forgeries are ignored, current ones refused', async () => {
			const { m, scheme } = counted(0);
			await m.start(1, group);
			const vote = { type: 'prevote', kind: 'keyblock', height: 1, round: 0, value: valueOf(9, 1) } as const;
			// A later height cannot be checked yet: neither forwarded nor blamed, and not even verified.
			expect((await m.deliver(forgedVote(1, 2, 0, 1))).intake).toBe('ignore');
			expect(scheme.checks).toBe(0);
			// The current height can: a forgery is refused (its sender authored or forwarded it unchecked).
			expect(await rejection(m.deliver(forgedVote(1, 1, 0, 3)))).toBe('consensus-bad-signature');
			// Genuine and new: forwarded; the same again: not.
			expect((await m.deliver(signed(2, vote))).intake).toBe('accept');
			expect((await m.deliver(signed(2, vote))).intake).toBe('ignore');
			// Another forgery of a statement member 2 already signed costs no check (the slot has it).
			const checks = scheme.checks;
			const same = decodeMessage(signed(2, vote)) as Vote;
			const sig = (decodeMessage(signed(3, vote)) as Vote).signature;
			expect((await m.deliver(encodeMessage({ ...same, signature: sig }))).intake).toBe('ignore');
			expect(scheme.checks).toBe(checks);
		});

		it('answers replayed votes of a decided height with one COMMIT per resend period', async () => {
			const { m } = counted(0);
			await m.start(1, group);
			const precommits = [0, 1, 2, 3].map((i) =>
				signed(i, { type: 'precommit', kind: 'keyblock', height: 1, round: 0, value: valueOf(1, 1) })
			);
			const precommit = (i: number) => precommits[i]!;
			for (const i of [1, 2, 3]) await m.deliver(precommit(i));
			expect(m.position.decided).toBe(true);
			await m.start(2, group);
			const replies = async () => {
				let count = 0;
				for (let k = 0; k < 50; k++)
					for (const i of [1, 2, 3]) {
						const { intake, outputs } = await m.deliver(precommit(i));
						expect(intake).toBe('ignore'); // a past height is never forwarded
						count += outputs.filter((o) => o.type === 'reply').length;
					}
				return count;
			};
			expect(await replies()).toBe(1);
			expect(await replies()).toBe(0);
			await m.timeout({ step: 'resend', height: 2, round: 0 });
			expect(await replies()).toBe(1);
		});
	});
});
