/**
 * A deterministic, virtual-time network for running consensus members in one process: the partial
 * synchrony model (Dwork-Lynch-Stockmeyer). Before GST (global stabilisation time) every message may be
 * dropped, duplicated and delayed by up to `maxDelayBeforeGst`, so messages are reordered freely; from
 * GST on, nothing is dropped and every message arrives within `maxDelayAfterGst` (Δ).
 * All randomness comes from an injected generator, so a seed reproduces a whole schedule; time is
 * virtual (milliseconds), so a run of minutes of protocol time takes milliseconds of CPU plus crypto.
 */
import { ValidationError } from '../errors.ts';
import type { ConsensusGroup } from './group.ts';
import type { ConsensusMachine, ConsensusOutput } from './machine.ts';

/** Uniform integer in [from, to]; e.g. pure-rand's `uniformInt` bound to a seeded generator. */
export interface RandomSource {
	int(from: number, to: number): number;
}

export interface NetworkSchedule {
	gst: number;
	/** Per-mille chance that a message sent before GST is lost. */
	dropPerMille: number;
	/** Per-mille chance that a message sent before GST is delivered twice. */
	duplicatePerMille: number;
	maxDelayBeforeGst: number;
	maxDelayAfterGst: number;
}

export type Delivery = (from: string, bytes: Uint8Array) => Promise<void>;

interface Event {
	at: number;
	sequence: number;
	run: () => Promise<void>;
}

export class InMemoryNetwork {
	private readonly nodes = new Map<string, Delivery>();
	private readonly queue: Event[] = [];
	private sequence = 0;
	now = 0;
	delivered = 0;
	dropped = 0;
	/** Messages a member rejected with a ValidationError (forged, malformed, from outsiders). */
	rejected = 0;

	constructor(
		private readonly random: RandomSource,
		readonly schedule: NetworkSchedule
	) {}

	/** Attaches (or re-attaches after a restart) a node; messages to an absent node are lost. */
	attach(id: string, deliver: Delivery): void {
		this.nodes.set(id, deliver);
	}

	detach(id: string): void {
		this.nodes.delete(id);
	}

	get peers(): string[] {
		return [...this.nodes.keys()];
	}

	send(from: string, to: string, bytes: Uint8Array): void {
		const beforeGst = this.now < this.schedule.gst;
		if (beforeGst && this.random.int(0, 999) < this.schedule.dropPerMille) {
			this.dropped++;
			return;
		}
		const copies = beforeGst && this.random.int(0, 999) < this.schedule.duplicatePerMille ? 2 : 1;
		for (let i = 0; i < copies; i++) {
			const delay = this.random.int(
				0,
				beforeGst ? this.schedule.maxDelayBeforeGst : this.schedule.maxDelayAfterGst
			);
			this.at(this.now + delay, async () => {
				const deliver = this.nodes.get(to);
				if (!deliver) return;
				this.delivered++;
				await deliver(from, bytes);
			});
		}
	}

	broadcast(from: string, bytes: Uint8Array): void {
		for (const to of this.nodes.keys()) if (to !== from) this.send(from, to, bytes);
	}

	/** Schedules `run` at virtual time `at` (ties run in scheduling order). */
	at(at: number, run: () => Promise<void>): void {
		const event = { at: Math.max(at, this.now), sequence: this.sequence++, run };
		let low = 0;
		let high = this.queue.length;
		while (low < high) {
			const mid = (low + high) >> 1;
			const other = this.queue[mid]!;
			if (other.at < event.at || (other.at === event.at && other.sequence < event.sequence)) low = mid + 1;
			else high = mid;
		}
		this.queue.splice(low, 0, event);
	}

	/** Runs events in time order until `done()` holds, the queue empties or virtual time passes `until`. */
	async run(done: () => boolean, until: number): Promise<void> {
		while (!done() && this.queue.length > 0 && this.queue[0]!.at <= until) {
			const event = this.queue.shift()!;
			this.now = event.at;
			await event.run();
		}
	}
}

/**
 * Wires one consensus machine to the network as an honest member: broadcasts and replies go out, timeouts
 * are scheduled in virtual time, ValidationErrors from peers are counted, and decisions and evidence are
 * handed to `report`. Returns a function that starts a height.
 */
export function attachMachine(
	network: InMemoryNetwork,
	id: string,
	machine: ConsensusMachine,
	report: (output: ConsensusOutput) => void = () => {}
): (height: number, group: ConsensusGroup) => void {
	const handle = (outputs: ConsensusOutput[], from?: string): void => {
		for (const output of outputs) {
			if (output.type === 'broadcast') network.broadcast(id, output.bytes);
			else if (output.type === 'reply') {
				if (from !== undefined) network.send(id, from, output.bytes);
			} else if (output.type === 'timeout')
				network.at(network.now + output.delay, async () => handle(await machine.timeout(output.timeout)));
			else report(output);
		}
	};
	network.attach(id, async (from, bytes) => {
		try {
			handle(await machine.receive(bytes), from);
		} catch (error) {
			if (!(error instanceof ValidationError)) throw error;
			network.rejected++;
		}
	});
	return (height, group) => network.at(network.now, async () => handle(await machine.start(height, group)));
}
