/**
 * Pinned keyblocks (section 5.1.2, Fig. 7) on a node: miners' candidate keyblocks for the next height
 * are checked against the chain and held; consensus-group members run the keyblock consensus over their
 * hashes and the decided one, with the group's certificate, is appended and gossiped. A keyblock that
 * conflicts with a pin can never be appended: the chain only grows by pinned keyblocks (chain-state.ts).
 * Which candidate a member backs is core pin-choice.ts: its first valid arrival, and any valid one only
 * after the height has been split for PIN_SPLIT_MS, so a withheld keyblock released late gains nothing.
 */
import { bytesToHex, equalBytes, type Bytes } from '../core/bytes.ts';
import type { Certificate } from '../core/certificate.ts';
import { keyblockHash, type Keyblock } from '../core/keyblock.ts';
import { encodePin } from '../core/pinning.ts';
import type { ChainState } from './chain-state.ts';
import type { ConsensusGroup } from '../core/consensus/group.ts';
import type { ConsensusDriver } from './consensus-driver.ts';
import { acceptsPin, pinProposal, type CandidateArrival } from '../core/consensus/pin-choice.ts';
import { settleOrFetch } from './wait.ts';
import { refusedAsInvalid } from './value-fetch.ts';

/** How long `validate` waits for a candidate it has not received yet (gossip may be behind the vote). */
const CANDIDATE_WAIT_MS = 4000;
/** How long it waits for gossip before asking peers for the candidate (value-fetch.ts). */
const GOSSIP_GRACE_MS = 1000;
/** Candidates kept per height (competing miners); more are refused as flooding. */
const MAX_CANDIDATES = 16;

export interface KeyblockAgreementOptions {
	chain: ChainState;
	/**
	 * The keyblock driver when this node is a member of `group`, else null: non-members follow pinned
	 * keyblocks only.
	 */
	driverFor(group: ConsensusGroup): ConsensusDriver | null;
	publishPinned(block: Keyblock): Promise<void>;
	/** Asks peers for a candidate by hash (value-fetch.ts); null when none had it. */
	fetchCandidate?(hash: Bytes): Promise<Keyblock | null>;
	clock?: () => number;
}

export class KeyblockAgreement {
	private readonly candidates = new Map<string, Keyblock>();
	/** Local arrival time of each held candidate (the map above keeps arrival order). */
	private readonly arrivedAt = new Map<string, number>();
	private readonly arrivalEvents = new EventTarget();
	private readonly chain: ChainState;
	private readonly options: KeyblockAgreementOptions;
	private readonly clock: () => number;

	constructor(options: KeyblockAgreementOptions) {
		this.options = options;
		this.chain = options.chain;
		this.clock = options.clock ?? Date.now;
	}

	/** Candidates held for the next height. */
	get pendingCandidates(): Keyblock[] {
		return [...this.candidates.values()];
	}

	/** A held candidate by its hash, for a peer that missed it. */
	candidate(hash: Bytes): Keyblock | undefined {
		return this.candidates.get(bytesToHex(hash));
	}

	/**
	 * A candidate from a miner (ours or a peer's). Throws ValidationError if it is not a valid next
	 * keyblock or conflicts with a pinned one; returns false if it is the pinned one, ahead of us, or
	 * already held.
	 */
	async offer(block: Keyblock): Promise<boolean> {
		const height = this.chain.height + 1;
		this.chain.assertNotConflictingWithPins(block);
		if (block.header.height !== height) return false;
		const key = bytesToHex(keyblockHash(block.header));
		if (this.candidates.has(key)) return false;
		if (this.candidates.size >= MAX_CANDIDATES) return false;
		this.chain.ledger.checkNextKeyblock(block, this.clock());
		this.checkFees(block);
		this.candidates.set(key, { ...block, pin: undefined });
		this.arrivedAt.set(key, this.clock());
		this.arrivalEvents.dispatchEvent(new Event('candidate'));
		await this.maybeStart();
		return true;
	}

