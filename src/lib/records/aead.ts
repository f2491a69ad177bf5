/**
 * The symmetric and public-key primitives of the record layer, in one place:
 * - AES-256-GCM (keys/aead.ts, the one WebCrypto AES-GCM of the code base) under raw 32-byte keys, with
 *   12-byte random IVs; every key here encrypts one record or one message, so IVs never repeat under
 *   a key in practice (a fresh key per record, not a long-lived key);
 * - HKDF-SHA256 (@noble/hashes) for every derived key, each with its own info label;
 * - a sealed box to an SPChain identity: ECDH on secp256k1 between a fresh ephemeral key and the
 *   recipient's BIP-340 public key (the x-only key is lifted to its even-y point; only the shared point's
 *   x-coordinate is used, so the recipient's key parity does not matter), HKDF, AES-GCM. Only the holder
 *   of the recipient's secret key opens it; the sender keeps nothing. The associated data binds each box
 *   to its use (consent id, record, request), so a box cannot be replayed in another context.
 *
 * Reusing the signing key for ECDH is what Nostr's NIP-44 does with the same curve; it avoids publishing
 * a second key per institution in genesis (docs/privacy.md discusses the trade-off).
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { randomBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { concatBytes, type Bytes } from '../core/bytes.ts';
import { ValidationError, type ValidationCode } from '../core/errors.ts';
import { isValidPublicKey, type PublicKey } from '../core/identity.ts';
import * as read from '../core/schema.ts';
import { buffer, open, seal } from '../keys/aead.ts';

export const KEY_LENGTH = 32;
export const IV_LENGTH = 12;
export const TAG_LENGTH = 16;
export const EPHEMERAL_KEY_LENGTH = 33;

/** HKDF-SHA256 to a 32-byte key; `label` names the purpose (domain separation). */
export function deriveKey(ikm: Bytes, salt: Bytes, label: string, ...context: Bytes[]): Bytes {
	return hkdf(sha256, ikm, salt, concatBytes(utf8ToBytes(label), ...context), KEY_LENGTH);
}

export function randomIv(): Bytes {
	return randomBytes(IV_LENGTH);
}

async function importKey(key: Bytes, usage: 'encrypt' | 'decrypt'): Promise<CryptoKey> {
	if (key.length !== KEY_LENGTH) throw new ValidationError('aead-key', `expected a ${KEY_LENGTH}-byte key`);
	// Browsers withhold WebCrypto outside secure contexts (a plain-http page on a LAN address).
	if (!globalThis.crypto?.subtle)
		throw new ValidationError(
			'aead-unavailable',
			'this page cannot encrypt: open SPChain over https (or on localhost) so the browser enables its encryption'
		);
	return crypto.subtle.importKey('raw', buffer(key), { name: 'AES-GCM' }, false, [usage]);
}

export async function aesGcmEncrypt(key: Bytes, iv: Bytes, plaintext: Bytes, aad: Bytes): Promise<Bytes> {
	return (await seal(await importKey(key, 'encrypt'), plaintext, aad, iv)).data;
}

/** Decrypts and authenticates; any failure (wrong key, tampered bytes or associated data) throws `code`. */
export async function aesGcmDecrypt(
	key: Bytes,
	iv: Bytes,
	ciphertext: Bytes,
	aad: Bytes,
	code: ValidationCode,
	message: string
): Promise<Bytes> {
	const k = await importKey(key, 'decrypt');
	try {
		return await open(k, { iv, data: ciphertext }, aad);
	} catch {
		throw new ValidationError(code, message);
	}
}

// ---------------------------------------------------------------- sealed box to an identity

export interface Box {
	/** Compressed secp256k1 point of the sender's one-time key. */
	ephemeral: Bytes;
	iv: Bytes;
	ciphertext: Bytes;
}

function boxKey(shared: Bytes, ephemeral: Bytes, recipient: PublicKey, purpose: string): Bytes {
	// The shared point's x-coordinate (bytes 1..33 of its compressed form) is the same for d·E and e·P.
	return deriveKey(
		shared.subarray(1),
		sha256(concatBytes(ephemeral, recipient)),
		`spchain/box/v1/${purpose}`
	);
}

/** Encrypts `plaintext` to the holder of `recipient`'s secret key (a BIP-340 x-only public key). */
export async function sealTo(
	recipient: PublicKey,
	plaintext: Bytes,
	purpose: string,
	aad: Bytes
): Promise<Box> {
	if (!isValidPublicKey(recipient))
		throw new ValidationError('box-recipient', 'the recipient key is not valid');
	const ephemeralSecret = secp256k1.utils.randomSecretKey();
	const ephemeral = secp256k1.getPublicKey(ephemeralSecret, true);
	const shared = secp256k1.getSharedSecret(ephemeralSecret, concatBytes(Uint8Array.of(2), recipient), true);
	const iv = randomIv();
	const ciphertext = await aesGcmEncrypt(boxKey(shared, ephemeral, recipient, purpose), iv, plaintext, aad);
	return { ephemeral, iv, ciphertext };
}

/** Opens a box with the recipient's secret key, or throws ValidationError 'box-open'. */
export async function openBox(
	box: Box,
	recipientSecretKey: Bytes,
	recipient: PublicKey,
	purpose: string,
	aad: Bytes
): Promise<Bytes> {
	let shared: Bytes;
	try {
		shared = secp256k1.getSharedSecret(recipientSecretKey, box.ephemeral, true);
	} catch {
		throw new ValidationError('box-open', 'the sealed message carries an invalid one-time key');
	}
	return aesGcmDecrypt(
		boxKey(shared, box.ephemeral, recipient, purpose),
		box.iv,
		box.ciphertext,
		aad,
		'box-open',
		'this message was not sealed for this key, or it was altered'
	);
}

export function boxToCanonical(box: Box): { ephemeral: Bytes; iv: Bytes; ciphertext: Bytes } {
	return { ephemeral: box.ephemeral, iv: box.iv, ciphertext: box.ciphertext };
}

export function readBox(value: unknown, where: string, maxCiphertext: number): Box {
	const o = read.object(value, where, ['ephemeral', 'iv', 'ciphertext']);
	return {
		ephemeral: read.bytes(o.ephemeral, `${where}.ephemeral`, EPHEMERAL_KEY_LENGTH),
		iv: read.bytes(o.iv, `${where}.iv`, IV_LENGTH),
		ciphertext: read.bytes(o.ciphertext, `${where}.ciphertext`, { min: TAG_LENGTH, max: maxCiphertext })
	};
}
