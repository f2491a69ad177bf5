import { describe, expect, it } from 'vitest';
import { choosePin, conflictsWithPinned } from './pinning.ts';

const pins = new Map([
	[0, 'g'],
	[1, 'a1']
]);

describe('pinning rule', () => {
	it('a keyblock conflicts when another is pinned at its height or its parent is not the pinned one below', () => {
		expect(conflictsWithPinned({ id: 'a1', height: 1, parent: 'g' }, pins)).toBe(false);
		expect(conflictsWithPinned({ id: 'b1', height: 1, parent: 'g' }, pins)).toBe(true);
		expect(conflictsWithPinned({ id: 'a2', height: 2, parent: 'a1' }, pins)).toBe(false);
		expect(conflictsWithPinned({ id: 'b2', height: 2, parent: 'b1' }, pins)).toBe(true);
		// Two above the pinned tip: judged once its parent is pinned or rejected.
		expect(conflictsWithPinned({ id: 'b3', height: 3, parent: 'b2' }, pins)).toBe(false);
	});
	it('the group pins the first non-conflicting arrival at an unpinned height', () => {
		const late = { id: 's2', height: 2, parent: 'a1' };
		const first = { id: 'h2', height: 2, parent: 'a1' };
		const stale = { id: 'b2', height: 2, parent: 'b1' };
		expect(choosePin([stale, first, late], pins)).toBe(first);
		expect(choosePin([late, first], pins)).toBe(late);
		expect(choosePin([{ id: 'x1', height: 1, parent: 'g' }], pins)).toBeUndefined();
		expect(choosePin([], pins)).toBeUndefined();
	});
});
