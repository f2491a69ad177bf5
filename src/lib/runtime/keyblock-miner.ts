/**
 * The mining loop of a clinic node: mines the next keyblock over the current tip with the worker pool
 * (the puzzle covers prev ‖ penu ‖ nonce ‖ PK, section 5.1.2), then fills in the rest of the header
 * (timestamp, target, the round's register transactions), signs it and hands it on as a candidate.
 * When the tip moves (a keyblock was pinned) the running job is abandoned and mining restarts on it.
 */
import { concatBytes } from '@noble/hashes/utils.js';
import type { Bytes } from '../core/bytes.ts';
import type { Ledger } from '../core/chain.ts';
import { publicKeyOf } from '../core/identity.ts';
import { medianTimePast } from '../core/difficulty.ts';
import { registersRoot, sealKeyblock, type Keyblock, type KeyblockHeader } from '../core/keyblock.ts';
import { registryRoot, type RegistryFact } from '../core/registry-facts.ts';
import type { MinerPool } from '../mining/pool.ts';
import type { Mempool } from './mempool.ts';

export interface KeyblockMinerOptions {
	ledger: Ledger;
	mempool: Mempool;
	pool: MinerPool;
	/**
	 * The institution's signing secret in force for keyblock `height` (a key rotation changes it): its
	 * public key is the PK of the puzzle and the header's miner, and it signs the header.
	 */
	signingKeyFor(height: number): Bytes;
	found(block: Keyblock): Promise<void>;
	/** Approved admissions and key rotations to carry in keyblock `height` (registry-pool.ts). */
	registryFacts?: (height: number) => RegistryFact[];
	error(error: unknown): void;
	clock?: () => number;
	/**
	 * Share of time the workers hash (0 < duty ≤ 1): a clinic desktop or a demo machine running several
	 * nodes gives mining a part of the CPU (hash power is then proportionally lower, nothing else changes).
	 */
	duty?: number;
}

const DUTY_PERIOD_MS = 1000;

export class KeyblockMiner {
	private running = false;
	/** Paused by the user: the duty cycle must not resume it. */
	private held = false;
	/** In the resting part of the duty cycle. */
	private resting = false;
	private jobHeight = 0;
	private dutyTimer: ReturnType<typeof setTimeout> | undefined;
	private readonly clock: () => number;

	constructor(private readonly options: KeyblockMinerOptions) {
		this.clock = options.clock ?? Date.now;
	}

	get mining(): boolean {
		return this.running;
	}

	get paused(): boolean {
		return this.running && this.held;
	}

	start(): void {
		if (this.running) return;
		this.running = true;
		this.next();
		this.cycle(true);
	}

	stop(): void {
		this.running = false;
		this.held = false;
		this.resting = false;
		this.jobHeight = 0;
		clearTimeout(this.dutyTimer);
		this.options.pool.stop();
	}

	/** Alternates hashing and resting according to `duty`. */
	private cycle(hashing: boolean): void {
		const duty = this.options.duty ?? 1;
		if (duty >= 1 || !this.running) return;
		this.resting = !hashing;
		if (hashing && !this.held) this.options.pool.resume();
		else if (!hashing) this.options.pool.pause();
		const span = (hashing ? duty : 1 - duty) * DUTY_PERIOD_MS;
		this.dutyTimer = setTimeout(() => this.cycle(!hashing), span);
	}

	/** Holds mining (new jobs on a moved tip too, as the pool keeps the pause) until `resume`. */
	pause(): void {
		this.held = true;
		this.options.pool.pause();
	}

	resume(): void {
		this.held = false;
		if (!this.resting) this.options.pool.resume();
	}

	/** The tip moved: mine on the new one. */
	tipChanged(): void {
		if (!this.running) return;
		if (this.jobHeight === this.options.ledger.height + 1) return;
		this.next();
	}

	private next(): void {
		const { ledger, pool } = this.options;
		const height = ledger.height + 1;
		this.jobHeight = height;
		const prev = ledger.tipHash;
		const penu = ledger.penuFor(height);
		const target = ledger.nextTarget();
		let signingKey: Bytes;
		try {
			signingKey = this.options.signingKeyFor(height);
		} catch (error) {
			this.options.error(error);
			return;
		}
		const minerKey = publicKeyOf(signingKey);
		pool.mine({ prefix64: concatBytes(prev, penu), minerKey, target }).then(
			async (nonce) => {
				if (nonce === null || !this.running || this.jobHeight !== height || ledger.height + 1 !== height)
					return;
				await this.seal({ height, prev, penu, target, nonce, signingKey, miner: minerKey });
			},
			(error) => this.options.error(error)
		);
	}

	private async seal(job: {
		height: number;
		prev: Bytes;
		penu: Bytes;
		target: Bytes;
		nonce: bigint;
		signingKey: Bytes;
		miner: Bytes;
	}): Promise<void> {
		const { height, prev, penu, target, nonce, signingKey, miner } = job;
		const { ledger, mempool } = this.options;
		const past = [ledger.genesis.timestamp];
		for (let h = Math.max(1, height - 11); h < height; h++)
			past.push(ledger.keyblock(h)!.block.header.timestamp);
		const registers = mempool.registersFor(ledger.genesis.maxRegistersPerKeyblock);
		const registry = this.options.registryFacts?.(height) ?? [];
		const header: KeyblockHeader = {
			height,
			prev,
			penu,
			nonce,
			miner,
			target,
			timestamp: Math.max(this.clock(), medianTimePast(past) + 1),
			registersRoot: registersRoot(registers),
			...(registry.length > 0 ? { registryRoot: registryRoot(registry) } : {})
		};
		try {
			await this.options.found(sealKeyblock(header, registers, signingKey, registry));
		} catch (error) {
			this.options.error(error);
		}
		// One candidate per height and miner: mining again on the same job would only produce a second
		// signed header over one solution. The node re-announces the candidate until the group pins a block.
	}
}
