/**
 * `npm run consortium -- <command>`: a consortium's genesis and its institutions' keys.
 *
 *   verify <genesis.json> [--snark static/snark] [--full]
 *       re-checks a genesis file: its hash, every founder's signature, key and proof of possession,
 *       and its link to the SNARK setup (src/lib/node/genesis-verify.ts); --full also re-verifies the
 *       SNARK transcript itself with snarkjs (the ceremony's verify, about a minute). Exit code 1 and
 *       the reason on any failure.
 *   backup <clinic data dir> <file> [--passphrase-env NAME]
 *       writes a headless clinic's key backup (encrypted under the passphrase in $NAME, default
 *       SPCHAIN_BACKUP_PASSPHRASE), which a clinic tab restores; the keystore opens with
 *       SPCHAIN_PASSPHRASE or its key file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GenesisVerifyError, verifyGenesisFile } from '../src/lib/node/genesis-verify.ts';
import { openKeystore } from '../src/lib/node/keystore.ts';

const { values, positionals } = parseArgs({
	allowPositionals: true,
	options: {
		snark: { type: 'string', default: 'static/snark' },
		full: { type: 'boolean', default: false },
		'passphrase-env': { type: 'string', default: 'SPCHAIN_BACKUP_PASSPHRASE' }
	}
});
const callerPath = (path: string) => resolve(process.env.INIT_CWD ?? process.cwd(), path);

class UsageError extends Error {}

async function verify(file: string | undefined): Promise<void> {
	if (!file)
		throw new UsageError('usage: npm run consortium -- verify <genesis.json> [--snark dir] [--full]');
	const snark = callerPath(values.snark);
	const report = verifyGenesisFile(readFileSync(callerPath(file), 'utf8'), snark);
	console.log(`${report.genesis.network}: genesis ${report.fingerprint}`);
	console.log(`founders: ${report.founders.join(', ')}`);
	for (const line of report.checked) console.log(`ok: ${line}`);
	if (values.full) {
		const { verify: verifyCeremony } = await import('../circuits/ceremony/steps.ts');
		await verifyCeremony(snark);
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

try {
	const [command, ...rest] = positionals;
	if (command === 'verify') await verify(rest[0]);
	else if (command === 'backup') await backup(rest[0], rest[1]);
	else throw new UsageError('usage: npm run consortium -- verify <genesis.json> | backup <dir> <file>');
	// snarkjs keeps worker threads alive after a --full check.
	process.exit(0);
} catch (error) {
	const known = error instanceof UsageError || error instanceof GenesisVerifyError;
	console.error(known ? `refused: ${(error as Error).message}` : error);
	process.exit(1);
}
