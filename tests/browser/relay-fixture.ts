/**
 * A real relay (relay/relay.ts, plus the peer directory) and a Node PeerNet peer for the browser
 * tests, in a child process: libp2p needs Node's --experimental-websocket and the polyfills, which the
 * Playwright runner does not have. The test talks to it over stdin/stdout, one JSON line per call.
 *
 *   const fixture = await startNetFixture();   // fixture.relay: relay multiaddrs; fixture.nodePeer: id
 *   await fixture.call('publish', 'transactions', 'hi');
 *   await fixture.call('stopRelay');           // the Node peer keeps running
 *   await fixture.close();
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface NetFixture {
	relay: string[];
	nodePeer: string;
	call<T = unknown>(cmd: string, ...args: unknown[]): Promise<T>;
	close(): Promise<void>;
}

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface NetFixtureOptions {
	nodePeer?: boolean;
	/** Join an existing network through these addresses instead of starting a relay. */
	bootstrap?: string[];
}

export function startNetFixture(options: NetFixtureOptions = {}): Promise<NetFixture> {
	const child: ChildProcessWithoutNullStreams = spawn(
		process.execPath,
		['--experimental-websocket', '--import', 'tsx', fileURLToPath(import.meta.url), '--serve'],
		{
			cwd: root,
			env: {
				...process.env,
				NET_FIXTURE_NODE_PEER: options.nodePeer === false ? '0' : '1',
				NET_FIXTURE_BOOTSTRAP: JSON.stringify(options.bootstrap ?? [])
			}
		}
	);
	const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
	let nextId = 0;
	let stderr = '';
	child.stderr.on('data', (chunk) => {
		stderr = (stderr + chunk).slice(-4000);
	});
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => reject(new Error(`net fixture did not start: ${stderr}`)), 30_000);
		child.on('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`net fixture exited (${code}): ${stderr}`));
			for (const call of pending.values()) call.reject(new Error(`net fixture exited (${code})`));
		});
		createInterface({ input: child.stdout }).on('line', (line) => {
			if (line.startsWith('READY ')) {
				clearTimeout(timer);
				const ready = JSON.parse(line.slice(6)) as { relay: string[]; nodePeer: string };
				resolve({
					...ready,
					call<T>(cmd: string, ...args: unknown[]) {
						const id = nextId++;
						child.stdin.write(JSON.stringify({ id, cmd, args }) + '\n');
						return new Promise<T>((res, rej) =>
							pending.set(id, { resolve: res as (v: unknown) => void, reject: rej })
						);
					},
					async close() {
						if (child.exitCode !== null) return;
						const exited = new Promise((r) => child.once('exit', r));
						child.stdin.write(JSON.stringify({ id: -1, cmd: 'exit', args: [] }) + '\n');
						const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
						await exited;
						clearTimeout(killer);
					}
				});
			} else if (line.startsWith('REPLY ')) {
				const reply = JSON.parse(line.slice(6)) as { id: number; result?: unknown; error?: string };
				const call = pending.get(reply.id);
				pending.delete(reply.id);
				if (reply.error !== undefined) call?.reject(new Error(reply.error));
				else call?.resolve(reply.result);
			}
		});
	});
}

/** The child process: relay + directory + (optionally) a Node PeerNet that records what it receives. */
async function serve(): Promise<void> {
	await import('../../src/lib/node/polyfills.ts');
	const { startRelay } = await import('../../relay/relay.ts');
	const { servePeerDirectory } = await import('../../src/lib/net/directory.ts');
	const { createPeerNet } = await import('../../src/lib/net/peer-net.node.ts');
	const { TOPICS } = await import('../../src/lib/net/peer-net.ts');
	const { decodeKeyblock, encodeKeyblock, keyblockHash } = await import('../../src/lib/core/keyblock.ts');

	const bootstrap = JSON.parse(process.env.NET_FIXTURE_BOOTSTRAP ?? '[]') as string[];
	let relay: Awaited<ReturnType<typeof startRelay>> | undefined =
		bootstrap.length > 0 ? undefined : await startRelay({ port: 0 });
	if (relay) await servePeerDirectory(relay.node);
	const net =
		process.env.NET_FIXTURE_NODE_PEER === '0'
			? undefined
			: await createPeerNet({ bootstrap: relay?.addresses ?? bootstrap });
	const received: { topic: string; body: string; from: string; at: number }[] = [];
	let lastKeyblock: ReturnType<typeof decodeKeyblock> | undefined;
	for (const topic of TOPICS)
		net?.subscribe(topic, async (data, from) => {
			// Candidates travel on the same topic: keep the newest pinned keyblock.
			if (topic === 'keyblocks') {
				try {
					const block = decodeKeyblock(data, 10_000);
					if (block.pin && block.header.height >= (lastKeyblock?.header.height ?? 0)) lastKeyblock = block;
				} catch {
					// not a keyblock (the net tests publish text here)
				}
			}
			received.push({ topic, body: new TextDecoder().decode(data), from, at: Date.now() });
			return 'accept';
		});

	const commands: Record<string, (...args: never[]) => unknown> = {
		publish: (topic: (typeof TOPICS)[number], text: string) =>
			net?.publish(topic, new TextEncoder().encode(text)),
		/**
		 * Gossips `count` forged successors of the newest pinned keyblock this peer received: structurally
		 * valid, but with a garbage pin certificate, as a Byzantine peer would. Returns false while no
		 * keyblock has arrived yet.
		 */
		forgeKeyblocks: async (count: number) => {
			if (!lastKeyblock) return false;
			const real = lastKeyblock;
			for (let i = 0; i < count; i++)
				await net?.publish(
					'keyblocks',
					encodeKeyblock({
						...real,
						header: {
							...real.header,
							height: real.header.height + 1,
							prev: keyblockHash(real.header),
							nonce: BigInt(i)
						},
						pin: new Uint8Array(200).fill(7)
					})
				);
			return true;
		},
		messages: () => received,
		peers: () => net?.peers() ?? [],
		connections: () => net?.connections() ?? [],
		stopRelay: async () => {
			await relay?.stop();
			relay = undefined;
		},
		exit: async () => {
			await net?.stop();
			await relay?.stop();
			process.exit(0);
		}
	};
	createInterface({ input: process.stdin }).on('line', (line) => {
		const { id, cmd, args } = JSON.parse(line) as { id: number; cmd: string; args: never[] };
		Promise.resolve()
			.then(() => {
				const command = commands[cmd];
				if (!command) throw new Error(`unknown command ${cmd}`);
				return command(...args);
			})
			.then(
				(result) => process.stdout.write(`REPLY ${JSON.stringify({ id, result: result ?? null })}\n`),
				(error: Error) => process.stdout.write(`REPLY ${JSON.stringify({ id, error: error.message })}\n`)
			);
	});
	process.stdin.on('end', () => void commands.exit!());
	process.stdout.write(
		`READY ${JSON.stringify({ relay: relay?.addresses ?? bootstrap, nodePeer: net?.peerId ?? '' })}\n`
	);
}

if (process.argv.includes('--serve')) void serve();
