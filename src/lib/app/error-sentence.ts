/**
 * What a person reads when something fails: a sentence that says what happened and what to do next,
 * never a library's message ("Too many outbound protocol streams…", "Cannot read properties of
 * undefined", "[object Object]"). The app's own errors (AppError with its code from core/error-codes.ts,
 * FhirError, the key vault's errors, ValidationError) are written for people and pass through unless
 * they carry raw text; anything else is classified into an app code and given that code's sentence.
 * The raw error goes to the console, so nothing is lost for whoever diagnoses it.
 */
import type { AppCode } from '../core/error-codes.ts';
import { ValidationError } from '../core/errors.ts';
import { KeyVaultError } from '../keys/errors.ts';
import { ProtocolError } from '../net/protocol.ts';
import { NetStoppedError, RequestError } from '../net/peer-net.ts';
import { FhirError } from '../records/fhir/errors.ts';
import { AppError } from './types.ts';

/** Text that is a program talking, not a sentence for a patient or clinician. */
export const RAW_ERROR_PATTERNS: readonly RegExp[] = [
	/\b\w*Error:/,
	/\bstreams?\b/i,
	/\bprotocol\b/i,
	/\/spchain\//,
	/\bundefined\b/,
	/\bnull\b/,
	/\bNaN\b/,
	/\[object /,
	/\bat \S+ \(/,
	/\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ERR_[A-Z_]+)\b/,
	/\bcannot start \d+\b/
];

export function isRawText(text: string): boolean {
	return RAW_ERROR_PATTERNS.some((pattern) => pattern.test(text));
}

/** The sentence of each code a failure of the network or of this device is classified into. */
const SENTENCES: Partial<Record<AppCode, string>> = {
	timeout: 'The other side did not answer in time. Check that you are online, then try again.',
	'no-answer': 'The other side closed the connection without answering. Try again in a minute.',
	remote: 'The connection to the other side failed. Check that you are online, then try again in a minute.',
	'bad-answer':
		'The other side sent an answer this device cannot read. Try again; if it keeps happening, tell the clinic.',
	'session-open': 'This device is still catching up with the network. Wait a minute, then try again.',
	refused: 'This device could not do that just now. Try again; nothing you entered was lost.'
};

/** The app code of a failure that did not come as an AppError. */
function classify(error: unknown): AppCode {
	if (error instanceof ProtocolError)
		return error.kind === 'oversized' || error.kind === 'extra-frame' ? 'bad-answer' : error.kind;
	if (error instanceof RequestError || error instanceof NetStoppedError) return 'remote';
	const text = error instanceof Error ? `${error.name} ${error.message}` : String(error);
	if (/timed? ?out|TimeoutError/i.test(text)) return 'timeout';
	if (/stream|dial|connection|network|Abort|peer|ECONN|fetch/i.test(text)) return 'remote';
	if (/consensus|height|chain|mempool/i.test(text)) return 'session-open';
	return 'refused';
}

/** The sentence to show for `error` (any thrown value, or a message string a session kept). */
export function errorSentence(error: unknown): string {
	const own =
		error instanceof AppError ||
		error instanceof FhirError ||
		error instanceof KeyVaultError ||
		error instanceof ValidationError;
	const text = own ? (error as Error).message : typeof error === 'string' ? error : undefined;
	if (text && !isRawText(text)) return text;
	console.warn('[app] shown as a sentence:', error);
	const code = error instanceof AppError ? error.code : classify(error);
	return SENTENCES[code] ?? SENTENCES[classify(error)] ?? SENTENCES.refused!;
}
