/**
 * The explorer over any full node: keyblocks, patient blocks (contents are ciphertext hashes, shown as
 * counts), the consensus group with reputation and balances, and the node's peers.
 */
import { fromHex } from '../core/bytes.ts';
import { reputationCurve } from '../core/reputation.ts';
import type { FullNode } from '../runtime/full-node.ts';
import { chainBalances, chainReputations } from '../runtime/chain-metrics.ts';
import type { ExplorerSession, KeyblockView, PatientBlockView, ReputationView } from './types.ts';
import { institutionView, keyblockView, nodeView, patientBlockView } from './views.ts';

export function createExplorerSession(node: FullNode, errors: string[] = []): ExplorerSession {
	const { ledger } = node.chain;
	const { genesis } = ledger;
	// Founders and admitted institutions alike (an admitted miner is no "Unknown institution").
	const consortium = { institutions: ledger.registry.all };
	const listeners = new Set<() => void>();
	node.on((event) => {
		if (event.type === 'error') {
			errors.unshift(event.message);
			errors.splice(20);
		}
		for (const listener of listeners) listener();
	});
	return {
		node: () => nodeView(node, errors),
		keyblocks({ before, limit = 50 } = {}): KeyblockView[] {
			const top = Math.min(before ? before - 1 : ledger.height, ledger.height);
			const out: KeyblockView[] = [];
			for (let h = top; h >= 1 && out.length < limit; h--)
				out.push(keyblockView(consortium, ledger.keyblock(h)!));
			return out;
		},
		patientBlocks({ limit = 50 } = {}): PatientBlockView[] {
			return [...ledger.patientBlocks()]
				.reverse()
				.slice(0, limit)
				.map((block) => patientBlockView(consortium, block));
		},
		reputation(): ReputationView[] {
			const balances = chainBalances(node.chain);
			const { group } = node.chain;
			return chainReputations(node.chain).map((r) => {
				const id = fromHex(r.institution, 32);
				return {
					institution: institutionView(consortium, id),
					r1: r.r1,
					r2: r.r2,
					r: r.r,
					member: group.indexOf(id) >= 0,
					balance: (balances.get(r.institution) ?? 0n).toString()
				};
			});
		},
		reputationCurve() {
			// f(0) > 0 is the paper's curve (§4.4, Algorithm 1 line 8), not a count: say so on screen.
			const { a, lambda } = genesis.reputation;
			return { a, lambda, floor: reputationCurve(0, { a, lambda }) };
		},
		reputationHistory() {
			const step = genesis.reputation.chunkSize;
			const out = [];
			for (let height = step; height <= ledger.height; height += step)
				out.push({
					height,
					values: chainReputations(node.chain, height).map((r) => ({
						institution: institutionView(consortium, fromHex(r.institution, 32)).name,
						r: r.r
					}))
				});
			return out;
		},
		peers: () => {
			// A peer counts as direct when any of its connections is (WebRTC or WebSockets, not a circuit).
			const connections = node.net.connections();
			return node.net.peers().map((id) => {
				const mine = connections.filter((c) => c.peer === id);
				const best = mine.find((c) => c.direct) ?? mine[0];
				return { id, direct: best?.direct ?? false, label: best?.transport };
			});
		},
		subscribe(listener) {
			listeners.add(listener);
			return () => listeners.delete(listener);
		}
	};
}
