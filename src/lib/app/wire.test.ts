/**
 * The app protocols' descriptors turn protocol failures into sentences a patient or clinician can act
 * on (AppError with a stable code), and the identity request must be empty. No network: the mapping
 * and codecs are called directly (net/protocol.test.ts covers call/serve themselves).
 */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.ts';
import { ProtocolError } from '../net/protocol.ts';
import { AppError } from './types.ts';
import { ACCESS_LOG, CIPHERTEXT, IDENTITY, RECORD_KEY, REVOKE, SHARE, SIGN } from './wire.ts';

describe('app protocol descriptors', () => {
	it('map every protocol failure of each app protocol to an AppError sentence', () => {
		for (const protocol of [RECORD_KEY, SIGN, CIPHERTEXT, ACCESS_LOG, SHARE, REVOKE]) {
			const map = protocol.mapError!;
			const timeout = map(new ProtocolError('timeout', protocol.id, 'no answer in 1 ms'));
			expect(timeout).toBeInstanceOf(AppError);
			expect(timeout).toMatchObject({ code: 'timeout', message: expect.stringMatching(/in time\.$/) });
			expect(map(new ProtocolError('no-answer', protocol.id, 'closed'))).toMatchObject({ code: 'no-answer' });
			const remote = map(new ProtocolError('remote', protocol.id, 'the consent was revoked'));
			expect(remote).toMatchObject({
				code: 'remote',
				message: expect.stringContaining('the consent was revoked')
			});
			expect(map(new ProtocolError('oversized', protocol.id, 'too big'))).toMatchObject({
				code: 'bad-answer'
			});
		}
		expect(RECORD_KEY.mapError!(new ProtocolError('timeout', RECORD_KEY.id, '')).message).toBe(
			"The patient's device did not answer in time."
		);
		expect(SIGN.mapError!(new ProtocolError('timeout', SIGN.id, '')).message).toBe(
			'The patient did not sign in time.'
		);
	});

	it('the identity request is empty, and anything else is refused before the handler', () => {
		expect(IDENTITY.request.encode(null)).toHaveLength(0);
		expect(IDENTITY.request.decode(new Uint8Array(0))).toBeNull();
		expect(() => IDENTITY.request.decode(new Uint8Array(1))).toThrow(ValidationError);
	});

	it('ids are the wire protocol ids, one per descriptor', () => {
		const ids = [IDENTITY, RECORD_KEY, SIGN, CIPHERTEXT, ACCESS_LOG, SHARE, REVOKE].map((p) => p.id);
		expect(new Set(ids).size).toBe(7);
		expect(ACCESS_LOG.id).toBe('/spchain/access-log/1.0.0');
	});
});
