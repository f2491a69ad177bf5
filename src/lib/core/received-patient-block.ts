/**
 * The check of a patient block that arrives from elsewhere (a peer, a patient's device) against the
 * ledger a node keeps (chain.ts): the block's header must be the one the chain derived.
 */
import { equalBytes, type Bytes } from './bytes.ts';
import type { Ledger } from './chain.ts';
import type { ChameleonVerifier } from './chameleon.ts';
import { ensure } from './errors.ts';
import { checkPatientBlock, type PatientBlock, type PatientBlockHeader } from './patient-block.ts';
import { checkTransaction, transactionId } from './transaction.ts';

/**
 * Checks a patient block received from elsewhere (a peer, a patient's device) against `ledger`. Its
 * header is a function of the chain, so every field must equal the one the ledger derived: a forged
 * round, keyblock, register or prev is refused here, not merely hashed differently. Then the structural
 * rules, each entry's signature, fees and recorded pin (its record proof was verified before the group
 * pinned it), and the leaf proofs, batched.
 */
export async function verifyReceivedPatientBlock(
	ledger: Ledger,
	block: PatientBlock,
	verifier: ChameleonVerifier
): Promise<void> {
	const own = ledger.patientBlock(block.header.patient);
	ensure(own !== undefined, 'tx-unregistered', 'the patient has not registered yet');
	for (const [field, value] of Object.entries(own.header) as [keyof PatientBlockHeader, Bytes | number][]) {
		const theirs = block.header[field];
		ensure(
			typeof value === 'number' ? theirs === value : equalBytes(theirs as Bytes, value),
			'patient-header',
			`the patient block's ${field} is not the one the chain derived`
		);
	}
	const statements = checkPatientBlock(block, ledger.registry.members(block.header.round));
	for (const leaf of block.leaves)
		for (const entry of leaf.entries) {
			checkTransaction(entry.tx, ledger.genesis.fees);
			const pin = ledger.pinOf(transactionId(entry.tx.body));
			ensure(pin !== undefined, 'tx-unpinned', 'the block holds a transaction the group never pinned');
			ensure(
				equalBytes(pin, entry.pin),
				'tx-pin',
				'an entry names another pinned batch than the one that pinned it'
			);
		}
	const results = await verifier.verifyAll(statements);
	ensure(
		results.every((ok) => ok),
		'leaf-proof',
		"an institution's proof for the patient block leaf is not valid"
	);
}
