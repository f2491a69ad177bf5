/**
 * Light sync: how a light client (light-client.ts) catches up from a full node over a request stream,
 * receiving hand-overs and batch headers (a few hundred bytes each) instead of the journal, then its own
 * patient's block with one inclusion proof per record. Every frame is verified as it arrives, so a
 * serving peer can slow a light client down but not make it accept a record the group did not pin.
 *
 * Request: `{ handovers, batches, registry, patient }`: how many of each the client holds, and whose
 * block it wants. Response frames, in an order the client can verify one by one (each batch after the
 * hand-overs its group needs, each admission or key rotation before the hand-over that ends its epoch,
 * so the group that approved it is known and the hand-over may name it):
 * `{ type: 'handover' | 'batch' | 'registry', bytes }` (registry: `{ height, fact }`), then `{ type: 'block', bytes }` (the
 * patient block, absent for an unknown patient) followed by one `{ type: 'proof', bytes }` per entry, in
 * leaf order, then `{ type: 'end' }`.
 *
 * The block's leaf proofs are checked (checkPatientBlock's statements, with the client's verifier); its
 * header is taken from the peer: a light client holds no keyblocks to derive it from.
 */
import { equalBytes, type Bytes } from '../core/bytes.ts';
import type { ChameleonVerifier } from '../core/chameleon.ts';
import { decodeHandover, encodeHandover, epochOf } from '../core/consensus/membership.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { ensure, ValidationError } from '../core/errors.ts';
import {
	decodeBatchHeader,
	decodeInclusionProof,
	encodeBatchHeader,
	encodeInclusionProof
} from '../core/light-proof.ts';
import {
	checkPatientBlock,
	decodePatientBlock,
	encodePatientBlock,
	type PatientBlock
} from '../core/patient-block.ts';
import { readRegistryFact, registryFactToCanonical, type RegistryFact } from '../core/registry-facts.ts';
import * as read from '../core/schema.ts';
import type { PeerNet } from '../net/peer-net.ts';
import type { ChainState } from './chain-state.ts';
import { lightFacts, recordProver, type LightClient } from './light-client.ts';

export const LIGHT_PROTOCOL = '/spchain/light/1.0.0';
const FRAME_TYPES = ['handover', 'batch', 'registry', 'block', 'proof', 'end'] as const;
type FrameType = (typeof FRAME_TYPES)[number];

const frame = (type: FrameType, bytes: Bytes = new Uint8Array(0)) => encodeCanonical({ type, bytes });
const registryFrame = ({ height, fact }: { height: number; fact: RegistryFact }) =>
	frame('registry', encodeCanonical({ height, fact: registryFactToCanonical(fact) }));

export interface LightRequest {
	handovers: number;
	batches: number;
	/** Registry facts (admissions, key rotations) the client holds. */
	registry: number;
	patient: Bytes;
}

/** The frames a full node answers `request` with (the handler's body; tests tamper with its output). */
export async function* lightFrames(chain: ChainState, request: LightRequest): AsyncGenerator<Uint8Array> {
	const facts = lightFacts(chain);
	const registry = chain.ledger.registry.facts;
	const { epochLength } = chain.membershipParams;
	let h = request.handovers;
	let r = request.registry;
	// The hand-over to epoch h + 1, after the registry facts of the epochs it ends.
	function* nextHandover() {
		while (r < registry.length && registry[r]!.height <= (h + 1) * epochLength)
			yield registryFrame(registry[r++]!);
		yield frame('handover', encodeHandover(facts.handovers[h++]!));
	}
	for (const header of facts.batches.slice(request.batches)) {
		const previous = facts.batches[header.sequence - 2];
		const epoch = previous ? epochOf(Math.max(1, previous.round), chain.membershipParams) : 0;
		while (h < facts.handovers.length && h < epoch) yield* nextHandover();
		yield frame('batch', encodeBatchHeader(header));
	}
	while (h < facts.handovers.length) yield* nextHandover();
	while (r < registry.length) yield registryFrame(registry[r++]!);
	const block = chain.ledger.patientBlock(request.patient);
	if (block) {
		yield frame('block', encodePatientBlock(block));
		const prove = recordProver(chain);
		for (const leaf of block.leaves)
			for (const entry of leaf.entries) {
				const proof = prove(entry);
				if (!proof) throw new Error('a record of this node is in no batch it holds');
				yield frame('proof', encodeInclusionProof(proof));
			}
	}
	yield frame('end');
}

