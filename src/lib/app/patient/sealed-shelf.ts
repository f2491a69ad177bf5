/**
 * What the patient's device keeps at rest beside its keys (copies of records it opened, the access logs it
 * verified): each value sealed with AES-256-GCM under a key derived from the master key K_P and the value's
 * id, the id bound as associated data, so nothing the device keeps is plaintext and a value moved under
 * another id does not open. One shelf per kind of value (its key prefix and derivation label).
 */
import { bytesToHex, concatBytes, type Bytes } from '../../core/bytes.ts';
import { aesGcmDecrypt, aesGcmEncrypt, deriveKey, IV_LENGTH, randomIv } from '../../records/aead.ts';
import type { Store } from '../../store/store.ts';

export class SealedShelf {
	constructor(
		private readonly store: Store,
		private readonly masterKey: Bytes,
		/** Meta key prefix, e.g. `cache:`. */
		private readonly prefix: string,
		/** HKDF label, e.g. `spchain/patient-cache/v1`. */
		private readonly label: string
	) {}

	private key(id: Bytes): Bytes {
		return deriveKey(this.masterKey, id, this.label);
	}

	async put(id: Bytes, plain: Bytes): Promise<void> {
		const iv = randomIv();
		const sealed = await aesGcmEncrypt(this.key(id), iv, plain, id);
		await this.store.write([
			{ table: 'meta', key: `${this.prefix}${bytesToHex(id)}`, value: concatBytes(iv, sealed) }
		]);
	}

	/** The value kept under `id`, or undefined when there is none or it no longer opens (damaged). */
	async get(id: Bytes): Promise<Bytes | undefined> {
		const value = await this.store.get('meta', `${this.prefix}${bytesToHex(id)}`);
		if (!value) return undefined;
		try {
			return await aesGcmDecrypt(
				this.key(id),
				value.subarray(0, IV_LENGTH),
				value.subarray(IV_LENGTH),
				id,
				'cache',
				'the copy kept on this device does not open'
			);
		} catch {
			return undefined; // the caller fetches it again from where it came from
		}
	}
}
