/** Runs one scenario in a fresh module worker and resolves with its result (or rejects with its error). */
import type { SimulationReply, SimulationRequest } from './simulator.worker.ts';
import type { ScenarioResult } from '../scenario.ts';

export function runSimulation(request: SimulationRequest): Promise<{ result: ScenarioResult; ms: number }> {
	const worker = new Worker(new URL('./simulator.worker.ts', import.meta.url), { type: 'module' });
	return new Promise<{ result: ScenarioResult; ms: number }>((resolve, reject) => {
		worker.onmessage = (event: MessageEvent<SimulationReply>) => {
			if (event.data.ok) resolve({ result: event.data.result, ms: event.data.ms });
			else reject(new Error(event.data.error));
		};
		worker.onerror = (event) => reject(new Error(event.message || 'the simulator worker failed to start'));
		worker.postMessage(request);
	}).finally(() => worker.terminate());
}
