/**
 * What a patient's session needs of the chain, and the two nodes that give it: the light node a phone
 * runs (runtime/light-node.ts: keyblock headers, the group's hand-overs, batch headers and its own
 * patient block, each verified) and a full node (tests that run a patient beside clinics on one chain).
 * The pages' patient session runs on the light node (sessions.ts).
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import type { Ledger } from '../core/chain.ts';
import type { GenesisConfig } from '../core/genesis.ts';
import type { InstitutionRegistry } from '../core/institution-registry.ts';
import type { PublicKey } from '../core/identity.ts';
import type { PatientBlock } from '../core/patient-block.ts';
import { transactionId, type Transaction } from '../core/transaction.ts';
import type { FullNode } from '../runtime/full-node.ts';
import type { LightNode } from '../runtime/light-node.ts';
import type { Store } from '../store/store.ts';
import type { NodeView } from './types.ts';
import { nodeView } from './views.ts';

export interface PatientChain {
	readonly genesis: GenesisConfig;
	/** The consortium as the chain makes it (names and keys of institutions). */
	readonly registry: InstitutionRegistry;
	/** Pinned keyblocks known: the round the patient's own transactions are made for. */
	readonly height: number;
	/** The patient's block, each record verified as pinned (undefined before the registration is). */
	patientBlock(): PatientBlock | undefined;
	isPinned(txId: Bytes): boolean;
	/** The time of keyblock `round` (0 when it is not known here). */
	timeOf(round: number): number;
	/** The institution the patient registered through, when this device knows it. */
	registeredThrough(): Promise<Bytes | undefined>;
	/** Learns what the network added since (a light node asks a full node; a full node is current). */
	catchUp(): Promise<void>;
	/** Sends the patient's own transaction (a registration) to the consortium. */
	submit(tx: Transaction): Promise<unknown>;
	on(listener: (event: { type: string; message?: string }) => void): () => void;
	view(errors: string[]): NodeView;
}

/** What a patient chain over a whole ledger needs of its node (a FullNode, or a test's offline node). */
export type LedgerNode = Pick<FullNode, 'submit' | 'on'> & {
	chain: { ledger: Ledger; isPinned(txId: Bytes): boolean };
};

/** A patient session on a full node that holds the whole chain. */
export function fullNodePatientChain(node: FullNode, patient: PublicKey): PatientChain {
	return ledgerPatientChain(node, patient, (errors) => nodeView(node, errors));
}

/** A patient chain read from a node's whole ledger; `view` draws the node's status. */
export function ledgerPatientChain(
	node: LedgerNode,
	patient: PublicKey,
	view: (errors: string[]) => NodeView
): PatientChain {
	const { ledger } = node.chain;
	return {
		genesis: ledger.genesis,
		registry: ledger.registry,
		get height() {
			return ledger.height;
		},
		patientBlock: () => ledger.patientBlock(patient),
		isPinned: (id) => node.chain.isPinned(id),
		timeOf: (round) => ledger.keyblock(Math.max(1, round))?.block.header.timestamp ?? 0,
		async registeredThrough() {
			const block = ledger.patientBlock(patient);
			const register = block && ledger.keyblock(block.header.round)?.block.registers;
			return register?.find((r) => bytesToHex(r.body.patient) === bytesToHex(patient))?.body.institution;
		},
		catchUp: async () => {},
		submit: (tx) => node.submit(tx),
		on: (listener) => node.on(listener),
		view
	};
}

/** Where a light node remembers the registration it sent (its institution is not in the block header). */
const REGISTER_KEY = 'light/register';

/** A patient session on a phone's light node. */
export function lightPatientChain(light: LightNode, store: Store): PatientChain {
	const { client } = light;
	return {
		genesis: light.genesis,
		registry: client.registry,
		get height() {
			return client.height;
		},
		patientBlock: () => light.block,
		isPinned: (id) => light.isPinned(id),
		timeOf: (round) => client.timeOf(Math.max(1, round)) ?? 0,
		async registeredThrough() {
			const block = light.block;
			const kept = await store.get('meta', REGISTER_KEY);
			if (!block || !kept || bytesToHex(kept.slice(0, 32)) !== bytesToHex(block.header.register)) return;
			return kept.slice(32);
		},
		catchUp: async () => void (await light.freshSync()),
		async submit(tx) {
			if (tx.body.kind === 'register') {
				const value = new Uint8Array([...transactionId(tx.body), ...tx.body.institution]);
				await store.write([{ table: 'meta', key: REGISTER_KEY, value }]);
			}
			return light.submit(tx);
		},
		on: (listener) => light.on(listener),
		view(errors) {
			const status = light.status();
			return {
				peerId: status.peerId,
				peers: status.peers,
				height: status.keyblocks,
				batches: status.batches,
				patients: light.block ? 1 : 0,
				mempool: 0,
				member: false,
				mining: false,
				hashRate: 0,
				sync: null,
				rejected: 0,
				banned: 0,
				errors: [...errors],
				light: {
					keyblocks: status.keyblocks,
					handovers: status.handovers,
					batches: status.batches,
					records: status.records,
					storedBytes: status.storedBytes
				}
			};
		}
	};
}
