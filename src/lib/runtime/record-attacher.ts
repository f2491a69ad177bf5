/**
 * Step (6) of Upload (section 5.3) for an institution node: once a batch is pinned, the institution
 * appends its own pinned transactions behind its leaf of each patient's block. The leaf's chameleon
 * hash never changes (h₀ = m₀·G, opened with r = 0); the institution proves, with its trapdoor, that h₀
 * now opens to the longer list of entries, and gossips the attachment for every node to verify.
 */
import { bytesToHex, equalBytes, type Bytes } from '../core/bytes.ts';
import { initialLeafValue, leafMessage, type LeafEntry } from '../core/patient-block.ts';
import type { Attachment } from '../core/gossip.ts';
import { pinnedBatchId, type PinnedBatch } from '../core/pinning.ts';
import { transactionId, type RecordBody, type Transaction } from '../core/transaction.ts';
import { proveCollision, type ChameleonProver } from '../crypto/chameleon-prover.ts';
import type { ChainState } from './chain-state.ts';

export interface RecordAttacherOptions {
	chain: ChainState;
	prover: ChameleonProver;
	institution: { id: Bytes; chameleonKey: Bytes; trapdoor: bigint };
	publish(attachment: Attachment): Promise<void>;
	error(error: unknown): void;
}

export class RecordAttacher {
	/** One patient's leaf is extended by one proof at a time, in pin order. */
	private queue: Promise<unknown> = Promise.resolve();

	constructor(private readonly options: RecordAttacherOptions) {}

	/** Attaches this institution's transactions of a pinned batch; `bodies` resolves ids to transactions. */
	batchPinned(
		pinned: PinnedBatch,
		bodies: (id: Bytes) => Transaction<RecordBody> | undefined
	): Promise<void> {
		const { institution } = this.options;
		const pin = pinnedBatchId(pinned);
		const byPatient = new Map<string, LeafEntry[]>();
		for (const id of pinned.batch.transactions) {
			const tx = bodies(id);
			if (!tx || !equalBytes(tx.body.institution, institution.id)) continue;
			const key = bytesToHex(tx.body.patient);
			byPatient.set(key, [...(byPatient.get(key) ?? []), { tx, pin }]);
		}
		const run = this.queue.then(async () => {
			for (const entries of byPatient.values()) {
				try {
					await this.attach(entries);
				} catch (error) {
					this.options.error(error);
				}
			}
		});
		this.queue = run.catch(() => undefined);
		return run;
	}

	private async attach(entries: LeafEntry[]): Promise<void> {
		const { chain, prover, institution } = this.options;
		const patient = entries[0]!.tx.body.patient;
		const block = chain.ledger.patientBlock(patient);
		if (!block) throw new Error('a pinned record names an unregistered patient');
		const leaf = block.leaves.find((l) => equalBytes(l.institution, institution.id))!;
		const ids = [...leaf.entries, ...entries].map((e) => transactionId(e.tx.body));
		const { hash } = await proveCollision(
			prover,
			{
				x: institution.trapdoor,
				X: institution.chameleonKey,
				h: initialLeafValue(patient, institution.id),
				m: leafMessage(patient, institution.id, []),
				r: 0n
			},
			leafMessage(patient, institution.id, ids)
		);
		const attachment: Attachment = { patient, institution: institution.id, entries, leafProof: hash.proof };
		await chain.apply({ type: 'attachment', attachment });
		await this.options.publish(attachment);
	}
}
