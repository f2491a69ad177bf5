/**
 * Runs one pure consensus machine over the network: broadcasts and replies are published on the
 * consensus topic (wrapped with the machine's kind), timeouts become timers, decisions and evidence go
 * to the node. Timers of a height are cleared when the machine moves on or the node stops.
 */
import type { Certificate } from '../core/certificate.ts';
import type { ConsensusGroup } from '../core/consensus/group.ts';
import type { ConsensusMachine, ConsensusOutput, Intake } from '../core/consensus/machine.ts';
import type { Bytes } from '../core/bytes.ts';
import type { EquivocationEvidence } from '../core/evidence.ts';
import { encodeConsensusEnvelope } from '../core/gossip.ts';

export interface ConsensusDriverEvents {
	publish(bytes: Bytes): Promise<void>;
	decided(height: number, value: Bytes, certificate: Certificate): void;
	evidence(evidence: EquivocationEvidence): void;
	error(error: unknown): void;
}

export class ConsensusDriver {
	private readonly timers = new Set<ReturnType<typeof setTimeout>>();
	private stopped = false;
	/** The highest height a start was asked for. */
	private requested = -1;

	constructor(
		readonly machine: ConsensusMachine,
		private readonly events: ConsensusDriverEvents
	) {}

	get height(): number {
		return this.machine.position.height;
	}

	get decided(): boolean {
		return this.machine.position.decided;
	}

	async start(height: number, group: ConsensusGroup): Promise<void> {
		// Callers check `height` before they await this (a gossiped and a submitted transaction may both
		// ask for the next batch at once): the first request of a height starts it, a repeat is a no-op.
		if (height <= this.requested) return;
		this.requested = height;
		this.clearTimers();
		this.handle(await this.machine.start(height, group));
	}

	/**
	 * Feeds a message from a peer and says whether it was checked and new (forward it) or not;
	 * ValidationErrors propagate so the caller can score the peer.
	 */
	async receive(message: Bytes): Promise<Intake> {
		const { intake, outputs } = await this.machine.deliver(message);
		this.handle(outputs);
		return intake;
	}

	stop(): void {
		this.stopped = true;
		this.clearTimers();
	}

	private clearTimers(): void {
		for (const timer of this.timers) clearTimeout(timer);
		this.timers.clear();
	}

	private handle(outputs: ConsensusOutput[]): void {
		if (this.stopped) return;
		for (const output of outputs) {
			switch (output.type) {
				case 'broadcast':
				case 'reply':
					this.events
						.publish(encodeConsensusEnvelope({ kind: this.machine.kind, message: output.bytes }))
						.catch((error) => this.events.error(error));
					break;
				case 'timeout': {
					const timer = setTimeout(() => {
						this.timers.delete(timer);
						if (this.stopped) return;
						this.machine.timeout(output.timeout).then(
							(next) => this.handle(next),
							(error) => this.events.error(error)
						);
					}, output.delay);
					this.timers.add(timer);
					break;
				}
				case 'decision':
					this.events.decided(output.height, output.value, output.certificate);
					break;
				case 'evidence':
					this.events.evidence(output.evidence);
					break;
			}
		}
	}
}
