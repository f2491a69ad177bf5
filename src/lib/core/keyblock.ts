/**
 * Keyblocks (paper §5.1.2, Figs. 4 and 6). A keyblock opens round r: it is mined by proof of work,
 * packs the round's register transactions, and orders the patient blocks created in that round.
 *
 * Mining puzzle (exactly the paper's): SHA-256d(prev_keyblock_hash || penu_microblock_hash || Nonce || PK)
 * < target, where penu_microblock_hash is the hash of the last microblock of the penultimate round, so a
 * keyblock's work also covers the patient blocks two rounds back (see pow.ts for the byte layout).
 *
 * The puzzle does not cover the rest of the header (timestamp, target, register root), so the miner
 * signs the header hash with the key PK it mined under: only the solver of the puzzle can attach contents
 * to it, and two different signed headers with one solution are evidence of equivocation.
 *
 * The keyblock hash (what the next keyblock links to) is the tagged hash of the whole header. The pin
 * certificate of the consensus group is attached after the fact and so is not part of the hash.
 */
import { bytesToBigInt, bytesToHex, equalBytes, u64be, type Bytes } from './bytes.ts';
import { decodeCanonical, encodeCanonical, type Canonical, type CanonicalDecoder } from './encoding.ts';
import { ensure } from './errors.ts';
import { HASH_LENGTH, taggedHash } from './hash.ts';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH, sign, verifySignature, type PublicKey } from './identity.ts';
import { merkleRoot } from './merkle.ts';
import { meetsTarget, powHash } from './pow.ts';
import {
	MAX_REGISTRY_FACTS,
	readRegistryFact,
	registryFactToCanonical,
	registryRoot,
	type RegistryFact
} from './registry-facts.ts';
import * as read from './schema.ts';
import {
	checkTransaction,
	readTransaction,
	transactionId,
	transactionToCanonical,
	type FeeSchedule,
	type RegisterBody,
	type Transaction
} from './transaction.ts';

export const NONCE_LENGTH = 8;
export const TARGET_LENGTH = 32;
/** Bound on an encoded pin certificate (BLS aggregate + bitmap); decoded by pinning.ts. */
export const MAX_PIN_BYTES = 4096;

export interface KeyblockHeader {
	height: number;
	/** prev_keyblock_hash (keyblock 1 links to the genesis hash). */
	prev: Bytes;
	/** penu_microblock_hash: the microblock tip at the end of round height − 2. */
	penu: Bytes;
	nonce: bigint;
	/** PK: the miner's institution id. */
	miner: PublicKey;
	target: Bytes;
	/** Unix milliseconds. */
	timestamp: number;
	/** Merkle root of the register transaction ids, in packing order. */
	registersRoot: Bytes;
	/** Merkle root of the registry facts (admissions, key rotations), present only when there are some. */
	registryRoot?: Bytes;
}

export interface Keyblock {
	header: KeyblockHeader;
	registers: Transaction<RegisterBody>[];
	/** Admissions and key rotations the group approved (registry-facts.ts), in force from the next keyblock. */
	registry?: RegistryFact[];
	/** The miner's signature over the header hash. */
	signature: Bytes;
	/** The consensus group's pin certificate, once pinned (opaque here; see pinning.ts). */
	pin?: Bytes;
}

export function headerToCanonical(h: KeyblockHeader): { [key: string]: Canonical } {
	const { registryRoot, ...fields } = h;
	// A header without registry facts encodes (and hashes) exactly as before the field existed.
	return registryRoot
		? { ...fields, nonce: u64be(h.nonce), registryRoot }
		: { ...fields, nonce: u64be(h.nonce) };
}

export function keyblockHash(header: KeyblockHeader): Bytes {
	return taggedHash('spchain/keyblock', encodeCanonical(headerToCanonical(header)));
}

export function registersRoot(registers: readonly Transaction[]): Bytes {
	return merkleRoot(registers.map((tx) => transactionId(tx.body)));
}

export function keyblockToCanonical(block: Keyblock): { [key: string]: Canonical } {
	const out: { [key: string]: Canonical } = {
		header: headerToCanonical(block.header),
		registers: block.registers.map(transactionToCanonical),
		signature: block.signature
	};
	if (block.registry?.length) out.registry = block.registry.map(registryFactToCanonical);
	if (block.pin) out.pin = block.pin;
	return out;
}

export function encodeKeyblock(block: Keyblock): Bytes {
	return encodeCanonical(keyblockToCanonical(block));
}

const HEADER_FIELDS = [
	'height',
	'prev',
	'penu',
	'nonce',
	'miner',
	'target',
	'timestamp',
	'registersRoot'
] as const;