/** Serves light clients from a full node's chain. */
export function serveLight(net: PeerNet, chain: ChainState): void {
	net.handle(LIGHT_PROTOCOL, (request) => {
		const o = read.object(decodeCanonical(request, 256), 'lightRequest', [
			'handovers',
			'batches',
			'registry',
			'patient'
		]);
		return lightFrames(chain, {
			handovers: read.uint(o.handovers, 'lightRequest.handovers'),
			batches: read.uint(o.batches, 'lightRequest.batches'),
			registry: read.uint(o.registry, 'lightRequest.registry'),
			patient: read.bytes(o.patient, 'lightRequest.patient', 32)
		});
	});
}

export interface LightSyncResult {
	handovers: number;
	batches: number;
	/** The patient's block, every record of it verified (undefined: the peer does not know the patient). */
	block: PatientBlock | undefined;
	records: number;
}

/**
 * Catches `client` up from `peer` and fetches `patient`'s block, verifying every frame. Invalid data
 * penalises the peer and ends the sync with the ValidationError; hand-overs and batches verified before
 * it are kept by the client.
 */
export async function lightSyncFrom(
	net: PeerNet,
	client: LightClient,
	peer: string,
	patient: Bytes,
	verifier: ChameleonVerifier
): Promise<LightSyncResult> {
	const result: LightSyncResult = { handovers: 0, batches: 0, block: undefined, records: 0 };
	const request = encodeCanonical({
		handovers: client.epochs - 1,
		batches: client.batchCount,
		registry: client.registry.facts.length,
		patient
	});
	let entries: PatientBlock['leaves'][number]['entries'] = [];
	let ended = false;
	try {
		for await (const raw of net.request(peer, LIGHT_PROTOCOL, request)) {
			ensure(!ended, 'light-frame', 'the peer sent frames after its end marker');
			const o = read.object(decodeCanonical(raw), 'lightFrame', ['type', 'bytes']);
			const type = read.oneOf(o.type, 'lightFrame.type', FRAME_TYPES);
			const bytes = read.bytes(o.bytes, 'lightFrame.bytes', { max: 8 * 1024 * 1024 });
			switch (type) {
				case 'handover':
					client.applyHandover(decodeHandover(bytes));
					result.handovers++;
					break;
				case 'batch':
					client.applyBatch(decodeBatchHeader(bytes));
					result.batches++;
					break;
				case 'registry': {
					const r = read.object(decodeCanonical(bytes, 16 * 1024), 'lightFrame.registry', ['height', 'fact']);
					client.applyRegistryFact(
						read.uint(r.height, 'lightFrame.registry.height'),
						readRegistryFact(r.fact, 'lightFrame.registry.fact')
					);
					break;
				}
				case 'block': {
					ensure(result.block === undefined, 'light-frame', 'the peer sent a second patient block');
					const block = decodePatientBlock(bytes, client.registry.all.length);
					ensure(
						equalBytes(block.header.patient, patient),
						'light-block',
						"the peer sent another patient's block"
					);
					const statements = checkPatientBlock(block, client.registry.members(block.header.round));
					const results = await verifier.verifyAll(statements);
					ensure(results.every(Boolean), 'leaf-proof', "an institution's proof for a leaf is not valid");
					result.block = block;
					entries = block.leaves.flatMap((leaf) => leaf.entries);
					break;
				}
				case 'proof': {
					const entry = entries[result.records];
					ensure(entry !== undefined, 'light-frame', 'the peer sent more proofs than the block has records');
					client.verifyRecord(entry, decodeInclusionProof(bytes));
					result.records++;
					break;
				}
				case 'end':
					ended = true;
			}
		}
		ensure(ended, 'light-frame', 'the peer ended the light sync without its end marker');
		ensure(
			result.records === entries.length,
			'light-frame',
			`the block has ${entries.length} records and the peer proved ${result.records}`
		);
	} catch (error) {
		if (error instanceof ValidationError) net.penalise(peer, `light sync: ${error.message}`);
		throw error;
	}
	return result;
}
