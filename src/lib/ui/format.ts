/** Display helpers shared by the app screens. Dates and times are in the viewer's locale and time zone. */
import type { Resource } from '@medplum/fhirtypes';
import { errorSentence } from '../app/error-sentence.ts';
import { recordDateOf } from '../records/fhir/names.ts';
import { formatFhirDate } from '../records/fhir/render.ts';

/** 'spp1qxy…k4f' — enough to recognise an address; the full one goes in a title attribute. */
export function shortAddress(address: string, head = 12, tail = 4): string {
	return address.length <= head + tail + 1 ? address : `${address.slice(0, head)}…${address.slice(-tail)}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' });
const timeFormat = new Intl.DateTimeFormat(undefined, {
	day: 'numeric',
	month: 'short',
	hour: '2-digit',
	minute: '2-digit'
});

export function formatDate(ms: number): string {
	return ms > 0 ? dateFormat.format(ms) : '—';
}

export function formatTime(ms: number): string {
	return ms > 0 ? timeFormat.format(ms) : '—';
}

/** When a record's content happened (a reading's time, a visit's start), else when it was written. */
export function recordWhen(resource: Resource | undefined, writtenAt: number): string {
	const when = resource && recordDateOf(resource);
	return (when && formatFhirDate(when)) || formatDate(writtenAt);
}

/** Anything thrown (or a kept message), as a sentence for the screen that says what to do next. */
export function errorText(error: unknown): string {
	return errorSentence(error);
}

/** Keeps `?relay=` and friends when the app links between its pages. */
export function withSearch(path: string): string {
	return typeof location === 'undefined' ? path : `${path}${location.search}`;
}

/** Runs `task` at most once at a time; a call during a run schedules exactly one more run after it. */
export function serialized(task: () => Promise<void>): () => void {
	let running = false;
	let again = false;
	const run = async () => {
		if (running) {
			again = true;
			return;
		}
		running = true;
		try {
			do {
				again = false;
				await task();
			} while (again);
		} finally {
			running = false;
		}
	};
	return () => void run();
}

/** Saves a Blob as a file download. */
export function download(blob: Blob, name: string): void {
	const url = URL.createObjectURL(blob);
	const link = document.createElement('a');
	link.href = url;
	link.download = name;
	link.click();
	setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
