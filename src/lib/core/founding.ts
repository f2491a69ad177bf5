/**
 * The founding of a consortium (paper §4.1 Setup, §5.1): the first institutions agree on the genesis
 * without anyone holding another's key. A transcript passes from founder to founder (the same
 * pass-the-directory style as the SNARK ceremony, with which it is merged) and grows by signed steps:
 *  - join: a founder adds its public keys (signing key = id, BLS key with proof of possession,
 *    chameleon hash key);
 *  - contribute (phase 1, then phase 2): the hash of its contribution to the chameleon circuit's SNARK
 *    setup, and a commitment sha256(share) to a beacon share it keeps secret;
 *  - reveal: after the last contribution of a phase, each contributor of that phase reveals its share.
 * Every step names the hash of the one before and is signed (BIP-340) by the founder's signing key, so
 * nobody can add, drop or alter a founder's keys or contribution hashes unseen. A phase's beacon is the
 * hash of its revealed shares: it is fixed only after the phase's last contribution, and no founder
 * knows it before committing, so the last contributor cannot steer the setup (a founder who withholds
 * its reveal can only stop the founding, not bias it).
 * The genesis is the agreed parameters, the joined institutions in order, and the transcript's hash as
 * its genesis microblock, so the genesis hash commits to the whole founding. `verifyFounding` re-derives
 * the genesis from a transcript; the SNARK files themselves are checked against the transcript by the
 * consortium command (scripts/consortium), which has the files.
 */
import { concatBytes, equalBytes, type Bytes } from './bytes.ts';
import { blsVerifyPossession } from './consensus/bls.ts';
import { decodeCanonical, encodeCanonical, type Canonical } from './encoding.ts';
import { ensure } from './errors.ts';
import {
	checkGenesis,
	genesisHash,
	genesisToCanonical,
	readGenesis,
	type GenesisConfig,
	type GenesisParameters
} from './genesis.ts';
import { HASH_LENGTH, sha256, taggedHash } from './hash.ts';
import {
	PUBLIC_KEY_LENGTH,
	readInstitution,
	SIGNATURE_LENGTH,
	sign,
	verifySignature,
	type Institution
} from './identity.ts';
import * as read from './schema.ts';

/** What the founders agree on besides themselves: every rule parameter of the genesis. */
export type FoundingParameters = GenesisParameters;

/** snarkjs contribution hashes are BLAKE2b-512. */
export const CONTRIBUTION_HASH_LENGTH = 64;
export const BEACON_SHARE_LENGTH = 32;
export const MAX_FOUNDERS = 256;

export type FoundingStep =
	| { kind: 'join'; institution: Institution }
	| { kind: 'contribute'; phase: 1 | 2; contribution: Bytes; beaconCommitment: Bytes }
	| { kind: 'reveal'; phase: 1 | 2; share: Bytes };

export interface SignedStep {
	step: FoundingStep;
	/** The founder's signing key (its institution id). */
	founder: Bytes;
	/** Hash of the previous signed step, or of the parameters for the first. */
	previous: Bytes;
	signature: Bytes;
}

export interface FoundingTranscript {
	parameters: FoundingParameters;
	steps: SignedStep[];
}

/** Where a founding stands after its steps: what may come next. */
export interface FoundingState {
	founders: Institution[];
	/** Contributors of each phase, in order, with their commitments and (once revealed) shares. */
	phases: Record<1 | 2, { founder: Bytes; contribution: Bytes; commitment: Bytes; share?: Bytes }[]>;
	/** The beacon of a phase, once every contributor of it revealed. */
	beacons: Partial<Record<1 | 2, Bytes>>;
	/** Hash of the last step (what the next one names). */
	head: Bytes;
}

const ZERO = new Uint8Array(HASH_LENGTH);

function parametersCanonical(p: FoundingParameters): Canonical {
	const full = genesisToCanonical({ ...p, institutions: [], genesisMicroblock: ZERO });
	delete full.institutions;
	delete full.genesisMicroblock;
	return full;
}

