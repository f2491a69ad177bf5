/**
 * How the operator of a headless clinic talks to its running node: through files in its data
 * directory, so no port or credential is opened for it (`npm run consortium -- rotate | applications |
 * approve | refuse --data <dir>` writes and reads them; docs/consortium.md "Operating a headless clinic").
 *
 *   <dir>/requests/rotate-key        rotate the institution's signing key (institution/key-rotation.ts)
 *   <dir>/requests/approve-<hash>    approve the application or rotation kept under ADMISSION=manual
 *   <dir>/requests/refuse-<hash>     refuse it
 *   <dir>/applications.json          written by the node: what waits for the operator's decision
 *   <dir>/rotation.json              written by the node: the state of the last rotation asked for
 *
 * The node takes each request file away once it has read it; a request it cannot carry out is
 * reported in rotation.json or in the log.
 */
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesToHex } from '../core/bytes.ts';
import type { AdmissionDesk, AdmissionStatus } from '../runtime/admission.ts';
import { rotateSigningKey, type RotateOptions } from '../institution/key-rotation.ts';

export const REQUESTS_DIR = 'requests';
export const ROTATE_REQUEST = 'rotate-key';
export const APPLICATIONS_FILE = 'applications.json';
export const ROTATION_FILE = 'rotation.json';

export interface PendingView {
	kind: 'admit' | 'rotate';
	name: string;
	id: string;
	hash: string;
	receivedAt: string;
}

export type RotationView =
	| { state: 'requested' | 'applying' | 'submitted'; approvals?: number; members?: number }
	| { state: 'in-force'; key: string; from: number }
	| { state: 'failed'; error: string };

export interface OperatorRequestsOptions extends Omit<RotateOptions, 'onStatus' | 'signal'> {
	dir: string;
	desk: AdmissionDesk;
	log(line: string): void;
	/** Poll period (default 1 s). */
	everyMs?: number;
}

async function writeJson(path: string, value: unknown): Promise<void> {
	await writeFile(`${path}.tmp`, JSON.stringify(value, null, 2));
	await rename(`${path}.tmp`, path);
}

/** Starts watching; returns the function that stops it (and any rotation under way). */
export async function watchOperatorRequests(options: OperatorRequestsOptions): Promise<() => void> {
	const { dir, desk, log } = options;
	const requests = join(dir, REQUESTS_DIR);
	await mkdir(requests, { recursive: true });
	const stop = new AbortController();
	let rotating = false;

	const writePending = () =>
		writeJson(
			join(dir, APPLICATIONS_FILE),
			desk.pending().map((p): PendingView => ({
				kind: p.kind,
				name: p.institution.name,
				id: bytesToHex(p.institution.id),
				hash: p.hash,
				receivedAt: new Date(p.receivedAt).toISOString()
			}))
		).catch((error) => log(`cannot write ${APPLICATIONS_FILE}: ${(error as Error).message}`));
	const offDesk = desk.onChange(() => void writePending());
	await writePending();

	const rotation = (view: RotationView) =>
		writeJson(join(dir, ROTATION_FILE), { ...view, at: new Date().toISOString() }).catch(() => undefined);

	const rotate = async () => {
		rotating = true;
		await rotation({ state: 'requested' });
		try {
			const { key, from } = await rotateSigningKey({
				...options,
				signal: stop.signal,
				onStatus: (status: AdmissionStatus) => {
					if (status.state !== 'admitted')
						void rotation({ state: status.state, approvals: status.approvals, members: status.members });
				}
			});
			await rotation({ state: 'in-force', key: bytesToHex(key), from });
			log(`signing key rotated: the new key signs from keyblock ${from}`);
		} catch (error) {
			if (stop.signal.aborted) return;
			await rotation({ state: 'failed', error: (error as Error).message });
			log(`key rotation failed: ${(error as Error).message}`);
		} finally {
			rotating = false;
		}
	};

	const take = async (name: string) => {
		await rm(join(requests, name), { force: true });
		if (name === ROTATE_REQUEST) {
			if (rotating) log('a key rotation is already under way');
			else void rotate();
			return;
		}
		const decision = /^(approve|refuse)-([0-9a-f]{64})$/.exec(name);
		if (!decision) return log(`unknown operator request ${name} (ignored)`);
		try {
			desk.decide(decision[2]!, decision[1] === 'approve');
			log(`${decision[1] === 'approve' ? 'approved' : 'refused'} ${decision[2]!.slice(0, 16)}…`);
		} catch (error) {
			log(`${name}: ${(error as Error).message}`);
		}
	};

	let busy = false;
	const timer = setInterval(() => {
		if (busy) return;
		busy = true;
		readdir(requests)
			.then(async (names) => {
				for (const name of names.filter((n) => !n.endsWith('.tmp')).sort()) await take(name);
			})
			.catch(() => undefined)
			.finally(() => (busy = false));
	}, options.everyMs ?? 1000);
	return () => {
		clearInterval(timer);
		offDesk();
		stop.abort();
	};
}
