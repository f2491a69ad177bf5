/** The simulator's scenarios by name (issue 4). */
import { fig12 } from './fig12.ts';
import { flash } from './flash-attack.ts';
import { inhibition } from './inhibition.ts';
import { fraud } from './reputation-fraud.ts';
import { selfish } from './selfish-mining.ts';
import type { Scenario } from './scenario.ts';

export const SCENARIOS: readonly Scenario[] = [fig12, flash, selfish, fraud, inhibition];

export function scenarioByName(name: string): Scenario {
	const found = SCENARIOS.find((s) => s.name === name);
	if (!found)
		throw new RangeError(`unknown scenario ${name}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
	return found;
}