function readParameters(value: unknown): FoundingParameters {
	ensure(
		value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Uint8Array),
		'schema',
		'founding.parameters: expected a map'
	);
	const o = value as Record<string, unknown>;
	ensure(
		!('institutions' in o) && !('genesisMicroblock' in o),
		'schema',
		'founding.parameters: the institutions and genesis microblock come from the founding itself'
	);
	const g = readGenesis({ ...o, institutions: [], genesisMicroblock: ZERO }, 'founding.parameters');
	const { institutions: _i, genesisMicroblock: _m, ...parameters } = g;
	return parameters;
}

function stepCanonical(step: FoundingStep): Canonical {
	switch (step.kind) {
		case 'join':
			return { kind: 'join', institution: { ...step.institution } };
		case 'contribute':
			return {
				kind: 'contribute',
				phase: step.phase,
				contribution: step.contribution,
				beaconCommitment: step.beaconCommitment
			};
		case 'reveal':
			return { kind: 'reveal', phase: step.phase, share: step.share };
	}
}

function readStep(value: unknown, where: string): FoundingStep {
	const kind = read.oneOf((value as { kind?: unknown })?.kind, `${where}.kind`, [
		'join',
		'contribute',
		'reveal'
	]);
	const phaseOf = (v: unknown) => read.uint(v, `${where}.phase`, 2) as 1 | 2;
	if (kind === 'join') {
		const o = read.object(value, where, ['kind', 'institution']);
		return { kind, institution: readInstitution(o.institution, `${where}.institution`) };
	}
	if (kind === 'contribute') {
		const o = read.object(value, where, ['kind', 'phase', 'contribution', 'beaconCommitment']);
		const phase = phaseOf(o.phase);
		ensure(phase >= 1, 'founding', `${where}.phase must be 1 or 2`);
		return {
			kind,
			phase,
			contribution: read.bytes(o.contribution, `${where}.contribution`, CONTRIBUTION_HASH_LENGTH),
			beaconCommitment: read.bytes(o.beaconCommitment, `${where}.beaconCommitment`, HASH_LENGTH)
		};
	}
	const o = read.object(value, where, ['kind', 'phase', 'share']);
	const phase = phaseOf(o.phase);
	ensure(phase >= 1, 'founding', `${where}.phase must be 1 or 2`);
	return { kind, phase, share: read.bytes(o.share, `${where}.share`, BEACON_SHARE_LENGTH) };
}

/** The digest a founder signs: the step, who signs it and what it follows. */
function stepDigest(step: FoundingStep, founder: Bytes, previous: Bytes): Bytes {
	return taggedHash(
		'spchain/founding-step',
		encodeCanonical({ step: stepCanonical(step), founder, previous })
	);
}

function signedHash(s: SignedStep): Bytes {
	return taggedHash(
		'spchain/founding-signed-step',
		encodeCanonical({ digest: stepDigest(s.step, s.founder, s.previous), signature: s.signature })
	);
}

export function parametersHash(p: FoundingParameters): Bytes {
	return taggedHash('spchain/founding-parameters', encodeCanonical(parametersCanonical(p)));
}

/** A fresh transcript: the parameters the founders are asked to sign up to. */
export function startFounding(parameters: FoundingParameters): FoundingTranscript {
	return { parameters, steps: [] };
}

/** Appends one founder's step, signed with its signing key; refuses a step the rules would refuse. */
export function addStep(
	transcript: FoundingTranscript,
	step: FoundingStep,
	founder: Bytes,
	signingKey: Bytes
): FoundingTranscript {
	const state = copyState(foundingState(transcript));
	const signature = sign(signingKey, stepDigest(step, founder, state.head));
	const signed: SignedStep = { step, founder, previous: state.head, signature };
	applyStep(state, signed, transcript.steps.length);
	const next = { parameters: transcript.parameters, steps: [...transcript.steps, signed] };
	verified.set(next, state);
	return next;
}

/** A fresh beacon share and the commitment a contribute step carries. */
export function beaconShare(): { share: Bytes; commitment: Bytes } {
	const share = crypto.getRandomValues(new Uint8Array(BEACON_SHARE_LENGTH));
	return { share, commitment: sha256(share) };
}

