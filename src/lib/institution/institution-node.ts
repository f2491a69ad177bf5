/**
 * The one composition root of an institution node, whatever runs it (a browser clinic tab, a headless
 * clinic in Node, the tests): given a full node already wired to its platform's adapters and the
 * institution's identity, it adds what makes the node a whole institution (paper §4, Fig. 4):
 *  - its signed presence in the directory, so patients and other clinics find it by key;
 *  - the holder of the ciphertexts it writes, which answers access requests under the patient's or a
 *    consent's authority and keeps the access log;
 *  - the clinic session: registering patients, writing and correcting records, receiving shares;
 *  - admission (institution-admission.ts): it answers applicants by its policy, and applies on its own
 *    while the chain does not hold it.
 * The platform parts (store, network, miners, prover) stay with the caller, which also stops them.
 */
import { createPresence, type Presence } from '../core/presence.ts';
import type { ChameleonProver } from '../crypto/chameleon-prover.ts';
import type { InstitutionIdentity } from '../keys/institution.ts';
import type { MiningControl } from '../mining/control.ts';
import type { MinerPool } from '../mining/pool.ts';
import type { PeerNet } from '../net/peer-net.ts';
import type { InstitutionRole } from '../runtime/node-api.ts';
import type { Store } from '../store/store.ts';
import { createClinicSession } from '../app/clinic-session.ts';
import type { ProtectedPeers } from './protected-peers.ts';
import { Directory } from '../app/directory.ts';
import { Holder } from '../app/holder.ts';
import type { ClinicSession } from '../app/types.ts';
import type { FullNode } from '../runtime/full-node.ts';
import { InstitutionAdmission, type AdmissionPolicy } from './institution-admission.ts';

/** The keys of the full node's institution role (the platform adds the prover and miners). */
export function institutionKeys(
	identity: InstitutionIdentity
): Omit<InstitutionRole, 'prover' | 'pool' | 'miningDuty'> {
	return {
		id: identity.institution.id,
		signingKey: identity.secrets.signingKey,
		rotatedKeys: (identity.secrets.rotatedSigningKeys ??= []),
		blsKey: identity.secrets.blsKey,
		chameleonKey: identity.institution.chameleonKey,
		trapdoor: identity.secrets.trapdoor
	};
}

/** The full node's institution role for an identity: its keys, prover and (optional) miners. */
export function institutionRole(
	identity: InstitutionIdentity,
	prover: ChameleonProver,
	pool?: MinerPool,
	miningDuty?: number
): InstitutionRole {
	return { ...institutionKeys(identity), prover, pool, miningDuty };
}

export interface InstitutionParts {
	identity: InstitutionIdentity;
	/** A full node started with `institutionRole(identity, …)`. */
	node: FullNode;
	net: PeerNet;
	store: Store;
	prover: () => ChameleonProver;
	hashes?: () => number;
	mining?: MiningControl;
	clock?: () => number;
	/** The net's protected-peer check, bound to this directory (protected-peers.ts). */
	protection?: ProtectedPeers;
	/** How it answers applications to join (default 'manual': its operator decides). */
	admission?: AdmissionPolicy;
}

export interface InstitutionNode {
	session: ClinicSession;
	holder: Holder;
	directory: Directory;
	admission: InstitutionAdmission;
}

export async function composeInstitution(parts: InstitutionParts): Promise<InstitutionNode> {
	const { identity, node, net, store } = parts;
	const { institution, secrets } = identity;
	const presences: Presence[] = [
		createPresence('institution', secrets.signingKey, institution.id, net.peerId, (parts.clock ?? Date.now)())
	];
	const directory = new Directory(net, () => presences);
	parts.protection?.bind(directory, node.chain.ledger);
	void directory.refresh();
	const holder = new Holder({
		store,
		net,
		ledger: node.chain.ledger,
		institution: { id: institution.id, secretKey: secrets.signingKey }
	});
	const session = await createClinicSession({
		node,
		net,
		store,
		holder,
		directory,
		prover: parts.prover,
		institution: {
			id: institution.id,
			name: institution.name,
			chameleonKey: institution.chameleonKey,
			secrets
		},
		hashes: parts.hashes,
		mining: parts.mining,
		clock: parts.clock
	});
	const admission = new InstitutionAdmission(node, identity, parts.admission ?? 'manual');
	return { session, holder, directory, admission };
}
