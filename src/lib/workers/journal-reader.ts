/**
 * The page side of journal-reader.worker.ts: the stored journal, read and checked in a worker of its
 * own (which ends when it has answered), as the JournalSource ChainState.open takes.
 */
import { pushable } from 'it-pushable';
import type { JournalRow, JournalSource, JournalVerdict } from '../runtime/stored-journal.ts';
import type { JournalReaderReply, JournalReaderRequest } from './journal-reader.worker.ts';

export function readJournalInWorker(profile: string): JournalSource {
	const pieces = pushable<JournalRow[]>({ objectMode: true });
	const worker = new Worker(new URL('./journal-reader.worker.ts', import.meta.url), { type: 'module' });
	const verdict = new Promise<JournalVerdict>((resolve, reject) => {
		worker.onmessage = ({ data }: MessageEvent<JournalReaderReply>) => {
			if (data.kind === 'rows') pieces.push(data.rows);
			else if (data.kind === 'verdict') resolve(data.verdict);
			else reject(Object.assign(new Error(data.message), { name: data.name }));
		};
		worker.onerror = (event) => reject(new Error(event.message || 'the journal reader failed to start'));
		const request: JournalReaderRequest = { profile };
		worker.postMessage(request);
	});
	verdict.then(
		() => pieces.end(),
		(error: Error) => pieces.end(error)
	);
	verdict.catch(() => undefined).finally(() => worker.terminate());
	return { pieces, verdict };
}