function beaconOf(phase: 1 | 2, shares: Bytes[]): Bytes {
	return taggedHash(`spchain/founding-beacon/${phase}`, concatBytes(...shares));
}

/** Transcripts built by addStep, with their state: each step is checked once, not on every append. */
const verified = new WeakMap<FoundingTranscript, FoundingState>();

/**
 * Replays every rule over the transcript (chain of hashes, signatures, order of steps, commitments) and
 * says where it stands; the first broken rule throws a ValidationError naming the step.
 */
export function foundingState(transcript: FoundingTranscript): FoundingState {
	const known = verified.get(transcript);
	if (known) return known;
	const state: FoundingState = {
		founders: [],
		phases: { 1: [], 2: [] },
		beacons: {},
		head: parametersHash(transcript.parameters)
	};
	for (const [i, s] of transcript.steps.entries()) applyStep(state, s, i);
	verified.set(transcript, state);
	return state;
}

function copyState(state: FoundingState): FoundingState {
	return {
		founders: [...state.founders],
		phases: { 1: state.phases[1].map((c) => ({ ...c })), 2: state.phases[2].map((c) => ({ ...c })) },
		beacons: { ...state.beacons },
		head: state.head
	};
}

/** Checks step `i` against the state before it and advances the state; throws on a broken rule. */
function applyStep(state: FoundingState, s: SignedStep, i: number): void {
	const { founders, phases, beacons } = state;
	const where = `founding step ${i + 1} (${s.step.kind})`;
	ensure(equalBytes(s.previous, state.head), 'founding-chain', `${where} does not follow the step before it`);
	ensure(
		verifySignature(s.founder, stepDigest(s.step, s.founder, s.previous), s.signature),
		'founding-signature',
		`${where}: the signature is not the founder's`
	);
	const step = s.step;
	const name = founders.find((f) => equalBytes(f.id, s.founder))?.name;
	if (step.kind === 'join') {
		ensure(phases[1].length === 0, 'founding-order', `${where}: founders join before the first contribution`);
		ensure(equalBytes(step.institution.id, s.founder), 'founding-join', `${where}: joins under another key`);
		ensure(name === undefined, 'founding-join', `${where}: ${step.institution.name} joined already`);
		ensure(
			!founders.some((f) => f.name === step.institution.name),
			'founding-join',
			`${where}: another founder is already named ${step.institution.name}`
		);
		ensure(founders.length < MAX_FOUNDERS, 'founding-join', `${where}: more than ${MAX_FOUNDERS} founders`);
		let possession = false;
		try {
			possession = blsVerifyPossession(step.institution.blsKey, step.institution.blsPossession);
		} catch {
			possession = false;
		}
		ensure(
			possession,
			'founding-bls',
			`${where}: ${step.institution.name}'s BLS key has no valid proof of possession`
		);
		founders.push(step.institution);
	} else if (step.kind === 'contribute') {
		ensure(name !== undefined, 'founding-order', `${where}: signed by a key that has not joined`);
		const phase = phases[step.phase];
		ensure(
			step.phase === 1 || beacons[1] !== undefined,
			'founding-order',
			`${where}: phase 2 opens only after phase 1's beacon`
		);
		ensure(!phase.some((c) => c.share), 'founding-order', `${where}: phase ${step.phase} is closed`);
		ensure(
			!phase.some((c) => equalBytes(c.founder, s.founder)),
			'founding-order',
			`${where}: ${name} already contributed to phase ${step.phase}`
		);
		phase.push({ founder: s.founder, contribution: step.contribution, commitment: step.beaconCommitment });
	} else {
		ensure(name !== undefined, 'founding-order', `${where}: signed by a key that has not joined`);
		const phase = phases[step.phase];
		const own = phase.find((c) => equalBytes(c.founder, s.founder));
		ensure(own, 'founding-order', `${where}: ${name} did not contribute to phase ${step.phase}`);
		ensure(!own.share, 'founding-order', `${where}: ${name} already revealed`);
		ensure(
			equalBytes(sha256(step.share), own.commitment),
			'founding-beacon',
			`${where}: ${name}'s share does not match its commitment`
		);
		own.share = step.share;
		const shares = phase.map((c) => c.share);
		if (shares.every((share) => share !== undefined)) beacons[step.phase] = beaconOf(step.phase, shares);
	}
	state.head = signedHash(s);
}

