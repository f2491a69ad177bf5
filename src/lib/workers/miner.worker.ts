/// <reference lib="webworker" />
// Browser Web Worker that mines keyblocks (protocol: src/lib/mining/protocol.ts).
import { createMiner } from '../mining/miner.ts';
import type { ToMiner } from '../mining/protocol.ts';

const handle = createMiner((message) => self.postMessage(message));
self.onmessage = (event: MessageEvent<ToMiner>) => handle(event.data);
