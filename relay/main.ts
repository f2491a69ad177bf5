/**
 * `npm run relay`: starts the relay alone. Configure with RELAY_HOST, RELAY_PORT and RELAY_KEY_FILE.
 * Node 20 needs the polyfills module first and `--experimental-websocket` (set by the npm script).
 */
import '../src/lib/node/polyfills.ts';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { servePeerDirectory } from '../src/lib/net/directory.ts';
import { loadOrCreateRelayKey, startRelay, DEFAULT_RELAY_OPTIONS } from './relay.ts';

const keyFile = process.env.RELAY_KEY_FILE ?? '.data/relay.key';
const privateKey = await loadOrCreateRelayKey(
	() => (existsSync(keyFile) ? readFileSync(keyFile) : undefined),
	(bytes) => {
		mkdirSync(dirname(keyFile), { recursive: true });
		writeFileSync(keyFile, bytes, { mode: 0o600 });
	}
);
const relay = await startRelay({
	host: process.env.RELAY_HOST ?? DEFAULT_RELAY_OPTIONS.host,
	port: Number(process.env.RELAY_PORT ?? DEFAULT_RELAY_OPTIONS.port),
	privateKey
});
// Pages find each other through the relay's list of connected SPChain peers (peer ids and addresses only).
await servePeerDirectory(relay.node);
for (const address of relay.addresses) console.log(`relay listening on ${address}`);
// Where the PWA and the clinic nodes find the relay (served as /network.json by scripts/serve.mjs).
const networkFile = process.env.RELAY_ADDRESS_FILE ?? '.data/network.json';
mkdirSync(dirname(networkFile), { recursive: true });
writeFileSync(networkFile, JSON.stringify({ relay: relay.addresses }, null, 2));

const shutdown = async () => {
	await relay.stop();
	process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
