/**
 * Joining later, over the network (docs/consortium.md "Joining later"): the paper's certifying
 * authority is the consensus group's quorum. Two request/response protocols (net/protocol.ts):
 *
 * - APPLY: an applicant sends its signed application to the peers it knows; each member of the group
 *   that approves for the next keyblock answers by its node's admission policy: 'open' approves any
 *   well-formed application at once (the demo network and tests), 'manual' keeps it until the
 *   operator approves or refuses it (what a real consortium runs) and answers 'pending' meanwhile.
 *   An approval is the member's BLS signature over the application hash (core registry-approval.ts).
 * - SUBMIT: once it holds a quorum of approvals, the applicant aggregates them and hands the admission
 *   to the institutions, whose miners carry it in their next keyblock (registry-pool.ts); it is in force
 *   from the keyblock after the one the group pins with it.
 *
 * - ROTATE: the same for a key rotation (core registry-facts.ts): the institution sends its rotation,
 *   signed by its key in force and its new key; members answer by the same policy, and the certified
 *   rotation travels by SUBMIT like an admission.
 *
 * `AdmissionDesk` is a member's side, `seekAdmission` and `seekRotation` the asking institution's.
 */
import { bytesToHex, equalBytes, type Bytes } from '../core/bytes.ts';
import { blsVerify } from '../core/consensus/bls.ts';
import type { ConsensusGroup } from '../core/consensus/group.ts';
import { checkNextRotation } from '../core/institution-registry.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { ValidationError } from '../core/errors.ts';
import type { Institution } from '../core/identity.ts';
import { approvalMessage, assembleApproval, signApproval } from '../core/registry-approval.ts';
import {
	applicationHash,
	applicationToCanonical,
	checkApplication,
	decodeRegistryFact,
	encodeRegistryFact,
	checkRotation,
	readApplication,
	readRotation,
	rotationHash,
	rotationToCanonical,
	signApplication,
	type Application,
	type Approval,
	type RegistryFact,
	type Rotation
} from '../core/registry-facts.ts';
import * as read from '../core/schema.ts';
import { call, codec, defineProtocol, serve } from '../net/protocol.ts';
import type { PeerNet } from '../net/peer-net.ts';
import type { FullNode } from './full-node.ts';

export const ADMISSION_POLICIES = ['manual', 'open'] as const;
export type AdmissionPolicy = (typeof ADMISSION_POLICIES)[number];

export type ApplyAnswer =
	/** This member signed the application for the group of `epoch`. */
	| { status: 'approved'; epoch: number; member: Bytes; signature: Bytes }
	/** Kept for this member's operator (manual policy). */
	| { status: 'pending' }
	/** This node is not a member of the group that approves now. */
	| { status: 'not-member' }
	/** The operator refused it. */
	| { status: 'refused' }
	/** Already an institution, in force from keyblock `from`. */
	| { status: 'admitted'; from: number };

const ANSWER_STATUSES = ['approved', 'pending', 'not-member', 'refused', 'admitted'] as const;

function encodeAnswer(answer: ApplyAnswer): Bytes {
	return encodeCanonical({ ...answer });
}

function decodeAnswer(bytes: Bytes): ApplyAnswer {
	const o = read.object(
		decodeCanonical(bytes, 1024),
		'applyAnswer',
		['status'],
		['epoch', 'member', 'signature', 'from']
	);
	const status = read.oneOf(o.status, 'applyAnswer.status', ANSWER_STATUSES);
	if (status === 'approved')
		return {
			status,
			epoch: read.uint(o.epoch, 'applyAnswer.epoch'),
			member: read.bytes(o.member, 'applyAnswer.member', 32),
			signature: read.bytes(o.signature, 'applyAnswer.signature', 96)
		};
	if (status === 'admitted') return { status, from: read.uint(o.from, 'applyAnswer.from') };
	return { status };
}

export const APPLY = defineProtocol({
	id: '/spchain/admission/apply/1.0.0',
	request: codec<Application>(
		(a) => encodeCanonical(applicationToCanonical(a)),
		(bytes) => readApplication(decodeCanonical(bytes, 4096), 'application')
	),
	response: codec(encodeAnswer, decodeAnswer),
	maxBytes: 4096,
	timeoutMs: 15_000
});

export const ROTATE = defineProtocol({
	id: '/spchain/registry/rotate/1.0.0',
	request: codec<Rotation>(
		(r) => encodeCanonical(rotationToCanonical(r)),
		(bytes) => readRotation(decodeCanonical(bytes, 1024), 'rotation')
	),
	response: codec(encodeAnswer, decodeAnswer),
	maxBytes: 1024,
	timeoutMs: 15_000
});