/** The transcript's hash: the genesis microblock of the chain it founds. */
export function transcriptHash(transcript: FoundingTranscript): Bytes {
	return taggedHash('spchain/founding-transcript', foundingState(transcript).head);
}

/**
 * The genesis a finished founding yields. A founding either left the SNARK setup out (the genesis then
 * pins the published verification key its parameters name) or closed both phases; then the genesis pins
 * the key the setup produced, `setupVkeyHash`, which only the SNARK files give (node/founding-setup.ts
 * exports it and `consortium verify --full` re-derives it from them).
 */
export function foundedGenesis(transcript: FoundingTranscript, setupVkeyHash?: Bytes): GenesisConfig {
	const state = foundingState(transcript);
	ensure(state.founders.length > 0, 'founding-unfinished', 'no founder has joined');
	const started = state.phases[1].length > 0;
	ensure(
		!started || (state.beacons[1] !== undefined && state.beacons[2] !== undefined),
		'founding-unfinished',
		'the SNARK setup is under way: both phases must be contributed to and revealed'
	);
	ensure(
		!started || setupVkeyHash?.length === HASH_LENGTH,
		'founding-unfinished',
		'the founders ran the SNARK setup: the genesis needs the hash of the verification key it produced'
	);
	const genesis: GenesisConfig = {
		...transcript.parameters,
		...(started ? { chameleonVkeyHash: setupVkeyHash! } : {}),
		institutions: state.founders,
		genesisMicroblock: transcriptHash(transcript)
	};
	checkGenesis(genesis);
	return genesis;
}

/** Whether the founders ran the SNARK setup themselves (else the genesis pins a published one). */
export function foundersRanSetup(transcript: FoundingTranscript): boolean {
	return foundingState(transcript).phases[1].length > 0;
}

/**
 * Checks that `genesis` is exactly what `transcript` founds (every signature and proof replayed). The
 * verification key of a setup the founders ran is taken from the genesis: only the SNARK files can
 * confirm it (node/genesis-verify.ts).
 */
export function verifyFounding(genesis: GenesisConfig, transcript: FoundingTranscript): void {
	const founded = foundedGenesis(
		transcript,
		foundersRanSetup(transcript) ? genesis.chameleonVkeyHash : undefined
	);
	ensure(
		equalBytes(genesisHash(founded), genesisHash(genesis)),
		'founding-genesis',
		'the genesis is not the one its founding transcript yields'
	);
}

export function encodeFounding(t: FoundingTranscript): Bytes {
	return encodeCanonical({
		parameters: parametersCanonical(t.parameters),
		steps: t.steps.map((s) => ({
			step: stepCanonical(s.step),
			founder: s.founder,
			previous: s.previous,
			signature: s.signature
		}))
	});
}

export function decodeFounding(bytes: Bytes): FoundingTranscript {
	const o = read.object(decodeCanonical(bytes, 4 * 1024 * 1024), 'founding', ['parameters', 'steps']);
	return {
		parameters: readParameters(o.parameters),
		steps: read.array(o.steps, 'founding.steps', 4 * MAX_FOUNDERS, (value, where) => {
			const s = read.object(value, where, ['step', 'founder', 'previous', 'signature']);
			return {
				step: readStep(s.step, `${where}.step`),
				founder: read.bytes(s.founder, `${where}.founder`, PUBLIC_KEY_LENGTH),
				previous: read.bytes(s.previous, `${where}.previous`, HASH_LENGTH),
				signature: read.bytes(s.signature, `${where}.signature`, SIGNATURE_LENGTH)
			};
		})
	};
}
