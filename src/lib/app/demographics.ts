/**
 * Who the patient is, told only to the clinics the patient lets know (paper §5.3 keeps only a salted
 * hash of the identity on the chain; a clinic still needs a name to call out in the waiting room). At
 * registration the patient chooses whether clinics that add them may learn their name and birth date;
 * the phone keeps that choice sealed to its own key (nothing readable at rest). When a clinic adds the
 * patient, it asks over `/spchain/demographics/1.0.0` and the phone seals the demographics to that
 * clinic's key alone (records/aead.ts `sealTo`); the clinic stores the box as it came (sealed to
 * itself) and opens it to show the name in its patient list.
 */
import { bytesToHex, fromHex, type Bytes } from '../core/bytes.ts';
import { decodeCanonical, encodeCanonical } from '../core/encoding.ts';
import { ensure } from '../core/errors.ts';
import type { PublicKey } from '../core/identity.ts';
import * as read from '../core/schema.ts';
import { call, defineProtocol, serve, type Codec, type Requester, type Server } from '../net/protocol.ts';
import { boxToCanonical, openBox, readBox, sealTo, type Box } from '../records/aead.ts';
import type { Store } from '../store/store.ts';
import { appErrors } from './wire.ts';

export interface Demographics {
	name: string;
	/** YYYY-MM-DD. */
	birthDate: string;
}

const MAX_NAME = 200;
const MAX_BOX = 1024;
const SELF = 'demographics-self';
const TO_CLINIC = 'demographics';
const KEPT = 'demographics';

/** Checks what the patient typed (or what a box held): a name, and a real calendar date in the past. */
export function readDemographics(value: unknown, where = 'demographics'): Demographics {
	const o = read.object(value, where, ['name', 'birthDate']);
	const name = read.string(o.name, `${where}.name`, MAX_NAME).trim();
	ensure(name.length > 0, 'schema', 'Type your full name.');
	const birthDate = read.string(o.birthDate, `${where}.birthDate`, 10);
	const day = new Date(`${birthDate}T00:00:00Z`);
	ensure(
		/^\d{4}-\d{2}-\d{2}$/.test(birthDate) &&
			!Number.isNaN(day.getTime()) &&
			day.toISOString().startsWith(birthDate) &&
			day.getTime() <= Date.now(),
		'schema',
		'Type your date of birth as a date in the past (for example 1985-12-10).'
	);
	return { name, birthDate };
}

const encode = (d: Demographics) => encodeCanonical({ name: d.name, birthDate: d.birthDate });
const decode = (bytes: Bytes) => readDemographics(decodeCanonical(bytes, MAX_BOX));

/** The answer: the demographics sealed to the asking clinic, or nothing when the patient chose so. */
export type DemographicsReply = { box: Box } | { box: null };

const replyCodec: Codec<DemographicsReply> = {
	encode: (r) => encodeCanonical({ box: r.box ? boxToCanonical(r.box) : null }),
	decode: (bytes) => {
		const o = read.object(decodeCanonical(bytes, MAX_BOX * 2), 'demographicsReply', ['box']);
		return { box: o.box === null ? null : readBox(o.box, 'demographicsReply.box', MAX_BOX) };
	}
};
const emptyCodec: Codec<null> = {
	encode: () => new Uint8Array(0),
	decode: (bytes) => {
		ensure(bytes.length === 0, 'schema', 'expected an empty request');
		return null;
	}
};

export const DEMOGRAPHICS = defineProtocol({
	id: '/spchain/demographics/1.0.0',
	request: emptyCodec,
	response: replyCodec,
	maxBytes: MAX_BOX * 2,
	timeoutMs: 30_000,
	mapError: appErrors("The patient's device", "The patient's device did not say who the patient is in time."),
	// A read of what the patient chose to tell: asking twice is harmless.
	idempotent: true
});

// ---------------------------------------------------------------------------- the patient's side

/** Keeps the patient's choice on the phone, sealed to the patient's own key (undefined: tell no clinic). */
export async function keepDemographics(
	store: Store,
	patient: PublicKey,
	demographics: Demographics | undefined
): Promise<void> {
	if (!demographics) {
		await store.write([{ table: 'meta', key: KEPT, value: null }]);
		return;
	}
	const box = await sealTo(patient, encode(readDemographics(demographics)), SELF, patient);
	await store.write([{ table: 'meta', key: KEPT, value: encodeCanonical(boxToCanonical(box)) }]);
}

/**
 * Answers clinics that add the patient: the kept demographics sealed to the institution speaking from the
 * asking peer (`institutionAt` resolves it, or says it is none); nothing for anyone else.
 */
export function serveDemographics(
	net: Server,
	options: {
		store: Store;
		patient: PublicKey;
		secretKey: Bytes;
		institutionAt: (peer: string) => Promise<PublicKey | undefined>;
	}
): void {
	serve(net, DEMOGRAPHICS, async (_request, from): Promise<DemographicsReply> => {
		const institution = await options.institutionAt(from);
		ensure(institution, 'record-requester', 'only consortium institutions may ask who the patient is');
		const kept = await options.store.get('meta', KEPT);
		if (!kept) return { box: null };
		const own = readBox(decodeCanonical(kept, MAX_BOX * 2), 'demographics', MAX_BOX);
		const plain = await openBox(own, options.secretKey, options.patient, SELF, options.patient);
		return { box: await sealTo(institution, plain, TO_CLINIC, options.patient) };
	});
}

// ---------------------------------------------------------------------------- the clinic's side

const keptKey = (patient: PublicKey) => `demographics:${bytesToHex(patient)}`;

/**
 * Asks the patient's device who the patient is and keeps the answer sealed as it came; resolves with
 * the demographics, or undefined when the patient chose not to say.
 */
export async function askDemographics(
	net: Requester,
	peer: string,
	options: { store: Store; patient: PublicKey; institution: PublicKey; secretKey: Bytes }
): Promise<Demographics | undefined> {
	const reply = await call(net, peer, DEMOGRAPHICS, null);
	if (!reply.box) return undefined;
	const demographics = await openDemographics(reply.box, options);
	await options.store.write([
		{ table: 'meta', key: keptKey(options.patient), value: encodeCanonical(boxToCanonical(reply.box)) }
	]);
	return demographics;
}

async function openDemographics(
	box: Box,
	options: { patient: PublicKey; institution: PublicKey; secretKey: Bytes }
): Promise<Demographics> {
	return decode(await openBox(box, options.secretKey, options.institution, TO_CLINIC, options.patient));
}

/** The demographics this clinic was told, opened from its store (a box that does not open is skipped). */
export async function knownDemographics(
	store: Store,
	institution: PublicKey,
	secretKey: Bytes
): Promise<Map<string, Demographics>> {
	const known = new Map<string, Demographics>();
	for (const [key, value] of await store.list('meta', { from: 'demographics:', to: 'demographics;' })) {
		const hex = key.slice('demographics:'.length);
		try {
			const patient = fromHex(hex, 32);
			const box = readBox(decodeCanonical(value, MAX_BOX * 2), 'demographics', MAX_BOX);
			known.set(hex, await openDemographics(box, { patient, institution, secretKey }));
		} catch (error) {
			console.warn(`[demographics] the kept demographics of ${hex.slice(0, 12)}… do not open`, error);
		}
	}
	return known;
}
