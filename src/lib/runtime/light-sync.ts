/**
 * Light sync: how a light client (light-client.ts) catches up from a full node over a request stream,
 * receiving pinned keyblock headers, hand-overs and batch headers (a few hundred bytes each) instead of
 * the journal, then its own patient's block with one inclusion proof per record. Every frame is verified
 * as it arrives, so a serving peer can slow a light client down but not make it accept a keyblock or a
 * record the group did not pin.
 *
 * Request: `{ keyblocks, handovers, batches, registry, patient }`: how many of each the client holds,
 * and whose block it wants. Response frames, in an order the client can verify one by one (each keyblock
 * and batch after the hand-overs its group needs, each admission or key rotation before the hand-over
 * that ends its epoch, so the group that approved it is known and the hand-over may name it):
 * `{ type: 'keyblock' | 'handover' | 'batch' | 'registry', bytes }` (keyblock: `{ header, pin }`;
 * registry: `{ height, fact }`), then `{ type: 'block', bytes }` (the patient block, absent for an
 * unknown patient) followed by one `{ type: 'proof', bytes }` per entry, in leaf order, then
 * `{ type: 'end' }`.
 *
 * The block's leaf proofs are checked (checkPatientBlock's statements, with the client's verifier); its
 * header is taken from the peer, checked against the pinned keyblock of its round when the client holds
 * it (the header names that keyblock's hash).
 */
import { equalBytes, type Bytes } from '../core/bytes.ts';
import type { ChameleonVerifier } from '../core/chameleon.ts';
import { decodeHandover, encodeHandover, epochOf } from '../core/consensus/membership.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { ensure, ValidationError } from '../core/errors.ts';
import { headerToCanonical, MAX_PIN_BYTES, readKeyblockHeader, type Keyblock } from '../core/keyblock.ts';
import {
	batchHeaderOf,
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
import { recordProver, type LightClient } from './light-client.ts';

export const LIGHT_PROTOCOL = '/spchain/light/1.0.0';
const FRAME_TYPES = ['keyblock', 'handover', 'batch', 'registry', 'block', 'proof', 'end'] as const;
export type LightFrameType = (typeof FRAME_TYPES)[number];

const frame = (type: LightFrameType, bytes: Bytes = new Uint8Array(0)) => encodeCanonical({ type, bytes });
const registryFrame = ({ height, fact }: { height: number; fact: RegistryFact }) =>
	frame('registry', encodeCanonical({ height, fact: registryFactToCanonical(fact) }));
const keyblockFrame = (block: Keyblock) =>
	frame('keyblock', encodeCanonical({ header: headerToCanonical(block.header), pin: block.pin! }));

export interface LightRequest {
	/** Pinned keyblocks the client holds. */
	keyblocks: number;
	handovers: number;
	batches: number;
	/** Registry facts (admissions, key rotations) the client holds. */
	registry: number;
	patient: Bytes;
}

/** The frames a full node answers `request` with (the handler's body; tests tamper with its output). */
export async function* lightFrames(chain: ChainState, request: LightRequest): AsyncGenerator<Uint8Array> {
	const registry = chain.ledger.registry.facts;
	const params = chain.membershipParams;
	const handovers = chain.epochs - 1;
	let handed = request.handovers;
	let r = request.registry;
	// Hand-overs up to the group of `epoch`, each after the registry facts of the epoch it ends.
	function* handOverTo(epoch: number) {
		while (handed < handovers && handed < epoch) {
			while (r < registry.length && registry[r]!.height <= (handed + 1) * params.epochLength)
				yield registryFrame(registry[r++]!);
			yield frame('handover', encodeHandover(chain.handover(++handed)!));
		}
	}
	for (let height = request.keyblocks + 1; height <= chain.height; height++) {
		const block = chain.ledger.keyblock(height)!.block;
		if (!block.pin) break;
		yield* handOverTo(epochOf(height, params));
		yield keyblockFrame(block);
	}
	for (let sequence = request.batches + 1; sequence <= chain.batchCount; sequence++) {
		const previous = chain.batch(sequence - 1);
		yield* handOverTo(previous ? epochOf(Math.max(1, previous.batch.round), params) : 0);
		yield frame('batch', encodeBatchHeader(batchHeaderOf(chain.batch(sequence)!)));
	}
	yield* handOverTo(handovers);
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
		// A chain still certified only is not served (certified-sync.ts): the phone asks another node.
		if (!chain.fullyVerified) throw new Error('this node is still verifying its chain');
		const o = read.object(decodeCanonical(request, 256), 'lightRequest', [
			'keyblocks',
			'handovers',
			'batches',
			'registry',
			'patient'
		]);
		return lightFrames(chain, {
			keyblocks: read.uint(o.keyblocks, 'lightRequest.keyblocks'),
			handovers: read.uint(o.handovers, 'lightRequest.handovers'),
			batches: read.uint(o.batches, 'lightRequest.batches'),
			registry: read.uint(o.registry, 'lightRequest.registry'),
			patient: read.bytes(o.patient, 'lightRequest.patient', 32)
		});
	});
}