export const SUBMIT = defineProtocol({
	id: '/spchain/admission/submit/1.0.0',
	request: codec(encodeRegistryFact, decodeRegistryFact),
	response: codec<'added' | 'known'>(
		(status) => encodeCanonical({ status }),
		(bytes) =>
			read.oneOf(
				read.object(decodeCanonical(bytes, 64), 'submitAnswer', ['status']).status,
				'submitAnswer.status',
				['added', 'known'] as const
			)
	),
	maxBytes: 16 * 1024,
	timeoutMs: 15_000
});

/** The group that approves facts for the next keyblock (its epoch's, or the newest while it is unknown). */
export function approvingGroup(node: FullNode): ConsensusGroup {
	return node.chain.groupFor(node.chain.height + 1) ?? node.chain.group;
}

export interface AdmissionDeskOptions {
	node: FullNode;
	/** This institution's id and BLS secret key (its consensus key signs approvals). */
	id: Bytes;
	blsKey: Bytes;
	policy: AdmissionPolicy;
}

/** Applications kept for an operator at most: anyone can apply, so the oldest make room. */
const MAX_PENDING = 64;

/** An application (or a key rotation) waiting for this member's operator. */
export interface PendingApplication {
	/** 'rotate': an admitted institution asks to replace its signing key. */
	kind: 'admit' | 'rotate';
	institution: Institution;
	hash: string;
	receivedAt: number;
}

/** A member's side of admission: answers APPLY by its policy, keeps SUBMITted facts for its miner. */
export class AdmissionDesk {
	readonly #pending = new Map<string, PendingApplication>();
	readonly #approved = new Set<string>();
	readonly #refused = new Set<string>();
	readonly #listeners = new Set<() => void>();

	constructor(private readonly options: AdmissionDeskOptions) {
		const { node } = options;
		serve(node.net, APPLY, async (application) => this.answer(application));
		serve(node.net, ROTATE, async (rotation) => this.answerRotation(rotation));
		serve(node.net, SUBMIT, async (fact) => node.registryPool.add(fact));
	}

	get policy(): AdmissionPolicy {
		return this.options.policy;
	}

