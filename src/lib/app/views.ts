/**
 * Chain objects and records as the screens show them (app/types.ts): hex ids, bech32 addresses, names;
 * a corrected record as one record whose replaced version is marked, never as two current records.
 */
import { bytesToHex, type Bytes } from '../core/bytes.ts';
import { signerIndices } from '../core/certificate.ts';
import { addressOf, parseAddress, type PublicKey } from '../core/identity.ts';
import { keyblockHash } from '../core/keyblock.ts';
import { decodePin } from '../core/pinning.ts';
import { patientBlockHash, type PatientBlock } from '../core/patient-block.ts';
import type { KeyblockEntry } from '../core/chain.ts';
import type { FullNode } from '../runtime/full-node.ts';
import { describeCertifiers, type VerificationProgress } from '../runtime/certified-sync.ts';
import type { Resource } from '@medplum/fhirtypes';
import { parseRecord } from '../records/fhir.ts';
import { chainShared, type SharedRecord } from '../records/share.ts';
import type {
	InstitutionView,
	KeyblockView,
	NodeView,
	PatientBlockView,
	RecordStatus,
	RecordView,
	SharedRecordView
} from './types.ts';

/** A genesis, or the registry the chain derives (core institution-registry.ts: founders and admitted ones). */
export interface Consortium {
	readonly institutions: readonly { id: Bytes; name: string }[];
}

export function institutionView(consortium: Consortium, id: Bytes): InstitutionView {
	const institution = consortium.institutions.find((i) => bytesToHex(i.id) === bytesToHex(id));
	return {
		id: bytesToHex(id),
		address: addressOf(id, 'institution'),
		name: institution?.name ?? 'Unknown institution'
	};
}

export function keyblockView(consortium: Consortium, entry: KeyblockEntry): KeyblockView {
	const { block } = entry;
	let pinSigners = 0;
	if (block.pin) pinSigners = signerIndices(decodePin(block.pin).signers).length;
	return {
		height: block.header.height,
		hash: bytesToHex(keyblockHash(block.header)),
		miner: institutionView(consortium, block.header.miner),
		timestamp: block.header.timestamp,
		registers: block.registers.length,
		pinned: block.pin !== undefined,
		pinSigners
	};
}

export function patientBlockView(consortium: Consortium, block: PatientBlock): PatientBlockView {
	return {
		patient: addressOf(block.header.patient, 'patient'),
		hash: bytesToHex(patientBlockHash(block.header)),
		round: block.header.round,
		leaves: block.leaves.map((leaf) => ({
			institution: institutionView(consortium, leaf.institution),
			entries: leaf.entries.filter((e) => e.tx.body.kind === 'medical').length,
			labelled: leaf.entries.filter((e) => e.tx.body.kind === 'label').length
		}))
	};
}

/** Keeps a short rolling hash rate from the miner pool's cumulative counters. */
export class RateMeter {
	private samples: { at: number; hashes: number }[] = [];

	sample(hashes: number, now = Date.now()): number {
		this.samples.push({ at: now, hashes });
		while (this.samples.length > 2 && now - this.samples[0]!.at > 5000) this.samples.shift();
		const first = this.samples[0]!;
		const span = (now - first.at) / 1000;
		return span > 0 ? Math.max(0, (hashes - first.hashes) / span) : 0;
	}
}

/** The chain's verification as the node screen shows it (certified-sync.ts). */
function verificationView(node: FullNode, v: VerificationProgress): NodeView['verification'] {
	const name = (id: Bytes) => {
		try {
			return node.chain.ledger.institution(id).name;
		} catch {
			return bytesToHex(id).slice(0, 12);
		}
	};
	const invalid =
		v.invalid &&
		`${v.invalid.message} [${v.invalid.code}]; ${describeCertifiers(v.invalid.certifiedBy, name)}`;
	return { state: v.state, verified: v.verified, total: v.total, ...(invalid ? { invalid } : {}) };
}

export function nodeView(node: FullNode, errors: string[], hashRate = 0): NodeView {
	const status = node.status();
	const net = node.net.stats();
	return {
		peerId: status.peerId,
		peers: status.peers,
		height: status.height,
		batches: status.batches,
		patients: status.patients,
		mempool: status.mempool,
		member: status.member,
		mining: status.mining,
		hashRate,
		sync: status.syncing,
		verification: verificationView(node, status.verification),
		rejected: net.rejected,
		banned: net.banned.length,
		errors: [...errors]
	};
}

function resourceOf(json: string): Resource | undefined {
	try {
		return parseRecord(json) as Resource;
	} catch {
		return undefined;
	}
}

/**
 * What a clinic shows of the records patients shared with it: one entry per record, the current version
 * on top (`label.corrected`) and the replaced version kept as `resource`, marked by `label` with who,
 * when and why. A correction shared with its original is folded into it, never listed as a record of
 * its own. Records shared as a key only (no content yet) are left out until fetched.
 */
export function sharedRecordViews(
	consortium: Consortium,
	records: readonly SharedRecord[],
	statusOf: (transactionId: Bytes) => RecordStatus
): SharedRecordView[] {
	const chained = chainShared(records.filter((r) => r.content !== undefined));
	const byId = new Map(chained.map((r) => [bytesToHex(r.transactionId), r]));
	const out: SharedRecordView[] = [];
	for (const r of chained) {
		if (r.corrects && byId.has(bytesToHex(r.corrects))) continue;
		const record: RecordView = {
			id: bytesToHex(r.transactionId),
			institution: institutionView(consortium, r.header.holder),
			round: 0,
			at: r.content!.authoredAt,
			status: statusOf(r.transactionId),
			resource: resourceOf(r.content!.resource)
		};
		if (!record.resource) record.unavailable = 'the shared record is not a valid FHIR resource';
		if (r.replacedBy) {
			const by = byId.get(bytesToHex(r.replacedBy.transactionId))!;
			record.label = {
				id: bytesToHex(r.replacedBy.transactionId),
				institution: institutionView(consortium, r.replacedBy.holder),
				at: r.replacedBy.authoredAt,
				reason: r.replacedBy.reason,
				corrected: resourceOf(by.content!.resource)
			};
		}
		out.push({ consentId: bytesToHex(r.consentId), patient: addressOf(r.header.patient, 'patient'), record });
	}
	return out;
}

/** The institution a person named by its spi1… address, its name or its hex id; undefined if none is. */
export function findInstitution(consortium: Consortium, text: string): PublicKey | undefined {
	if (text.startsWith('spi')) {
		try {
			return parseAddress(text, 'institution');
		} catch {
			return undefined;
		}
	}
	return consortium.institutions.find((i) => i.name === text || bytesToHex(i.id) === text)?.id;
}
