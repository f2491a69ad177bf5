// Node worker_threads sibling of miner.worker.ts (headless clinic nodes): same protocol.
import { parentPort } from 'node:worker_threads';
import { createMiner } from '../mining/miner.ts';
import type { ToMiner } from '../mining/protocol.ts';

const port = parentPort!;
const handle = createMiner((message) => port.postMessage(message));
port.on('message', (message: ToMiner) => handle(message));
