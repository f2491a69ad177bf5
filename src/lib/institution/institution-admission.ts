/**
 * Admission as every institution node runs it (runtime/admission.ts): it answers other applicants by
 * its policy, and while the chain does not hold its own institution it applies on its own, until a
 * pinned keyblock admits it. What a clinic screen shows ("applying…", "admitted at keyblock N") and what
 * its operator decides on (applications kept by the manual policy) come from here.
 */
import type { InstitutionIdentity } from '../keys/institution.ts';
import {
	AdmissionDesk,
	ADMISSION_POLICIES,
	seekAdmission,
	type AdmissionPolicy,
	type AdmissionStatus,
	type PendingApplication
} from '../runtime/admission.ts';
import type { FullNode } from '../runtime/full-node.ts';

export type { AdmissionPolicy, AdmissionStatus, PendingApplication };

/** The policy named by a setting such as the env variable ADMISSION; refuses anything else by name. */
export function admissionPolicy(value: string | undefined, fallback: AdmissionPolicy): AdmissionPolicy {
	if (value === undefined || value === '') return fallback;
	if ((ADMISSION_POLICIES as readonly string[]).includes(value)) return value as AdmissionPolicy;
	throw new Error(`ADMISSION must be one of ${ADMISSION_POLICIES.join(', ')}, not "${value}"`);
}

export class InstitutionAdmission {
	readonly desk: AdmissionDesk;
	#status: AdmissionStatus;
	readonly #stop = new AbortController();
	readonly #listeners = new Set<() => void>();

	constructor(node: FullNode, identity: InstitutionIdentity, policy: AdmissionPolicy) {
		const { institution, secrets } = identity;
		this.desk = new AdmissionDesk({ node, id: institution.id, blsKey: secrets.blsKey, policy });
		this.desk.onChange(() => this.#changed());
		const known = node.chain.ledger.registry.byId(institution.id);
		this.#status = known
			? { state: 'admitted', from: known.admittedAt + 1 }
			: { state: 'applying', approvals: 0, members: 0, pending: 0, refused: 0 };
		if (!known)
			seekAdmission({
				node,
				net: node.net,
				institution,
				signingKey: secrets.signingKey,
				signal: this.#stop.signal,
				onStatus: (status) => {
					this.#status = status;
					this.#changed();
				}
			}).catch(() => undefined); // stopped with the node
	}

	get status(): AdmissionStatus {
		return this.#status;
	}

	onChange(listener: () => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	stop(): void {
		this.#stop.abort();
	}

	#changed(): void {
		for (const listener of this.#listeners) listener();
	}
}
