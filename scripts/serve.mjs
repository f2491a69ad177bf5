// Serves the built static PWA (./build) on localhost with the SPA fallback, as any static host would.
import { createServer } from 'node:http';
import sirv from 'sirv';

const portArg = process.argv.indexOf('--port');
const port = Number(portArg > 0 ? process.argv[portArg + 1] : (process.env.PORT ?? 5173));
const host = process.env.HOST ?? '127.0.0.1';
const assets = sirv('build', { single: '200.html', etag: true, gzip: true });

createServer((req, res) => assets(req, res)).listen(port, host, () => {
	console.log(`SPChain PWA on http://${host}:${port}`);
});
