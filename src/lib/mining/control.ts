/**
 * What the user of a clinic tab controls about its miners besides start and stop: how many Web Workers
 * (cores) mine, and pausing. The browser node provides one per institution it runs; the node panel finds
 * it by the institution it shows. This module imports nothing, so the panel reaches the control without
 * loading the node (which the clinic page imports lazily).
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

const controls = new Map<string, MiningControl>();

/** Registers the control of the institution `id` (hex) until the returned function is called. */
export function provideMiningControl(id: string, control: MiningControl): () => void {
	controls.set(id, control);
	return () => {
		if (controls.get(id) === control) controls.delete(id);
	};
}

export function miningControl(id: string): MiningControl | undefined {
	return controls.get(id);
}
