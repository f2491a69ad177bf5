/**
 * What the user of a clinic tab controls about its miners besides start and stop: how many Web Workers
 * (cores) mine, and pausing. The browser node provides it, the clinic session passes it on, and the node
 * panel shows it. A type-only module, so the panel can name it without loading the node.
 */

export interface MiningControl {
	/** Workers the user may choose, up to the device's logical cores. */
	readonly maxWorkers: number;
	readonly workers: number;
	readonly paused: boolean;
	/** Resizes the pool now (a running job goes on) and remembers the choice in the clinic profile. */
	setWorkers(workers: number): Promise<void>;
	pause(): void;
	resume(): void;
}
