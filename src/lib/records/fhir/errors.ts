/**
 * The error every refused FHIR input throws: a list of sentences a clinician can act on, each naming the
 * resource by its type and its code or date ("the Observation "Blood pressure panel" of 1 Oct 2026: …"),
 * with the element in words, never a JSON path alone.
 */
import { ValidationError } from '../../core/errors.ts';

export interface FhirProblem {
	/** The resource concerned, in words ("the Observation "Heart rate" of 1 Oct 2026"), or "the file". */
	subject: string;
	/** What is wrong, as the end of a sentence. */
	message: string;
	/** The element concerned, FHIR style (`component[0].value[x]`), for the curious; may be empty. */
	element?: string;
}

/** Shown at most in the message; every problem stays in `problems`. */
const SHOWN = 5;

export function problemText(p: FhirProblem): string {
	const where = p.element ? ` (at ${p.element})` : '';
	return `${capitalize(p.subject)}${where}: ${p.message}`;
}

function capitalize(text: string): string {
	return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A refused resource, file or bundle; `problems` lists every problem found. */
export class FhirError extends ValidationError {
	constructor(readonly problems: FhirProblem[]) {
		const shown = problems.slice(0, SHOWN).map(problemText);
		const more = problems.length > SHOWN ? ` And ${problems.length - SHOWN} more problems.` : '';
		super('fhir', shown.map((s) => (s.endsWith('.') ? s : `${s}.`)).join(' ') + more);
	}
}
