/** Node: the in-process prover for headless clinic nodes (artifacts read once from static/snark/). */
import { loadArtifacts } from './artifacts.node.ts';
import { proveWithArtifacts, type ChameleonProver, type SnarkArtifacts } from './chameleon-prover.ts';
import { terminateCurve } from './snark.node.ts';

export async function createNodeProver(): Promise<ChameleonProver> {
	const artifacts: SnarkArtifacts = await loadArtifacts();
	return {
		prove: (request, onProgress) => proveWithArtifacts(artifacts, request, onProgress),
		close: terminateCurve
	};
}
