/**
 * The size limits of FHIR content, and the checks a hostile file meets before anything parses or validates
 * it: the file's size, its nesting depth (scanned on the text, so a 10,000-deep file never reaches
 * JSON.parse's recursion), the number of Bundle entries, and element names that are JavaScript built-ins
 * (`__proto__`, `constructor`, `toString`, …), which code reading the resource might otherwise take for
 * its own. Both the clinic (at import) and the patient's phone (on every record it opens) run them.
 *
 * The record limit comes from the network: a whole record travels to the patient's phone in one stream
 * frame of at most 1 MiB (net/peer-net.ts), sealed twice; 1,000,000 bytes of JSON leave room for the
 * envelope and the transaction around it. Large attachments are kept beside the record and streamed in
 * chunks (fhir/attachments.ts, records/attachment.ts), so they have a limit of their own.
 */
import { FhirError } from './errors.ts';

/** Largest import file (JSON text): room for one largest attachment in base64 (4/3 of it) and the visit. */
export const MAX_IMPORT_BYTES = 24_000_000;
/** Largest attachment (a PDF or image), in bytes: kept beside its record, streamed to the phone. */
export const MAX_ATTACHMENT_BYTES = 10_000_000;
/** Attachments up to this size stay inside the record; larger ones are kept beside it. */
export const INLINE_ATTACHMENT_BYTES = 64_000;
/** Largest record: the FHIR JSON (one resource, or a visit's Bundle) in UTF-8 bytes. */
export const MAX_RECORD_BYTES = 1_000_000;
/** Most entries in an imported Bundle. */
export const MAX_ENTRIES = 2_000;
/** Deepest nesting of objects and lists (a visit Bundle of real EHR resources stays under 20). */
export const MAX_DEPTH = 64;

/** Names JavaScript objects inherit: never FHIR element names, refused wherever they appear. */
const BUILT_IN_NAMES = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/** Sizes in decimal units, as a person reads them: "1.0 MB" is 1,000,000 bytes. */
export function formatBytes(bytes: number): string {
	if (bytes >= 1_000_000) return `${(bytes / 1_000_000).toFixed(1)} MB`;
	if (bytes >= 1000) return `${Math.round(bytes / 1000)} kB`;
	return `${bytes} bytes`;
}

/** UTF-8 length of a string without encoding it. */
export function utf8Length(text: string): number {
	let bytes = 0;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (c < 0x80) bytes += 1;
		else if (c < 0x800) bytes += 2;
		else if (c >= 0xd800 && c <= 0xdbff) {
			bytes += 4;
			i++;
		} else bytes += 3;
	}
	return bytes;
}

/** Deepest nesting of `[` and `{` outside strings, stopping early once past `limit`. */
function nestingDepth(text: string, limit: number): number {
	let depth = 0;
	let deepest = 0;
	let inString = false;
	for (let i = 0; i < text.length; i++) {
		const c = text.charCodeAt(i);
		if (inString) {
			if (c === 0x5c) i++;
			else if (c === 0x22) inString = false;
		} else if (c === 0x22) inString = true;
		else if (c === 0x7b || c === 0x5b) {
			depth++;
			if (depth > deepest) deepest = depth;
			if (deepest > limit) return deepest;
		} else if (c === 0x7d || c === 0x5d) depth--;
	}
	return deepest;
}

function refuse(subject: string, message: string): never {
	throw new FhirError([{ subject, message }]);
}

/**
 * Parses JSON text that claims to be FHIR, after checking its size and depth, then checks the parsed value
 * (element names, nulls, entry count). `what` names it in errors ("the file", "the record").
 */
export function parseFhirJson(text: string, options: { what: string; maxBytes: number }): unknown {
	const { what, maxBytes } = options;
	// Checked on the character count first, so a 20 MB string is never scanned byte by byte.
	if (text.length > maxBytes || utf8Length(text) > maxBytes)
		refuse(
			what,
			`it is ${formatBytes(utf8Length(text))}, more than the ${formatBytes(maxBytes)} allowed ` +
				`(an import file holds at most ${formatBytes(MAX_IMPORT_BYTES)}; ` +
				`one record, a whole visit included, at most ${formatBytes(MAX_RECORD_BYTES)}; ` +
				`one attachment at most ${formatBytes(MAX_ATTACHMENT_BYTES)})`
		);
	if (nestingDepth(text, MAX_DEPTH) > MAX_DEPTH)
		refuse(what, `it is nested more than ${MAX_DEPTH} levels deep, which no FHIR resource needs`);
	let value: unknown;
	try {
		value = JSON.parse(text);
	} catch (error) {
		refuse(what, `it is not valid JSON (${(error as Error).message})`);
	}
	checkFhirValue(value, what);
	return value;
}

/**
 * Checks an already parsed value the way parseFhirJson does (depth, element names, nulls, entries);
 * for resources handed over as objects (forms, records read back).
 */
export function checkFhirValue(value: unknown, what: string): void {
	if (value === null || typeof value !== 'object' || Array.isArray(value))
		refuse(what, 'it is not a FHIR resource (a JSON object with a resourceType)');
	const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 1 }];
	while (stack.length > 0) {
		const { value: v, path, depth } = stack.pop()!;
		if (depth > MAX_DEPTH)
			refuse(what, `it is nested more than ${MAX_DEPTH} levels deep, which no FHIR resource needs`);
		if (Array.isArray(v)) {
			v.forEach((item, i) => {
				if (item !== null && typeof item === 'object')
					stack.push({ value: item, path: `${path}[${i}]`, depth: depth + 1 });
			});
			continue;
		}
		for (const key of Object.keys(v as object)) {
			const child = (v as Record<string, unknown>)[key];
			const at = path ? `${path}.${key}` : key;
			if (BUILT_IN_NAMES.has(key))
				refuse(what, `it has an element named "${key}" (at ${at}), a JavaScript built-in name, not FHIR`);
			if (child === null)
				refuse(what, `it has a null at ${at}; FHIR JSON leaves out an element that has no value`);
			if (key === 'entry' && Array.isArray(child) && child.length > MAX_ENTRIES)
				refuse(
					what,
					`it has ${child.length.toLocaleString('en')} entries; an import holds at most ` +
						`${MAX_ENTRIES.toLocaleString('en')} (split the file by visit)`
				);
			if (typeof child === 'object') stack.push({ value: child, path: at, depth: depth + 1 });
		}
	}
}
