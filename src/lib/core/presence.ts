/**
 * Presence: "the holder of key K is reachable at network peer P", signed with K (BIP-340). Patients and
 * clinics address each other by their chain identities; the network only knows peer ids. A presence
 * binds the two so a peer cannot pose as a patient (to receive a signing request) or as a clinic (to
 * receive a shared record): it would need the identity's private key.
 */
import type { Bytes } from './bytes.ts';
import { decodeCanonical, encodeCanonical } from './encoding.ts';
import { ensure } from './errors.ts';
import { taggedHash } from './hash.ts';
import {
	PUBLIC_KEY_LENGTH,
	SIGNATURE_LENGTH,
	sign,
	verifySignature,
	type PublicKey,
	type Role
} from './identity.ts';
import * as read from './schema.ts';

/** A presence older than this is stale (peers re-announce on every connection). */
export const PRESENCE_MAX_AGE_MS = 24 * 60 * 60 * 1000;
const MAX_PEER_ID_LENGTH = 128;

export interface Presence {
	role: Role;
	publicKey: PublicKey;
	peerId: string;
	issuedAt: number;
	signature: Bytes;
}

function digest(p: Omit<Presence, 'signature'>): Bytes {
	return taggedHash(
		'spchain/presence',
		encodeCanonical({ role: p.role, publicKey: p.publicKey, peerId: p.peerId, issuedAt: p.issuedAt })
	);
}

export function createPresence(
	role: Role,
	secretKey: Bytes,
	publicKey: PublicKey,
	peerId: string,
	now: number
): Presence {
	const unsigned = { role, publicKey, peerId, issuedAt: now };
	return { ...unsigned, signature: sign(secretKey, digest(unsigned)) };
}

export function encodePresences(presences: readonly Presence[]): Bytes {
	return encodeCanonical(presences.map((p) => ({ ...p })));
}

export function decodePresences(bytes: Bytes): Presence[] {
	return read.array(decodeCanonical(bytes, 4096), 'presences', 8, (value, where) => {
		const o = read.object(value, where, ['role', 'publicKey', 'peerId', 'issuedAt', 'signature']);
		return {
			role: read.oneOf(o.role, `${where}.role`, ['patient', 'institution'] as const),
			publicKey: read.bytes(o.publicKey, `${where}.publicKey`, PUBLIC_KEY_LENGTH),
			peerId: read.string(o.peerId, `${where}.peerId`, MAX_PEER_ID_LENGTH),
			issuedAt: read.uint(o.issuedAt, `${where}.issuedAt`),
			signature: read.bytes(o.signature, `${where}.signature`, SIGNATURE_LENGTH)
		};
	});
}

/** Throws ValidationError unless `p` is signed by its key, names `peerId`, and is fresh at `now`. */
export function checkPresence(p: Presence, peerId: string, now: number): void {
	ensure(p.peerId === peerId, 'presence-peer', 'the presence names another network peer');
	ensure(p.issuedAt <= now + 5 * 60_000, 'presence-future', 'the presence is dated in the future');
	ensure(now - p.issuedAt <= PRESENCE_MAX_AGE_MS, 'presence-stale', 'the presence is too old');
	ensure(
		verifySignature(p.publicKey, digest(p), p.signature),
		'presence-signature',
		'the presence signature is not valid'
	);
}
