import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { codeOf } from '../../../tests/fixtures/records.ts';
import { encodeCanonical } from '../core/encoding.ts';
import { clinics, patientKeys } from '../../../tests/fixtures/chain.ts';
import {
	appendAccessLog,
	decodeAccessLog,
	encodeAccessLog,
	extendKnownLog,
	verifyAccessLog,
	type AccessLogEntry,
	type AccessLogFields
} from './access-log.ts';

const alice = patientKeys('alice');
const bob = patientKeys('bob');
const A = clinics[0]!;
const B = clinics[1]!;
const D = clinics[3]!;
const NOW = Date.UTC(2026, 10, 24, 12);
const h = (s: string) => sha256(utf8ToBytes(s));

function fields(i: number, over: Partial<AccessLogFields> = {}): AccessLogFields {
	return {
		holder: A.institution.id,
		patient: alice.publicKey,
		requester: alice.publicKey,
		record: h(`tx ${i}`),
		digest: h(`ct ${i}`),
		authority:
			i % 2 === 0
				? { kind: 'patient' }
				: { kind: 'consent', consentId: h(`consent ${i}`), grantee: D.institution.id },
		at: NOW + i * 1000,
		...over
	};
}

function logOf(n: number, secret = A.secrets.signingKey): AccessLogEntry[] {
	const out: AccessLogEntry[] = [];
	for (let i = 0; i < n; i++) out.push(appendAccessLog(out.at(-1) ?? null, fields(i), secret));
	return out;
}

const expected = { holder: A.institution.id, patient: alice.publicKey };

describe('access log', () => {
	it('round-trips canonically and verifies, from the start or from a known head', () => {
		const log = logOf(4);
		const decoded = decodeAccessLog(encodeAccessLog(log));
		expect(decoded).toEqual(log);
		expect(codeOf(() => verifyAccessLog(decoded, expected))).toBe('no error');
		expect(codeOf(() => verifyAccessLog(decoded.slice(2), { ...expected, after: decoded[1]! }))).toBe(
			'no error'
		);
		expect(decoded[1]!.authority).toEqual({
			kind: 'consent',
			consentId: h('consent 1'),
			grantee: D.institution.id
		});
	});

	it('an attachment release names the attachment, signed and chained; a record read hashes as before', () => {
		const log = logOf(2);
		const before = encodeAccessLog(log);
		log.push(appendAccessLog(log.at(-1)!, fields(2, { attachment: h('pdf') }), A.secrets.signingKey));
		const decoded = decodeAccessLog(encodeAccessLog(log));
		expect(decoded).toEqual(log);
		expect(decoded[2]!.attachment).toEqual(h('pdf'));
		expect(decoded[1]!.attachment).toBeUndefined();
		expect(encodeAccessLog(decoded.slice(0, 2))).toEqual(before);
		expect(codeOf(() => verifyAccessLog(decoded, expected))).toBe('no error');
		// The attachment named is under the holder's signature: another hash breaks it.
		const swapped = decoded.map((e, i) => (i === 2 ? { ...e, attachment: h('other') } : e));
		expect(codeOf(() => verifyAccessLog(swapped, expected))).toBe('log-signature');
	});

	it('detects a dropped, reordered or edited entry', () => {
		const log = logOf(4);
		expect(codeOf(() => verifyAccessLog([log[0]!, log[2]!, log[3]!], expected))).toBe('log-chain');
		expect(codeOf(() => verifyAccessLog([log[1]!, log[0]!], expected))).toBe('log-chain');
		expect(codeOf(() => verifyAccessLog(log.slice(1), expected))).toBe('log-chain');
		const edited = log.map((e, i) => (i === 2 ? { ...e, requester: bob.publicKey } : e));
		expect(codeOf(() => verifyAccessLog(edited, expected))).toBe('log-signature');
		const hidden = log.map((e, i) => (i === 1 ? { ...e, authority: { kind: 'patient' as const } } : e));
		expect(codeOf(() => verifyAccessLog(hidden, expected))).toBe('log-signature');
	});

	it('detects entries signed by someone else, for another patient or holder, or back-dated', () => {
		const byB = logOf(2, B.secrets.signingKey);
		expect(codeOf(() => verifyAccessLog(byB, expected))).toBe('log-signature');
		expect(codeOf(() => verifyAccessLog(logOf(2), { ...expected, holder: B.institution.id }))).toBe(
			'log-holder'
		);
		expect(codeOf(() => verifyAccessLog(logOf(2), { ...expected, patient: bob.publicKey }))).toBe(
			'log-patient'
		);
		const first = appendAccessLog(null, fields(0), A.secrets.signingKey);
		const earlier = appendAccessLog(first, fields(1, { at: NOW - 1 }), A.secrets.signingKey);
		expect(codeOf(() => verifyAccessLog([first, earlier], expected))).toBe('log-time');
		expect(
			codeOf(() => appendAccessLog(first, fields(1, { patient: bob.publicKey }), A.secrets.signingKey))
		).toBe('log-chain');
	});

	it('strict decoding', () => {
		expect(codeOf(() => decodeAccessLog(encodeCanonical([{ holder: A.institution.id }])))).toBe('schema');
		expect(codeOf(() => decodeAccessLog(encodeCanonical({})))).toBe('schema');
		const bytes = encodeAccessLog(logOf(1));
		expect(codeOf(() => decodeAccessLog(bytes.slice(0, -1)))).toBe('encoding');
	});
});

describe('the log the patient device keeps', () => {
	it('keeps the last verified copy when the holder is offline, and takes a fresh log that extends it', () => {
		const kept = logOf(3);
		expect(extendKnownLog(kept, undefined, expected)).toEqual(kept);
		const fresh = logOf(5);
		expect(extendKnownLog(kept, fresh, expected)).toEqual(fresh);
		expect(extendKnownLog([], fresh, expected)).toHaveLength(5);
	});

	it('refuses a fresh log that drops or rewrites an entry the device already saw', () => {
		const kept = logOf(3);
		expect(codeOf(() => extendKnownLog(kept, logOf(2), expected))).toBe('log-rewritten');
		// A log rewritten from the start, validly chained and signed, but not the one the device saw.
		const other: AccessLogEntry[] = [];
		for (let i = 0; i < 4; i++)
			other.push(
				appendAccessLog(other.at(-1) ?? null, fields(i, { at: NOW + i * 1000 + 1 }), A.secrets.signingKey)
			);
		expect(codeOf(() => extendKnownLog(kept, other, expected))).toBe('log-rewritten');
		// And a fresh log that does not verify is refused before the comparison.
		expect(codeOf(() => extendKnownLog(kept, logOf(4, B.secrets.signingKey), expected))).toBe(
			'log-signature'
		);
	});
});