export function readKeyblockHeader(value: unknown, where = 'keyblock.header'): KeyblockHeader {
	const o = read.object(value, where, HEADER_FIELDS, ['registryRoot']);
	const header: KeyblockHeader = {
		height: read.uint(o.height, `${where}.height`, 2 ** 32 - 1),
		prev: read.bytes(o.prev, `${where}.prev`, HASH_LENGTH),
		penu: read.bytes(o.penu, `${where}.penu`, HASH_LENGTH),
		nonce: bytesToBigInt(read.bytes(o.nonce, `${where}.nonce`, NONCE_LENGTH)),
		miner: read.bytes(o.miner, `${where}.miner`, PUBLIC_KEY_LENGTH),
		target: read.bytes(o.target, `${where}.target`, TARGET_LENGTH),
		timestamp: read.uint(o.timestamp, `${where}.timestamp`),
		registersRoot: read.bytes(o.registersRoot, `${where}.registersRoot`, HASH_LENGTH)
	};
	if (o.registryRoot !== undefined)
		header.registryRoot = read.bytes(o.registryRoot, `${where}.registryRoot`, HASH_LENGTH);
	return header;
}

/**
 * Decodes untrusted bytes into a structurally valid keyblock; `maxRegisters` bounds the list. `decode`:
 * decodeVerifiedCanonical only for bytes from the node's own verified journal.
 */
export function decodeKeyblock(
	bytes: Bytes,
	maxRegisters: number,
	maxBytes = 8 * 1024 * 1024,
	decode: CanonicalDecoder = decodeCanonical
): Keyblock {
	const o = read.object(
		decode(bytes, maxBytes),
		'keyblock',
		['header', 'registers', 'signature'],
		['registry', 'pin']
	);
	const block: Keyblock = {
		header: readKeyblockHeader(o.header),
		registers: read.array(o.registers, 'keyblock.registers', maxRegisters, (v, where) => {
			const tx = readTransaction(v, where);
			ensure(
				tx.body.kind === 'register',
				'keyblock-register',
				`${where} is a ${tx.body.kind} transaction, not a register`
			);
			return tx as Transaction<RegisterBody>;
		}),
		signature: read.bytes(o.signature, 'keyblock.signature', SIGNATURE_LENGTH)
	};
	if (o.registry !== undefined)
		block.registry = read.array(o.registry, 'keyblock.registry', MAX_REGISTRY_FACTS, readRegistryFact);
	if (o.pin !== undefined) block.pin = read.bytes(o.pin, 'keyblock.pin', { min: 1, max: MAX_PIN_BYTES });
	return block;
}

/** Builds the signed keyblock once a nonce meeting the target has been found. */
export function sealKeyblock(
	header: KeyblockHeader,
	registers: Transaction<RegisterBody>[],
	minerSecretKey: Bytes,
	registry: RegistryFact[] = []
): Keyblock {
	const block: Keyblock = { header, registers, signature: sign(minerSecretKey, keyblockHash(header)) };
	if (registry.length > 0) block.registry = registry;
	return block;
}

/**
 * Rules that need only the keyblock itself: proof of work against its own target, the miner's signature,
 * the register root, and each register transaction's signature and fee. Chain context (linkage, expected
 * target, timestamps, membership, duplicates across blocks) is checked by chain.ts.
 */
export function checkKeyblock(block: Keyblock, fees: FeeSchedule, maxRegisters: number): void {
	const { header } = block;
	ensure(header.height >= 1, 'keyblock-height', 'keyblock height must be at least 1 (0 is genesis)');
	ensure(
		meetsTarget(powHash(header.prev, header.penu, header.nonce, header.miner), header.target),
		'keyblock-pow',
		`keyblock ${header.height}: the nonce does not meet the target`
	);
	ensure(
		verifySignature(header.miner, keyblockHash(header), block.signature),
		'keyblock-signature',
		`keyblock ${header.height}: the miner's signature is not valid`
	);
	ensure(
		block.registers.length <= maxRegisters,
		'keyblock-size',
		`keyblock ${header.height} packs too many register transactions`
	);
	ensure(
		equalBytes(registersRoot(block.registers), header.registersRoot),
		'keyblock-root',
		`keyblock ${header.height}: the register root does not match its transactions`
	);
	const registry = block.registry ?? [];
	ensure(
		registry.length <= MAX_REGISTRY_FACTS &&
			(registry.length === 0
				? header.registryRoot === undefined
				: header.registryRoot !== undefined && equalBytes(registryRoot(registry), header.registryRoot)),
		'keyblock-registry',
		`keyblock ${header.height}: the registry root does not match its admissions and key rotations`
	);
	const patients = new Set<string>();
	for (const tx of block.registers) {
		ensure(tx.body.kind === 'register', 'keyblock-register', 'a keyblock packs only register transactions');
		checkTransaction(tx, fees);
		const patient = bytesToHex(tx.body.patient);
		ensure(!patients.has(patient), 'register-duplicate', 'a keyblock registers the same patient twice');
		patients.add(patient);
	}
}
