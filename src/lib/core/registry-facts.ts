/**
 * Registry facts: how the consortium changes after genesis (paper §3: institutions are certified by an
 * authority; here the authority is the consensus group's quorum, docs/consortium.md "Joining later").
 *
 * - An application: an institution outside genesis publishes its keys (signing key = its id, BLS key
 *   with proof of possession, chameleon hash key), bound to one network by the genesis hash, signed by
 *   its signing key (so nobody can apply in another's name).
 * - A rotation: an institution replaces a compromised signing key. Signed by the key in force (only its
 *   holder can ask) and by the new key (its holder has it), numbered so an old rotation cannot be replayed.
 *
 * Either becomes a chain fact only with the group's approval certificate (registry-approval.ts), carried
 * by a keyblock: it is in force from the keyblock after the one that carries it (institution-registry.ts).
 */
import { bytesToHex, equalBytes, type Bytes } from './bytes.ts';
import { decodeHashKey } from './chameleon.ts';
import { blsVerifyPossession } from './consensus/bls.ts';
import { decodeCanonical, encodeCanonical, type Canonical } from './encoding.ts';
import { ensure, ValidationError, type ValidationCode } from './errors.ts';
import { HASH_LENGTH, taggedHash } from './hash.ts';
import {
	isValidPublicKey,
	PUBLIC_KEY_LENGTH,
	readInstitution,
	SIGNATURE_LENGTH,
	sign,
	verifySignature,
	type Institution,
	type PublicKey
} from './identity.ts';
import { merkleRoot } from './merkle.ts';
import * as read from './schema.ts';

export interface Application {
	/** Genesis hash of the network applied to. */
	network: Bytes;
	institution: Institution;
	/** BIP-340 signature of the institution's signing key over applicationHash. */
	signature: Bytes;
}

export interface Rotation {
	network: Bytes;
	/** The institution's id (its first signing key; ids never change, so leaves and records keep theirs). */
	institution: PublicKey;
	/** 1 for the first rotation of this institution, then 2, … */
	sequence: number;
	previousKey: PublicKey;
	nextKey: PublicKey;
	/** Signatures over rotationHash by the previous key and by the next key. */
	previousSignature: Bytes;
	nextSignature: Bytes;
}

/** Approval certificate: members of the group of `epoch` signed the fact's hash (registry-approval.ts). */
export interface Approval {
	epoch: number;
	signers: Bytes;
	signature: Bytes;
}

export type RegistryFact =
	| { type: 'admit'; application: Application; approval: Approval }
	| { type: 'rotate'; rotation: Rotation; approval: Approval };

/** Bound on registry facts per keyblock (each costs one aggregate pairing check). */
export const MAX_REGISTRY_FACTS = 64;

function institutionCanonical(i: Institution): { [key: string]: Canonical } {
	return {
		id: i.id,
		name: i.name,
		blsKey: i.blsKey,
		blsPossession: i.blsPossession,
		chameleonKey: i.chameleonKey
	};
}

export function applicationHash(network: Bytes, institution: Institution): Bytes {
	return taggedHash(
		'spchain/application',
		encodeCanonical({ network, institution: institutionCanonical(institution) })
	);
}

export function rotationHash(r: Omit<Rotation, 'previousSignature' | 'nextSignature'>): Bytes {
	return taggedHash(
		'spchain/rotation',
		encodeCanonical({
			network: r.network,
			institution: r.institution,
			sequence: r.sequence,
			previousKey: r.previousKey,
			nextKey: r.nextKey
		})
	);
}

/** What the group approves for a fact: the application or rotation hash. */
export function registryFactHash(fact: RegistryFact): Bytes {
	return fact.type === 'admit'
		? applicationHash(fact.application.network, fact.application.institution)
		: rotationHash(fact.rotation);
}

export function signApplication(network: Bytes, institution: Institution, signingSecret: Bytes): Application {
	return { network, institution, signature: sign(signingSecret, applicationHash(network, institution)) };
}

export function signRotation(
	unsigned: Omit<Rotation, 'previousSignature' | 'nextSignature'>,
	previousSecret: Bytes,
	nextSecret: Bytes
): Rotation {
	const digest = rotationHash(unsigned);
	return {
		...unsigned,
		previousSignature: sign(previousSecret, digest),
		nextSignature: sign(nextSecret, digest)
	};
}

function checkThat(code: ValidationCode, message: string, valid: () => boolean): void {
	let ok: boolean;
	let detail = '';
	try {
		ok = valid();
	} catch (error) {
		ok = false;
		detail = ` (${error instanceof Error ? error.message : String(error)})`;
	}
	ensure(ok, code, `${message}${detail}`);
}

/**
 * Rules an application must pass on its own (before anyone approves it, and again in a keyblock):
 * the network, the signature of its signing key, the BLS proof of possession, a valid chameleon key.
 */
export function checkApplication(application: Application, network: Bytes): void {
	const { institution } = application;
	ensure(
		equalBytes(application.network, network),
		'application-network',
		`${institution.name} applied to another network; apply again on this one`
	);
	ensure(
		verifySignature(institution.id, applicationHash(network, institution), application.signature),
		'application-signature',
		`the application of ${institution.name} is not signed by its signing key; make the application again`
	);
	checkThat(
		'application-bls',
		`${institution.name}: the BLS key comes without a valid proof of possession`,
		() => blsVerifyPossession(institution.blsKey, institution.blsPossession)
	);
	checkThat('application-chameleon', `${institution.name}: the chameleon hash key is not valid`, () => {
		decodeHashKey(institution.chameleonKey);
		return true;
	});
}

