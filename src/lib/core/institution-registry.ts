/**
 * The consortium as the chain makes it: the genesis founders, then each institution admitted by a
 * registry fact (registry-facts.ts), in admission order, with the history of its signing keys. Every
 * question "is this an institution, and with which keys?" is answered here, for a given keyblock height:
 *
 * - `members(h)`: the institutions in force for keyblock h, in index order. A fact carried by keyblock h
 *   (pinned with it) is in force from keyblock h + 1: the institution may mine keyblock h + 1, and the
 *   patient blocks created from then on give it a leaf (a leaf's index is its admission order, so
 *   patient blocks created earlier keep their leaves and hashes).
 * - `signingKeyAt(id, h)`: the signing key in force for keyblock h. The id (first signing key) never
 *   changes; after a rotation in keyblock h, keyblocks from h + 1 must be signed with the new key, and
 *   everything signed before still verifies with the key of its height.
 *
 * The registry is derived state: the ledger rebuilds it from the keyblocks it applies or restores.
 */
import { bytesToHex, equalBytes, type Bytes } from './bytes.ts';
import type { ConsensusGroup } from './consensus/group.ts';
import { ensure, ValidationError } from './errors.ts';
import type { GenesisConfig } from './genesis.ts';
import { publicKeyOf, type Institution, type PublicKey } from './identity.ts';
import { verifyApproval } from './registry-approval.ts';
import {
	checkApplication,
	checkRotation,
	registryFactHash,
	type RegistryFact,
	type Rotation
} from './registry-facts.ts';

export interface SigningKeyPeriod {
	key: PublicKey;
	/** First keyblock height this key signs for. */
	from: number;
}

export interface RegisteredInstitution extends Institution {
	/** Position in the consortium (genesis order, then admission order); the index of its leaves. */
	index: number;
	/** Keyblock that carried its admission (0: genesis); it is in force from the next one. */
	admittedAt: number;
	/** Its signing keys, oldest first. */
	keys: SigningKeyPeriod[];
}

/** Which group may approve facts carried by keyblock `height`: its own epoch's or the previous epoch's. */
export interface ApprovingGroups {
	epochOf(height: number): number;
	groupOfEpoch(epoch: number): ConsensusGroup | undefined;
}

export class InstitutionRegistry {
	readonly #all: RegisteredInstitution[] = [];
	readonly #byId = new Map<string, RegisteredInstitution>();
	/** Every signing key and BLS key ever registered, so none is registered twice. */
	readonly #signingKeys = new Map<string, RegisteredInstitution>();
	readonly #blsKeys = new Set<string>();
	/** The facts applied, with the height of the keyblock that carried each (light clients are sent them). */
	readonly #facts: { height: number; fact: RegistryFact }[] = [];

	constructor(
		readonly network: Bytes,
		founders: readonly Institution[]
	) {
		for (const founder of founders) this.#add(founder, 0);
	}

	static ofGenesis(genesis: GenesisConfig, genesisHash: Bytes): InstitutionRegistry {
		return new InstitutionRegistry(genesisHash, genesis.institutions);
	}

	/** A copy to stage a keyblock's facts on before they are known to hold. */
	clone(): InstitutionRegistry {
		const copy = new InstitutionRegistry(this.network, []);
		for (const i of this.#all) {
			copy.#add(i, i.admittedAt);
			const added = copy.#all.at(-1)!;
			for (const period of i.keys.slice(1)) copy.#setKey(added, period);
		}
		return copy;
	}

	/** Every institution ever admitted, in index order. */
	get all(): readonly RegisteredInstitution[] {
		return this.#all;
	}

	/** The institutions in force for keyblock `height`, in index order. */
	members(height: number): RegisteredInstitution[] {
		return this.#all.filter((i) => i.admittedAt < height);
	}

	byId(id: Bytes): RegisteredInstitution | undefined {
		return this.#byId.get(bytesToHex(id));
	}

	/** The institution `id` if it is in force for keyblock `height`. */
	memberAt(id: Bytes, height: number): RegisteredInstitution | undefined {
		const found = this.byId(id);
		return found && found.admittedAt < height ? found : undefined;
	}

	/** The signing key of `id` in force for keyblock `height` (undefined: not admitted by then). */
	signingKeyAt(id: Bytes, height: number): PublicKey | undefined {
		const found = this.memberAt(id, height);
		return found?.keys.findLast((k) => k.from <= height)?.key;
	}

	/**
	 * Of the signing secrets institution `id` holds (its first one, then rotated ones), the one whose key
	 * is in force for keyblock `height`; its first secret while it is not a member yet (it applies with
	 * it). Throws when it holds none of them: signing with another would only make refused signatures.
	 */
	secretInForce(id: PublicKey, secrets: readonly Bytes[], height: number): Bytes {
		const key = this.signingKeyAt(id, height);
		if (key === undefined) return secrets[0]!;
		const held = secrets.find((secret) => equalBytes(publicKeyOf(secret), key));
		if (held === undefined)
			throw new Error(
				`the signing key in force for keyblock ${height} is not among the keys this node holds (restore the key backup made after the rotation)`
			);
		return held;
	}

	/** The institution whose signing key for keyblock `height` is `key` (a miner, a signer). */
	signerAt(key: PublicKey, height: number): RegisteredInstitution | undefined {
		const found = this.#signingKeys.get(bytesToHex(key));
		if (!found) return undefined;
		const inForce = this.signingKeyAt(found.id, height);
		return inForce && equalBytes(inForce, key) ? found : undefined;
	}

