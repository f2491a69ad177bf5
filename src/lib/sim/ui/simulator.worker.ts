/**
 * Runs a scenario off the page's main thread (a year of keyblocks takes seconds). Same scenario code
 * as the CLI, so the page shows the same CSV numbers and SVG charts for the same seed.
 */
import { scenarioByName } from '../scenarios.ts';
import { withDefaults, type ParamValues, type ScenarioResult } from '../scenario.ts';

export interface SimulationRequest {
	scenario: string;
	params: ParamValues;
	seed: number;
}

export type SimulationReply = { ok: true; result: ScenarioResult; ms: number } | { ok: false; error: string };

self.onmessage = (event: MessageEvent<SimulationRequest>) => {
	const started = performance.now();
	let reply: SimulationReply;
	try {
		const scenario = scenarioByName(event.data.scenario);
		const result = scenario.run(withDefaults(scenario, event.data.params), event.data.seed);
		reply = { ok: true, result, ms: performance.now() - started };
	} catch (error) {
		reply = { ok: false, error: error instanceof Error ? error.message : String(error) };
	}
	self.postMessage(reply);
};
