/**
 * The attackers of the attack bench in a process of their own, so their CPU and memory (one libp2p
 * node per identity, the flood itself) are not counted as, and do not starve, the honest nodes'.
 * Commands arrive as JSON lines on stdin; answers go out as `ATTACK {json}` lines on stdout:
 * - `{ type: 'view', height, batches }`: what the attackers know of the chain (a watcher's view);
 * - `{ type: 'prepare', bootstrap, identities, members }`: start that many fresh identities and connect
 *   them to `members` peers → `{ type: 'ready', ids }`;
 * - `{ type: 'flood', kinds, perSecond, until, warmUp }`: identity i floods kinds[i % kinds.length]
 *   until `until` (after `warmUp` ms of listening, for replay) → `{ type: 'done', sent }`, and the
 *   identities stop.
 */
import '../../src/lib/node/polyfills.ts';
import { createInterface } from 'node:readline';
import { devGenesis, devInstitution } from '../../tests/fixtures/genesis-dev.ts';
import { Attacker } from './attacker.ts';
import { ATTACK_PREFIX, MEMBER_NAMES, type AttackCommand } from './protocol.ts';

const send = (message: object) => process.stdout.write(`${ATTACK_PREFIX}${JSON.stringify(message)}\n`);

const genesis = devGenesis();
const clinics = MEMBER_NAMES.map(devInstitution);
const chain = { height: 0, batches: 0 };
const view = { height: () => chain.height, batches: () => chain.batches };
let crowd: Attacker[] = [];

async function handle(command: Exclude<AttackCommand, { type: 'view' }>): Promise<void> {
	if (command.type === 'prepare') {
		crowd = await Promise.all(
			Array.from({ length: command.identities }, () =>
				Attacker.start(command.bootstrap, genesis, clinics, view)
			)
		);
		const deadline = Date.now() + 30_000;
		while (Date.now() < deadline && crowd.some((a) => a.net.connections().length < command.members))
			await new Promise((resolve) => setTimeout(resolve, 250));
		send({ type: 'ready', ids: crowd.map((a) => a.net.peerId) });
		return;
	}
	await new Promise((resolve) => setTimeout(resolve, command.warmUp));
	const sent = await Promise.all(
		crowd.map((a, i) => a.flood(command.kinds[i % command.kinds.length]!, command.perSecond, command.until))
	);
	await Promise.allSettled(crowd.map((a) => a.stop()));
	crowd = [];
	send({ type: 'done', sent: sent.reduce((sum, n) => sum + n, 0) });
}

// Views apply at once (a flood reads them while it runs); the other commands run in turn.
let work: Promise<void> = Promise.resolve();
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
	const command = JSON.parse(line) as AttackCommand;
	if (command.type === 'view') Object.assign(chain, command);
	else work = work.then(() => handle(command));
});
lines.on('close', () => void work.finally(() => process.exit(0)));
