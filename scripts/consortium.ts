/**
 * `npm run consortium -- <command>`: a consortium's genesis and its institutions' keys.
 *
 *   verify <genesis.json> [--snark static/snark] [--full]
 *       re-checks a genesis file: its hash, every founder's signature, key and proof of possession,
 *       and its link to the SNARK setup (src/lib/node/genesis-verify.ts); --full also re-verifies the
 *       SNARK transcript itself with snarkjs (the ceremony's verify, about a minute). Exit code 1 and
 *       the reason on any failure.
 *   found-start <dir> --network <name> [--group 4]
 *   found-join <dir> --name "<institution>" --keystore <its data dir>
 *   found-contribute <dir> --keystore <its data dir>
 *   found-reveal <dir> --keystore <its data dir>
 *   found-finish <dir> --out <genesis.json> [--artifacts <dir>]
 *       a founding passed from founder to founder as a directory (src/lib/node/founding-dir.ts): each
 *       founder, on its own machine, re-verifies the transcript and adds its signed join step with the
 *       keys of its keystore (made there on first use; SPCHAIN_PASSPHRASE or a key file protects it).
 *       Optionally the founders then run the SNARK setup (src/lib/node/founding-setup.ts): each makes
 *       its real snarkjs contribution to phase 1 with found-contribute, then all reveal their beacon
 *       shares with found-reveal (the last reveal applies phase 1's beacon), then the same for phase 2.
 *       found-finish writes the genesis file and, after a setup, the artifacts into --artifacts
 *       (default: the genesis file's directory);
 *   backup <clinic data dir> <file> [--passphrase-env NAME]
 *       writes a headless clinic's key backup (encrypted under the passphrase in $NAME, default
 *       SPCHAIN_BACKUP_PASSPHRASE), which a clinic tab restores; the keystore opens with
 *       SPCHAIN_PASSPHRASE or its key file.
 *   rotate --data <clinic data dir>
 *       asks the running headless clinic of that directory to rotate its signing key: it makes the new
 *       key in its keystore, signs the rotation with the old and the new key and has the consensus
 *       group certify it (src/lib/node/operator-requests.ts); progress in <dir>/rotation.json.
 *   applications --data <clinic data dir>
 *   approve <hash> --data <dir> | refuse <hash> --data <dir>
 *       under ADMISSION=manual: lists the applications and rotations waiting for this clinic's
 *       operator, and approves or refuses one by its hash.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
	finishFoundingDir,
	FoundingDirError,
	joinFoundingDir,
	startFoundingDir
} from '../src/lib/node/founding-dir.ts';
import { contributeFoundingDir, revealFoundingDir } from '../src/lib/node/founding-setup.ts';
import { GenesisVerifyError, verifyGenesisFile, verifySnarkFiles } from '../src/lib/node/genesis-verify.ts';
import { CeremonyError } from '../circuits/ceremony/transcript.ts';
import { openKeystore } from '../src/lib/node/keystore.ts';
import {
	APPLICATIONS_FILE,
	REQUESTS_DIR,
	ROTATE_REQUEST,
	ROTATION_FILE,
	type PendingView
} from '../src/lib/node/operator-requests.ts';

const { values, positionals } = parseArgs({
	allowPositionals: true,
	options: {
		snark: { type: 'string', default: 'static/snark' },
		full: { type: 'boolean', default: false },
		'passphrase-env': { type: 'string', default: 'SPCHAIN_BACKUP_PASSPHRASE' },
		network: { type: 'string' },
		group: { type: 'string', default: '4' },
		name: { type: 'string' },
		keystore: { type: 'string' },
		out: { type: 'string' },
		artifacts: { type: 'string' },
		data: { type: 'string' }
	}
});
const callerPath = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path);

class UsageError extends Error {}

const FOUND_COMMANDS = ['found-start', 'found-join', 'found-contribute', 'found-reveal', 'found-finish'];

async function verify(file: string | undefined): Promise<void> {
	if (!file)
		throw new UsageError('usage: npm run consortium -- verify <genesis.json> [--snark dir] [--full]');
	const snark = callerPath(values.snark);
	const report = verifyGenesisFile(readFileSync(callerPath(file), 'utf8'), snark);
	console.log(`${report.genesis.network}: genesis ${report.fingerprint}`);
	console.log(`founders: ${report.founders.join(', ')}`);
	for (const line of report.checked) console.log(`ok: ${line}`);
	if (values.full) {
		await verifySnarkFiles(snark);
		console.log('ok: SNARK transcript re-verified with snarkjs');
	}
}

async function backup(dir: string | undefined, out: string | undefined): Promise<void> {
	if (!dir || !out) throw new UsageError('usage: npm run consortium -- backup <clinic data dir> <file>');
	const passphrase = process.env[values['passphrase-env']];
	if (!passphrase) throw new UsageError(`set the backup passphrase in $${values['passphrase-env']}`);
	const keystore = await openKeystore({
		dir: callerPath(dir),
		passphrase: process.env.SPCHAIN_PASSPHRASE || undefined
	});
	try {
		writeFileSync(callerPath(out), await keystore.vault.exportBackup(passphrase), { mode: 0o600 });
	} finally {
		await keystore.close();
	}
	console.log(`key backup written to ${out}`);
}

async function found(command: string, dir: string | undefined): Promise<void> {
	if (!dir)
		throw new UsageError(`usage: npm run consortium -- ${command} <dir> … (see scripts/consortium.ts)`);
	const path = callerPath(dir);
	const keystore = () => {
		if (!values.keystore) throw new UsageError(`${command} needs --keystore <the founder's data dir>`);
		return { dir: callerPath(values.keystore), passphrase: process.env.SPCHAIN_PASSPHRASE || undefined };
	};
	if (command === 'found-start') {
		const group = Number(values.group);
		if (!values.network || !Number.isInteger(group) || group < 1)
			throw new UsageError('found-start needs --network <name> and a positive --group');
		await startFoundingDir(path, { network: values.network, consensusGroupSize: group });
		console.log(`founding of ${values.network} started in ${dir}: pass it to the first founder`);
	} else if (command === 'found-join') {
		if (!values.name || !values.keystore) throw new UsageError('found-join needs --name and --keystore');
		const identity = await joinFoundingDir(path, values.name, keystore());
		console.log(`${identity.institution.name} joined with its own keys; pass ${dir} to the next founder`);
	} else if (command === 'found-contribute') {
		const { phase, contribution } = await contributeFoundingDir(path, keystore());
		console.log(
			`phase-${phase} contribution ${contribution} signed into the founding; its beacon share stays in the keystore.`
		);
		console.log(`Pass ${dir} to the next founder; once all have contributed, each runs found-reveal.`);
	} else if (command === 'found-reveal') {
		const { phase, beacon } = await revealFoundingDir(path, keystore());
		console.log(
			beacon
				? `phase-${phase} beacon fixed: ${beacon}. ${phase === 1 ? 'Phase 2 is open: each founder runs found-contribute again.' : 'Run found-finish.'}`
				: `phase-${phase} beacon share revealed; pass ${dir} to the next founder to reveal.`
		);
	} else {
		if (!values.out) throw new UsageError('found-finish needs --out <genesis.json>');
		const out = callerPath(values.out);
		const artifacts = values.artifacts === undefined ? dirname(out) : callerPath(values.artifacts);
		const genesis = await finishFoundingDir(path, out, artifacts);
		console.log(
			`genesis of ${genesis.network} written to ${values.out} (${genesis.institutions.length} founders)`
		);
	}
}

/** Operator requests to a running headless clinic, as files in its data directory. */
function operate(command: string, hash: string | undefined): void {
	if (!values.data) throw new UsageError(`${command} needs --data <the clinic's data dir>`);
	const dir = callerPath(values.data);
	if (!existsSync(join(dir, 'keys')))
		throw new UsageError(`${values.data} is not a clinic's data directory (no keys/ in it)`);
	const request = (name: string) => {
		mkdirSync(join(dir, REQUESTS_DIR), { recursive: true });
		writeFileSync(join(dir, REQUESTS_DIR, name), new Date().toISOString());
	};
	if (command === 'rotate') {
		request(ROTATE_REQUEST);
		console.log(
			`key rotation requested; the running clinic reports progress in ${join(values.data, ROTATION_FILE)}`
		);
	} else if (command === 'applications') {
		const file = join(dir, APPLICATIONS_FILE);
		const pending = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as PendingView[]) : [];
		if (pending.length === 0) console.log('nothing waits for a decision');
		for (const p of pending)
			console.log(
				`${p.hash}  ${p.kind === 'admit' ? 'admission' : 'key rotation'}  ${p.name}  (${p.receivedAt})`
			);
	} else {
		if (!hash || !/^[0-9a-f]{64}$/.test(hash))
			throw new UsageError(`usage: npm run consortium -- ${command} <hash> --data <dir>`);
		request(`${command}-${hash}`);
		console.log(`${command === 'approve' ? 'approval' : 'refusal'} handed to the running clinic`);
	}
}

try {
	const [command, ...rest] = positionals;
	if (command === 'verify') await verify(rest[0]);
	else if (command !== undefined && FOUND_COMMANDS.includes(command)) await found(command, rest[0]);
	else if (command === 'backup') await backup(rest[0], rest[1]);
	else if (command && ['rotate', 'applications', 'approve', 'refuse'].includes(command))
		operate(command, rest[0]);
	else
		throw new UsageError(
			`usage: npm run consortium -- verify <genesis.json> | ${FOUND_COMMANDS.join('|')} <dir> | backup <dir> <file> | rotate|applications|approve <hash>|refuse <hash> --data <dir>`
		);
	// snarkjs keeps worker threads alive after a --full check.
	process.exit(0);
} catch (error) {
	const known =
		error instanceof UsageError ||
		error instanceof GenesisVerifyError ||
		error instanceof FoundingDirError ||
		error instanceof CeremonyError;
	console.error(known ? `refused: ${(error as Error).message}` : error);
	process.exit(1);
}
