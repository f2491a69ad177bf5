/**
 * Child process for store.node.test.ts, so the tests can do to a real process what tests cannot do in
 * their own: kill it mid-write (`crash`), or run it under a file-size limit so the disk "fills up"
 * for real (`full`, under `ulimit -f`: writes past it fail with EFBIG, as with ENOSPC).
 */
import '../node/polyfills.ts';
import { openStore } from './store.node.ts';
import { StorageFullError } from './store.ts';

const [mode, dir] = process.argv.slice(2);
if (!dir) throw new Error('usage: store.node.child.ts crash|full <dir>');
const store = await openStore(dir);

if (mode === 'crash') {
	// Writes numbered batches forever and reports each one after write() resolved (committed). The
	// filler varies so that LevelDB's compression cannot shrink the ~20 kB a batch puts in its log.
	const filler = new Uint8Array(20_000);
	for (let i = 0; ; i++) {
		crypto.getRandomValues(filler.subarray(0, 16_000));
		const key = String(i).padStart(8, '0');
		await store.write([
			{ table: 'keyblocks', key, value: filler },
			{ table: 'meta', key: 'tip', value: new TextEncoder().encode(key) }
		]);
		process.stdout.write(`committed ${i}\n`);
	}
} else if (mode === 'full') {
	await store.write([{ table: 'meta', key: 'small', value: new Uint8Array(100) }]);
	let error: unknown;
	try {
		await store.write([
			{ table: 'meta', key: 'small', value: new Uint8Array([9]) },
			{ table: 'ciphertexts', key: 'big', value: crypto.getRandomValues(new Uint8Array(64 * 1024)) }
		]);
	} catch (e) {
		error = e;
	}
	const small = await store.get('meta', 'small');
	await store.write([{ table: 'meta', key: 'after', value: new Uint8Array([1]) }]);
	await store.close();
	const again = await openStore(dir);
	const hasBig = (await again.get('ciphertexts', 'big')) !== undefined;
	await again.close();
	process.stdout.write(
		JSON.stringify({
			full: error instanceof StorageFullError,
			message: error instanceof Error ? error.message : String(error),
			smallLength: small?.length,
			hasBig
		})
	);
	process.exit(0);
}
