/**
 * The pinning rule (§5.1.2, from RepuCoin): a pinned keyblock is final, and every keyblock that
 * conflicts with a pinned one is invalid. "Conflicts" here: a different keyblock is pinned at its
 * height, or the keyblock pinned just below it is not its parent. The group pins, at the next height,
 * the first keyblock it received that does not conflict.
 *
 * Written as small pure functions over abstract links (id, height, parent) so the simulator exercises
 * exactly the rule the chain code should apply to real keyblocks (id = keyblock hash).
 */
export interface KeyblockLink {
	id: string;
	height: number;
	parent: string;
}

/** Pinned keyblock ids by height. */
export type Pins = ReadonlyMap<number, string>;

export function conflictsWithPinned(block: KeyblockLink, pins: Pins): boolean {
	const atHeight = pins.get(block.height);
	if (atHeight !== undefined) return atHeight !== block.id;
	const below = pins.get(block.height - 1);
	return below !== undefined && below !== block.parent;
}

/** The keyblock the group pins among `arrivals` (in the order a group majority received them), if any. */
export function choosePin(arrivals: readonly KeyblockLink[], pins: Pins): KeyblockLink | undefined {
	return arrivals.find((b) => !pins.has(b.height) && !conflictsWithPinned(b, pins));
}