	/**
	 * The institution that may sign keyblock `height` with `key`, or a ValidationError with `code` that
	 * says why not: no institution holds the key (never admitted, or not yet), it is admitted only from a
	 * later keyblock, or a rotation replaced the key.
	 */
	assertSigner(key: PublicKey, height: number, code: 'keyblock-miner'): RegisteredInstitution {
		const known = this.#signingKeys.get(bytesToHex(key));
		ensure(
			known !== undefined,
			code,
			`keyblock ${height} was mined by a key that no admitted institution of this consortium holds`
		);
		ensure(
			known.admittedAt < height,
			code,
			`${known.name} is admitted from keyblock ${known.admittedAt + 1}, not yet at keyblock ${height}`
		);
		const signer = this.signerAt(key, height);
		ensure(
			signer !== undefined,
			code,
			`${known.name} signed keyblock ${height} with a signing key it has rotated away from`
		);
		return signer;
	}

	/**
	 * Checks the registry facts a keyblock at `height` carries, in order, each against the registry as
	 * the ones before it leave it, and applies them here. Throws (and changes nothing a caller keeps:
	 * call it on a clone) if any fact does not hold.
	 */
	applyFacts(facts: readonly RegistryFact[], height: number, groups: ApprovingGroups | undefined): void {
		for (const fact of facts) {
			ensure(
				groups !== undefined,
				'registry-group',
				'this node cannot check registry approvals (no consensus groups known)'
			);
			this.#checkApproval(fact, height, groups);
			this.#apply(fact, height);
		}
	}

	/** Re-applies facts of a keyblock this node checked before (a restart replaying its own journal). */
	restoreFacts(facts: readonly RegistryFact[], height: number): void {
		for (const fact of facts) this.#apply(fact, height);
	}

	#apply(fact: RegistryFact, height: number): void {
		if (fact.type === 'admit') this.#admit(fact.application.institution, height);
		else this.#rotate(fact, height);
		this.#facts.push({ height, fact });
	}

	/** Every fact applied so far, in chain order, with the height of the keyblock that carried it. */
	get facts(): readonly { height: number; fact: RegistryFact }[] {
		return this.#facts;
	}

	#checkApproval(fact: RegistryFact, height: number, groups: ApprovingGroups): void {
		const epoch = groups.epochOf(height);
		const { approval } = fact;
		ensure(
			approval.epoch === epoch || approval.epoch + 1 === epoch,
			'approval-epoch',
			`keyblock ${height} belongs to epoch ${epoch}; an approval of epoch ${approval.epoch} is too old or too new`
		);
		const group = groups.groupOfEpoch(approval.epoch);
		ensure(group !== undefined, 'approval-epoch', `the group of epoch ${approval.epoch} is not known`);
		if (fact.type === 'admit') checkApplication(fact.application, this.network);
		else checkRotation(fact.rotation, this.network);
		verifyApproval(approval, group, registryFactHash(fact));
	}

	#admit(institution: Institution, height: number): void {
		ensure(
			!this.#byId.has(bytesToHex(institution.id)),
			'admission-known',
			`${institution.name} is already an institution of this consortium`
		);
		ensure(
			!this.#signingKeys.has(bytesToHex(institution.id)) &&
				!this.#blsKeys.has(bytesToHex(institution.blsKey)),
			'admission-key-reused',
			`${institution.name} applies with a key another institution holds or held; make new keys`
		);
		this.#add(institution, height);
	}

	#rotate(fact: Extract<RegistryFact, { type: 'rotate' }>, height: number): void {
		const { rotation } = fact;
		const institution = this.byId(rotation.institution);
		if (!institution || institution.admittedAt >= height)
			throw new ValidationError(
				'unknown-institution',
				'the key rotation is for an institution that is not admitted'
			);
		checkNextRotation(rotation, institution);
		ensure(
			!this.#signingKeys.has(bytesToHex(rotation.nextKey)),
			'admission-key-reused',
			'the new signing key is or was already registered'
		);
		this.#setKey(institution, { key: rotation.nextKey, from: height + 1 });
	}

	#add(institution: Institution, admittedAt: number): void {
		const registered: RegisteredInstitution = {
			id: institution.id,
			name: institution.name,
			blsKey: institution.blsKey,
			blsPossession: institution.blsPossession,
			chameleonKey: institution.chameleonKey,
			index: this.#all.length,
			admittedAt,
			keys: [{ key: institution.id, from: admittedAt + 1 }]
		};
		this.#all.push(registered);
		this.#byId.set(bytesToHex(institution.id), registered);
		this.#signingKeys.set(bytesToHex(institution.id), registered);
		this.#blsKeys.add(bytesToHex(institution.blsKey));
	}

	#setKey(institution: RegisteredInstitution, period: SigningKeyPeriod): void {
		institution.keys.push(period);
		this.#signingKeys.set(bytesToHex(period.key), institution);
	}
}

/** Whether `rotation` is `institution`'s next one: the following sequence, replacing the key in force. */
export function checkNextRotation(rotation: Rotation, institution: RegisteredInstitution): void {
	ensure(
		rotation.sequence === institution.keys.length,
		'rotation-sequence',
		`${institution.name} has rotated ${institution.keys.length - 1} times; this is rotation ${rotation.sequence}`
	);
	ensure(
		equalBytes(rotation.previousKey, institution.keys.at(-1)!.key),
		'rotation-key',
		`the rotation replaces a key that is not ${institution.name}'s signing key in force`
	);
}
