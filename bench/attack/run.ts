/** Entry of the attack bench in a Node with WebSockets (see bench/attack.bench.ts). */
import '../../src/lib/node/polyfills.ts';
import { runAttackBench } from '../attack.bench.ts';

await runAttackBench();
process.exit(0);
