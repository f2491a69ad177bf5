/**
 * The access-log book on a real (memory) store, the holder's answers played by the test (no network): a
 * signed request per holder, a verified log kept sealed and shown from the copy when the holder is away,
 * and a holder that later shows fewer entries than before is caught.
 */
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { bytesToHex } from '../../core/bytes.ts';
import { verifySignature } from '../../core/identity.ts';
import { appendAccessLog, type AccessLogEntry } from '../../records/access-log.ts';
import { generateMasterKey } from '../../records/envelope.ts';
import { openMemoryStore } from '../../store/memory-store.ts';
import { clinics, patientKeys, testGenesis } from '../../../../tests/fixtures/chain.ts';
import { accessLogChallenge } from '../holder.ts';
import { AccessLogBook } from './access-log-book.ts';

const alice = patientKeys('alice');
const [A, D] = [clinics[0]!, clinics[3]!];
const NOW = Date.UTC(2026, 10, 24, 12);
const h = (s: string) => sha256(utf8ToBytes(s));

function logOf(n: number): AccessLogEntry[] {
	const out: AccessLogEntry[] = [];
	for (let i = 0; i < n; i++)
		out.push(
			appendAccessLog(
				out.at(-1) ?? null,
				{
					holder: A.institution.id,
					patient: alice.publicKey,
					requester: i === 0 ? alice.publicKey : D.institution.id,
					record: h(`tx ${i}`),
					digest: h(`ct ${i}`),
					authority:
						i === 0
							? { kind: 'patient' }
							: { kind: 'consent', consentId: h('consent'), grantee: D.institution.id },
					at: NOW + i * 1000
				},
				A.secrets.signingKey
			)
		);
	return out;
}

describe('the access-log book', () => {
	it('shows the fresh log, then the kept copy when the holder is away, and catches a rewritten log', async () => {
		let answer: AccessLogEntry[] | undefined = logOf(2);
		const book = new AccessLogBook({
			store: openMemoryStore(),
			masterKey: generateMasterKey(),
			genesis: testGenesis(),
			clock: () => NOW,
			patient: alice,
			ask: async (holder, request) => {
				expect(bytesToHex(request.patient)).toBe(bytesToHex(alice.publicKey));
				expect(
					verifySignature(alice.publicKey, accessLogChallenge(holder, request.time), request.signature)
				).toBe(true);
				return answer;
			}
		});
		const fresh = await book.entries([A.institution.id]);
		expect(fresh.map((e) => [e.requester, e.fromCopy])).toEqual([
			[D.institution.name, undefined],
			['you', undefined]
		]);
		answer = undefined;
		const kept = await book.entries([A.institution.id]);
		expect(kept).toHaveLength(2);
		expect(kept.every((e) => e.fromCopy)).toBe(true);
		answer = logOf(1);
		await expect(book.entries([A.institution.id])).rejects.toMatchObject({ code: 'log-rewritten' });
	});
});