/** A frame as received: its type and bytes (what a light node keeps of the chain frames it verified). */
export function readLightFrame(raw: Bytes): { type: LightFrameType; bytes: Bytes } {
	const o = read.object(decodeCanonical(raw), 'lightFrame', ['type', 'bytes']);
	return {
		type: read.oneOf(o.type, 'lightFrame.type', FRAME_TYPES),
		bytes: read.bytes(o.bytes, 'lightFrame.bytes', { max: 8 * 1024 * 1024 })
	};
}

/**
 * Verifies a chain frame (keyblock, hand-over, batch or registry fact) into `client`: what light sync
 * does with each as it arrives, and what a light node does again with the frames it kept when it opens.
 */
export function applyChainFrame(client: LightClient, type: LightFrameType, bytes: Bytes): void {
	switch (type) {
		case 'keyblock': {
			const k = read.object(decodeCanonical(bytes, 16 * 1024), 'lightFrame.keyblock', ['header', 'pin']);
			client.applyKeyblock(
				readKeyblockHeader(k.header, 'lightFrame.keyblock.header'),
				read.bytes(k.pin, 'lightFrame.keyblock.pin', { max: MAX_PIN_BYTES })
			);
			return;
		}
		case 'handover':
			return client.applyHandover(decodeHandover(bytes));
		case 'batch':
			return client.applyBatch(decodeBatchHeader(bytes));
		case 'registry': {
			const r = read.object(decodeCanonical(bytes, 16 * 1024), 'lightFrame.registry', ['height', 'fact']);
			return client.applyRegistryFact(
				read.uint(r.height, 'lightFrame.registry.height'),
				readRegistryFact(r.fact, 'lightFrame.registry.fact')
			);
		}
		default:
			throw new ValidationError('light-frame', `a ${type} frame is not a chain frame`);
	}
}

export interface LightSyncResult {
	keyblocks: number;
	handovers: number;
	batches: number;
	/** The patient's block, every record of it verified (undefined: the peer does not know the patient). */
	block: PatientBlock | undefined;
	/** Its encoded bytes and each record's inclusion proof, in leaf order (what a light node keeps). */
	blockBytes: Bytes | undefined;
	proofs: Bytes[];
	records: number;
}

/**
 * Catches `client` up from `peer` and fetches `patient`'s block, verifying every frame. Invalid data
 * penalises the peer and ends the sync with the ValidationError; keyblocks, hand-overs and batches
 * verified before it are kept by the client, and each is handed to `onChainFrame` once verified.
 */
export async function lightSyncFrom(
	net: PeerNet,
	client: LightClient,
	peer: string,
	patient: Bytes,
	verifier: ChameleonVerifier,
	onChainFrame: (raw: Bytes) => void = () => {}
): Promise<LightSyncResult> {
	const result: LightSyncResult = {
		keyblocks: 0,
		handovers: 0,
		batches: 0,
		block: undefined,
		blockBytes: undefined,
		proofs: [],
		records: 0
	};
	const request = encodeCanonical({
		keyblocks: client.height,
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
			const { type, bytes } = readLightFrame(raw);
			switch (type) {
				case 'keyblock':
				case 'handover':
				case 'batch':
				case 'registry':
					applyChainFrame(client, type, bytes);
					if (type === 'keyblock') result.keyblocks++;
					else if (type === 'handover') result.handovers++;
					else if (type === 'batch') result.batches++;
					onChainFrame(raw);
					break;
				case 'block': {
					ensure(result.block === undefined, 'light-frame', 'the peer sent a second patient block');
					result.block = await verifyBlock(client, bytes, patient, verifier);
					result.blockBytes = bytes;
					entries = result.block.leaves.flatMap((leaf) => leaf.entries);
					break;
				}
				case 'proof': {
					const entry = entries[result.records];
					ensure(entry !== undefined, 'light-frame', 'the peer sent more proofs than the block has records');
					client.verifyRecord(entry, decodeInclusionProof(bytes));
					result.proofs.push(bytes);
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

/** The patient's block from its bytes, its leaf proofs checked and its header against a held keyblock. */
export async function verifyBlock(
	client: LightClient,
	bytes: Bytes,
	patient: Bytes,
	verifier: ChameleonVerifier
): Promise<PatientBlock> {
	const block = decodePatientBlock(bytes, client.registry.all.length);
	ensure(equalBytes(block.header.patient, patient), 'light-block', "the peer sent another patient's block");
	const keyblock = client.keyblockHash(block.header.round);
	ensure(
		keyblock === undefined || equalBytes(keyblock, block.header.keyblock),
		'light-block',
		'the patient block names another keyblock than the one pinned at its round'
	);
	const statements = checkPatientBlock(block, client.registry.members(block.header.round));
	const results = await verifier.verifyAll(statements);
	ensure(results.every(Boolean), 'leaf-proof', "an institution's proof for a leaf is not valid");
	return block;
}
