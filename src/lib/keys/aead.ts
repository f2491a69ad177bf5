/**
 * AES-256-GCM through WebCrypto (the same `crypto.subtle` in browsers and Node 20), with a fresh
 * random 96-bit nonce per message and the caller's associated data binding each ciphertext to where
 * it belongs (a vault row's name, a backup's header), so ciphertexts cannot be swapped around.
 */
export const IV_BYTES = 12;

export interface Sealed {
	iv: Uint8Array;
	data: Uint8Array;
}

const utf8 = new TextEncoder();
/** Associated data from a label (e.g. `spchain-vault-v1/secret/<name>`). */
export const label = (text: string): Uint8Array<ArrayBuffer> => utf8.encode(text);

/** Encrypts under a fresh random nonce (or `iv`, when a format must name the nonce first). */
export async function seal(
	key: CryptoKey,
	plaintext: Uint8Array,
	aad: Uint8Array,
	iv: Uint8Array = crypto.getRandomValues(new Uint8Array(IV_BYTES))
): Promise<Sealed> {
	const data = await crypto.subtle.encrypt(
		{ name: 'AES-GCM', iv: buffer(iv), additionalData: buffer(aad) },
		key,
		buffer(plaintext)
	);
	return { iv, data: new Uint8Array(data) };
}

/** Decrypts; throws (an OperationError) when the key, data or associated data do not match. */
export async function open(key: CryptoKey, sealed: Sealed, aad: Uint8Array): Promise<Uint8Array> {
	const data = await crypto.subtle.decrypt(
		{ name: 'AES-GCM', iv: buffer(sealed.iv), additionalData: buffer(aad) },
		key,
		buffer(sealed.data)
	);
	return new Uint8Array(data);
}

/** WebCrypto's types want ArrayBuffer-backed views; copies only when given something else. */
export function buffer(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
	return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : new Uint8Array(bytes);
}
