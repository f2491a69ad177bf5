// Serves the built static PWA (./build) on localhost with the SPA fallback, as any static host would,
// plus /network.json: where the local demo network's relay and clinic nodes listen (written by them
// into .data/network.json), so the PWA knows whom to dial, and /genesis.json: the genesis of the local
// consortium (written by the clinic nodes when they found it). NETWORK_FILE and GENESIS_FILE serve others.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import sirv from 'sirv';

const portArg = process.argv.indexOf('--port');
const port = Number(portArg > 0 ? process.argv[portArg + 1] : (process.env.PORT ?? 5173));
const host = process.env.HOST ?? '127.0.0.1';
const networkFile = process.env.NETWORK_FILE ?? '.data/network.json';
const genesisFile = process.env.GENESIS_FILE ?? '.data/genesis.json';
const assets = sirv('build', { single: '200.html', etag: true, gzip: true });

createServer(async (req, res) => {
	const path = req.url?.split('?')[0];
	if (path === '/network.json' || path === '/genesis.json') {
		try {
			const body = await readFile(path === '/network.json' ? networkFile : genesisFile);
			res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
			res.end(body);
		} catch {
			res.writeHead(404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
			res.end('{"error":"no local network is running (npm start runs one)"}');
		}
		return;
	}
	assets(req, res);
}).listen(port, host, () => {
	console.log(`SPChain PWA on http://${host}:${port}`);
});