/** Rules a rotation must pass on its own: network, a new valid key, both signatures. */
export function checkRotation(rotation: Rotation, network: Bytes): void {
	ensure(
		equalBytes(rotation.network, network),
		'rotation-network',
		'the key rotation was made for another network'
	);
	ensure(rotation.sequence >= 1, 'rotation-sequence', 'a rotation is numbered from 1');
	ensure(
		isValidPublicKey(rotation.nextKey) && !equalBytes(rotation.nextKey, rotation.previousKey),
		'rotation-key',
		'the new signing key must be a valid key different from the one it replaces'
	);
	const digest = rotationHash(rotation);
	ensure(
		verifySignature(rotation.previousKey, digest, rotation.previousSignature),
		'rotation-signature',
		'the rotation is not signed by the signing key it replaces'
	);
	ensure(
		verifySignature(rotation.nextKey, digest, rotation.nextSignature),
		'rotation-signature',
		'the rotation is not signed by the new signing key'
	);
}

// --- encoding ---------------------------------------------------------------------------------------

function approvalCanonical(a: Approval): { [key: string]: Canonical } {
	return { epoch: a.epoch, signers: a.signers, signature: a.signature };
}

export function applicationToCanonical(a: Application): { [key: string]: Canonical } {
	return { network: a.network, institution: institutionCanonical(a.institution), signature: a.signature };
}

export function registryFactToCanonical(fact: RegistryFact): { [key: string]: Canonical } {
	if (fact.type === 'admit')
		return {
			type: 'admit',
			application: applicationToCanonical(fact.application),
			approval: approvalCanonical(fact.approval)
		};
	return {
		type: 'rotate',
		rotation: rotationToCanonical(fact.rotation),
		approval: approvalCanonical(fact.approval)
	};
}

export function rotationToCanonical(r: Rotation): { [key: string]: Canonical } {
	const { previousSignature, nextSignature, ...unsigned } = r;
	return { ...unsigned, previousSignature, nextSignature };
}

export function readApproval(value: unknown, where: string): Approval {
	const o = read.object(value, where, ['epoch', 'signers', 'signature']);
	return {
		epoch: read.uint(o.epoch, `${where}.epoch`),
		signers: read.bytes(o.signers, `${where}.signers`, { min: 1, max: 32 }),
		signature: read.bytes(o.signature, `${where}.signature`, 96)
	};
}

export function readApplication(value: unknown, where: string): Application {
	const o = read.object(value, where, ['network', 'institution', 'signature']);
	return {
		network: read.bytes(o.network, `${where}.network`, HASH_LENGTH),
		institution: readInstitution(o.institution, `${where}.institution`),
		signature: read.bytes(o.signature, `${where}.signature`, SIGNATURE_LENGTH)
	};
}

export function readRotation(value: unknown, where: string): Rotation {
	const o = read.object(value, where, [
		'network',
		'institution',
		'sequence',
		'previousKey',
		'nextKey',
		'previousSignature',
		'nextSignature'
	]);
	return {
		network: read.bytes(o.network, `${where}.network`, HASH_LENGTH),
		institution: read.bytes(o.institution, `${where}.institution`, PUBLIC_KEY_LENGTH),
		sequence: read.uint(o.sequence, `${where}.sequence`, 1_000_000),
		previousKey: read.bytes(o.previousKey, `${where}.previousKey`, PUBLIC_KEY_LENGTH),
		nextKey: read.bytes(o.nextKey, `${where}.nextKey`, PUBLIC_KEY_LENGTH),
		previousSignature: read.bytes(o.previousSignature, `${where}.previousSignature`, SIGNATURE_LENGTH),
		nextSignature: read.bytes(o.nextSignature, `${where}.nextSignature`, SIGNATURE_LENGTH)
	};
}

export function readRegistryFact(value: unknown, where: string): RegistryFact {
	const o = read.object(value, where, ['type', 'approval'], ['application', 'rotation']);
	const type = read.oneOf(o.type, `${where}.type`, ['admit', 'rotate'] as const);
	const approval = readApproval(o.approval, `${where}.approval`);
	if (type === 'admit') {
		if (o.application === undefined)
			throw new ValidationError('registry-fact', `${where}: an admission carries its application`);
		return { type, application: readApplication(o.application, `${where}.application`), approval };
	}
	if (o.rotation === undefined)
		throw new ValidationError('registry-fact', `${where}: a rotation fact carries its rotation`);
	return { type, rotation: readRotation(o.rotation, `${where}.rotation`), approval };
}

export function encodeRegistryFact(fact: RegistryFact): Bytes {
	return encodeCanonical(registryFactToCanonical(fact));
}

export function decodeRegistryFact(bytes: Bytes): RegistryFact {
	return readRegistryFact(decodeCanonical(bytes, 16 * 1024), 'registryFact');
}

/** Merkle root a keyblock header commits to over its registry facts (hash of each canonical fact). */
export function registryRoot(facts: readonly RegistryFact[]): Bytes {
	return merkleRoot(facts.map((f) => taggedHash('spchain/registry-fact', encodeRegistryFact(f))));
}

/** Who a fact is about, for messages and indices. */
export function registryFactSubject(fact: RegistryFact): string {
	return bytesToHex(fact.type === 'admit' ? fact.application.institution.id : fact.rotation.institution);
}
