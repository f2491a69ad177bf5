/**
 * Admissions and key rotations that hold the group's approval and wait for a keyblock to carry them
 * (core registry-facts.ts). Every institution node keeps one, so whichever of them mines next carries
 * the fact; a fact that stops holding (already applied by someone else's keyblock, or its approving
 * group too old) is dropped when the next keyblock is sealed, and its applicant submits it again.
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import { MAX_REGISTRY_FACTS, registryFactHash, type RegistryFact } from '../core/registry-facts.ts';
import type { Ledger } from '../core/chain.ts';

export class RegistryPool {
	readonly #pending = new Map<string, RegistryFact>();

	constructor(private readonly ledger: Ledger) {}

	/** Checks `fact` against the next keyblock and keeps it; throws the ValidationError if it does not hold. */
	add(fact: RegistryFact): 'added' | 'known' {
		const key = bytesToHex(registryFactHash(fact));
		if (this.#pending.has(key)) return 'known';
		this.ledger.checkRegistryFacts([fact], this.ledger.height + 1);
		this.#pending.set(key, fact);
		return 'added';
	}

	get size(): number {
		return this.#pending.size;
	}

	has(factHash: Bytes): boolean {
		return this.#pending.has(bytesToHex(factHash));
	}

	/** The facts that still hold together for keyblock `height`, oldest first; the others are dropped. */
	forKeyblock(height: number): RegistryFact[] {
		const chosen: RegistryFact[] = [];
		for (const [key, fact] of this.#pending) {
			if (chosen.length === MAX_REGISTRY_FACTS) break;
			try {
				this.ledger.checkRegistryFacts([...chosen, fact], height);
				chosen.push(fact);
			} catch {
				this.#pending.delete(key);
			}
		}
		return chosen;
	}
}