	/** Applications waiting for the operator (manual policy), oldest first. */
	pending(): PendingApplication[] {
		return [...this.#pending.values()];
	}

	onChange(listener: () => void): () => void {
		this.#listeners.add(listener);
		return () => this.#listeners.delete(listener);
	}

	/** The operator's decision on a pending application (by its hash, hex). */
	decide(hash: string, approve: boolean): void {
		if (!this.#pending.delete(hash))
			throw new ValidationError('registry-fact', 'no application with this hash is waiting here');
		(approve ? this.#approved : this.#refused).add(hash);
		for (const listener of this.#listeners) listener();
	}

	answer(application: Application): ApplyAnswer {
		const { ledger } = this.options.node.chain;
		checkApplication(application, ledger.genesisHash);
		const known = ledger.registry.byId(application.institution.id);
		if (known) return { status: 'admitted', from: known.admittedAt + 1 };
		const hash = applicationHash(application.network, application.institution);
		return this.#decideOn(hash, 'admit', application.institution);
	}

	/**
	 * A rotation is answered like an application: checked on its own (both signatures), then against
	 * the registry (the key it replaces is the one in force, the sequence is the next one).
	 */
	answerRotation(rotation: Rotation): ApplyAnswer {
		const { ledger } = this.options.node.chain;
		checkRotation(rotation, ledger.genesisHash);
		const institution = ledger.registry.memberAt(rotation.institution, ledger.height + 1);
		if (!institution)
			throw new ValidationError(
				'unknown-institution',
				'the key rotation is for an institution that is not admitted'
			);
		const done = institution.keys.find((k) => equalBytes(k.key, rotation.nextKey));
		if (done) return { status: 'admitted', from: done.from };
		checkNextRotation(rotation, institution);
		return this.#decideOn(rotationHash(rotation), 'rotate', institution);
	}

	#decideOn(hash: Bytes, kind: PendingApplication['kind'], institution: Institution): ApplyAnswer {
		const { node, id, blsKey, policy } = this.options;
		const group = approvingGroup(node);
		if (group.indexOf(id) < 0) return { status: 'not-member' };
		const key = bytesToHex(hash);
		if (this.#refused.has(key)) return { status: 'refused' };
		if (policy === 'manual' && !this.#approved.has(key)) {
			if (!this.#pending.has(key)) {
				if (this.#pending.size >= MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value!);
				this.#pending.set(key, { kind, institution, hash: key, receivedAt: Date.now() });
				for (const listener of this.#listeners) listener();
			}
			return { status: 'pending' };
		}
		return {
			status: 'approved',
			epoch: group.epoch,
			member: id,
			signature: signApproval(group, hash, blsKey)
		};
	}
}

export type AdmissionStatus =
	| { state: 'applying'; approvals: number; members: number; pending: number; refused: number }
	| { state: 'submitted'; approvals: number; members: number }
	| { state: 'admitted'; from: number };

interface SeekOptions {
	node: FullNode;
	net: PeerNet;
	onStatus?: (status: AdmissionStatus) => void;
	signal?: AbortSignal;
	/** Pause between rounds of asking (default 3 s). */
	retryMs?: number;
}

export interface SeekAdmissionOptions extends SeekOptions {
	institution: Institution;
	signingKey: Bytes;
}

/**
 * The applicant's side: asks every connected peer to approve, aggregates a quorum of the approving
 * group's signatures, submits the admission, and repeats until the chain holds it. Resolves with the
 * first keyblock height at which the institution is in force.
 */
export function seekAdmission(options: SeekAdmissionOptions): Promise<number> {
	const { node, net, institution, signal } = options;
	const { ledger } = node.chain;
	const application = signApplication(ledger.genesisHash, institution, options.signingKey);
	return seekApproval(options, {
		hash: applicationHash(application.network, institution),
		ask: (peer) => call(net, peer, APPLY, application, { signal }),
		fact: (approval) => ({ type: 'admit', application, approval }),
		inForceFrom: () => {
			const found = ledger.registry.byId(institution.id);
			return found && found.admittedAt + 1;
		}
	});
}

/**
 * An admitted institution's side of a key rotation (signed by its key in force and its new key):
 * the same rounds as an admission. Resolves with the first keyblock height the new key signs for.
 */
export function seekRotation(
	options: SeekOptions & {
		rotation: Rotation;
		/** Its own consensus key: a member of the approving group approves its own rotation too. */
		own?: { id: Bytes; blsKey: Bytes };
	}
): Promise<number> {
	const { node, net, rotation, signal } = options;
	const { registry } = node.chain.ledger;
	return seekApproval(options, {
		hash: rotationHash(rotation),
		ask: (peer) => call(net, peer, ROTATE, rotation, { signal }),
		fact: (approval) => ({ type: 'rotate', rotation, approval }),
		own: options.own,
		inForceFrom: () =>
			registry.byId(rotation.institution)?.keys.find((k) => equalBytes(k.key, rotation.nextKey))?.from
	});
}

async function seekApproval(
	options: SeekOptions,
	request: {
		hash: Bytes;
		ask: (peer: string) => Promise<ApplyAnswer>;
		fact: (approval: Approval) => RegistryFact;
		inForceFrom: () => number | undefined;
		own?: { id: Bytes; blsKey: Bytes };
	}
): Promise<number> {
	const { node, net, onStatus, signal } = options;
	for (;;) {
		signal?.throwIfAborted();
		const from = request.inForceFrom();
		if (from !== undefined) {
			onStatus?.({ state: 'admitted', from });
			return from;
		}
		const group = approvingGroup(node);
		const message = approvalMessage(group, request.hash);
		const signatures = new Map<number, Bytes>();
		let pending = 0;
		let refused = 0;
		const own = request.own && group.indexOf(request.own.id);
		if (own !== undefined && own >= 0)
			signatures.set(own, signApproval(group, request.hash, request.own!.blsKey));
		await Promise.all(
			net.peers().map(async (peer) => {
				const answer = await request.ask(peer).catch(() => undefined);
				if (answer?.status === 'pending') pending++;
				if (answer?.status === 'refused') refused++;
				if (answer?.status !== 'approved' || answer.epoch !== group.epoch) return;
				const index = group.indexOf(answer.member);
				// A wrong signature would only spoil the aggregate: each is checked on its own first.
				if (index >= 0 && blsVerify(group.members[index]!.blsPublicKey, message, answer.signature))
					signatures.set(index, answer.signature);
			})
		);
		const progress = { approvals: signatures.size, members: group.size };
		if (group.isQuorum(signatures.keys())) {
			const fact = request.fact(assembleApproval(group, signatures));
			await Promise.all(
				net.peers().map((peer) => call(net, peer, SUBMIT, fact, { signal }).catch(() => undefined))
			);
			onStatus?.({ state: 'submitted', ...progress });
		} else onStatus?.({ state: 'applying', ...progress, pending, refused });
		await untilAdmittedOr(node, options.retryMs ?? 3000, signal);
	}
}

/** Waits `ms`, or less if a fact makes the institution admitted meanwhile. */
function untilAdmittedOr(node: FullNode, ms: number, signal?: AbortSignal): Promise<void> {
	return new Promise((resolve) => {
		const done = () => {
			clearTimeout(timer);
			off();
			signal?.removeEventListener('abort', done);
			resolve();
		};
		const timer = setTimeout(done, ms);
		const off = node.chain.onFact((fact) => {
			if (fact.type === 'keyblock' && fact.block.registry?.length) done();
		});
		signal?.addEventListener('abort', done, { once: true });
	});
}