	/**
	 * Members start agreeing on the next height once they hold a candidate and know the height's group
	 * (the first keyblock of an epoch waits for the hand-over).
	 */
	async maybeStart(): Promise<void> {
		const height = this.chain.height + 1;
		if (this.validCandidates(height).length === 0) return;
		const group = this.chain.groupFor(height);
		const driver = group && this.options.driverFor(group);
		if (driver && driver.height < height) await driver.start(height, group);
	}

	/** ConsensusApplication.propose: our first valid candidate (members only start once they hold one). */
	async propose(height: number): Promise<Bytes> {
		const first = pinProposal(this.arrivals(height));
		// All-zero never validates.
		return first ? keyblockHash(this.candidates.get(first)!.header) : new Uint8Array(32);
	}

	/**
	 * ConsensusApplication.validate: the candidate behind `value` is held (or arrives soon), valid, and
	 * the one the pin rule backs now (core pin-choice.ts: first arrival, any after a split).
	 */
	async validate(value: Bytes, height: number): Promise<boolean> {
		const key = bytesToHex(value);
		// A height the chain has passed is settled: answer at once, or a member whose machine fell behind
		// would spend the whole wait on every height it replays (and on replayed proposals of them).
		const stale = () => height !== this.chain.height + 1;
		const holds = () => this.validCandidates(height).some((b) => equalBytes(keyblockHash(b.header), value));
		const settled = () => stale() || holds();
		// Gossip will not bring it again (value-fetch.ts): after a grace, ask the peers that hold it.
		const fetch = async () => {
			const block = await this.options.fetchCandidate?.(value);
			if (block && !stale()) await this.offer(block).catch(refusedAsInvalid);
		};
		await settleOrFetch(
			this.arrivalEvents,
			'candidate',
			settled,
			fetch,
			GOSSIP_GRACE_MS,
			CANDIDATE_WAIT_MS,
			this.clock
		);
		return !stale() && holds() && acceptsPin(this.arrivals(height), key, this.clock());
	}

	/** The group decided `value` at `height`: append it with its certificate and tell the network. */
	async decided(height: number, value: Bytes, certificate: Certificate): Promise<void> {
		const block = this.candidates.get(bytesToHex(value));
		if (!block || height !== this.chain.height + 1) return; // applied already through gossip or sync
		const pinned: Keyblock = { ...block, pin: encodePin(certificate) };
		await this.chain.apply({ type: 'keyblock', block: pinned });
		await this.options.publishPinned(pinned);
	}

	/** The chain grew: candidates for old heights are void. */
	chainAdvanced(): void {
		const height = this.chain.height + 1;
		for (const [key, block] of this.candidates)
			if (block.header.height < height) {
				this.candidates.delete(key);
				this.arrivedAt.delete(key);
			}
		this.arrivalEvents.dispatchEvent(new Event('candidate')); // a validate() of a passed height ends
	}

	/** Valid candidates for `height` in the order this node received them, with their arrival times. */
	private arrivals(height: number): CandidateArrival[] {
		return this.validCandidates(height).map((block) => {
			const hash = bytesToHex(keyblockHash(block.header));
			return { hash, at: this.arrivedAt.get(hash)! };
		});
	}

	/** Members never pin a keyblock the chain would refuse: its registers' payers must hold their fees. */
	private checkFees(block: Keyblock): void {
		this.chain.accounts.checkPayable(
			block.registers.map((tx) => tx.body),
			`keyblock ${block.header.height}`
		);
	}

	private validCandidates(height: number): Keyblock[] {
		if (height !== this.chain.height + 1) return [];
		return [...this.candidates.values()].filter((block) => {
			try {
				this.chain.ledger.checkNextKeyblock(block, this.clock());
				this.checkFees(block);
				return true;
			} catch {
				return false;
			}
		});
	}
}
