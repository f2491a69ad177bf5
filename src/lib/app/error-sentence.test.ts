import { describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../core/errors.ts';
import { WrongPassphraseError } from '../keys/errors.ts';
import { ProtocolError } from '../net/protocol.ts';
import { RequestError } from '../net/peer-net.ts';
import { FhirError } from '../records/fhir/errors.ts';
import { errorSentence, isRawText } from './error-sentence.ts';
import { AppError } from './types.ts';

const STREAMS = 'Too many outbound protocol streams for protocol "/spchain/access-log/1.0.0" - 65/64';

describe('errors as sentences', () => {
	vi.spyOn(console, 'warn').mockImplementation(() => {});

	it('passes the app’s own sentences through', () => {
		expect(
			errorSentence(new AppError('patient-declined', 'The patient declined. Nothing was written.'))
		).toBe('The patient declined. Nothing was written.');
		expect(errorSentence(new WrongPassphraseError())).toMatch(/^That passphrase does not open/);
		const fhir = new FhirError([{ subject: 'the Condition of the form', message: 'the code is required' }]);
		expect(errorSentence(fhir)).toBe(fhir.message);
	});

	it('never shows a library’s message: it says what happened and what to do next', () => {
		const raw: unknown[] = [
			new Error(STREAMS),
			new ProtocolError('remote', '/spchain/access-log/1.0.0', STREAMS),
			new ProtocolError('timeout', '/spchain/share/1.0.0', 'no answer in 30000 ms'),
			new RequestError('stream reset', 'peer', '/spchain/ciphertext/1.0.0'),
			new ValidationError('consensus-kind', 'consensus already at height 95; cannot start 95'),
			new TypeError("Cannot read properties of undefined (reading 'x')"),
			new AppError('remote', `The institution could not answer: ${STREAMS}`),
			{ some: 'object' },
			STREAMS
		];
		for (const error of raw) {
			const sentence = errorSentence(error);
			expect(isRawText(sentence), sentence).toBe(false);
			expect(sentence, String(error)).toMatch(/\b(try again|wait|tell the clinic)\b/i);
		}
		expect(errorSentence(new ProtocolError('timeout', '/spchain/share/1.0.0', 'late'))).toMatch(
			/did not answer in time/
		);
	});
});
