/**
 * Issuing a key rotation on a running consortium (real libp2p on loopback), the way a headless
 * clinic's operator does it: request files in the clinic's data directory (node/operator-requests.ts,
 * what `npm run consortium -- rotate | approve` writes). Aster asks; Birch runs ADMISSION=manual and
 * keeps the rotation until its operator approves it by file; with Cedar's open approval and Aster's own,
 * the group's quorum certifies it, a keyblock carries it, and Aster's miner then signs with the new key,
 * which its keystore holds encrypted.
 */
import '../node/polyfills.ts';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { targetForExpectedHashes, type DevInstitution } from '../../../tests/fixtures/genesis-dev.ts';
import { clinics, testGenesis } from '../../../tests/fixtures/chain.ts';
import { bytesToHex, equalBytes } from '../core/bytes.ts';
import { publicKeyOf } from '../core/identity.ts';
import { loadVerificationKey } from '../crypto/artifacts.node.ts';
import { Groth16BatchVerifier } from '../crypto/batch-verifier.ts';
import { createNodeProver } from '../crypto/prover.node.ts';
import { institutionRole } from '../institution/institution-node.ts';
import { loadInstitutionSecrets, saveInstitutionIdentity } from '../keys/secrets.ts';
import { MinerPool } from '../mining/pool.ts';
import { spawnMiner } from '../mining/spawn.node.ts';
import { servePeerDirectory } from '../net/directory.ts';
import { createPeerNet } from '../net/peer-net.node.ts';
import { openKeystore } from '../node/keystore.ts';
import {
	APPLICATIONS_FILE,
	REQUESTS_DIR,
	ROTATE_REQUEST,
	ROTATION_FILE,
	watchOperatorRequests,
	type PendingView
} from '../node/operator-requests.ts';
import { openMemoryStore } from '../store/memory-store.ts';
import { startRelay } from '../../../relay/relay.ts';
import { AdmissionDesk, type AdmissionPolicy } from './admission.ts';
import { FullNode } from './full-node.ts';

const genesis = testGenesis({
	timestamp: Date.now() - 60_000,
	epochLength: 100,
	initialTarget: targetForExpectedHashes(1n << 16n)
});
const [aster, birch, cedar] = clinics as [DevInstitution, DevInstitution, DevInstitution];
const TIMEOUTS = { propose: 1500, prevote: 800, precommit: 800, increment: 300, resend: 1000 };
const PASSPHRASE = 'rotation test passphrase';
const cleanup: (() => Promise<unknown> | unknown)[] = [];

interface Member {
	node: FullNode;
	desk: AdmissionDesk;
	dir: string;
}

async function member(clinic: DevInstitution, policy: AdmissionPolicy, bootstrap: string[]): Promise<Member> {
	const env = {
		net: await createPeerNet({ bootstrap }),
		pool: new MinerPool({ workers: 1, spawn: spawnMiner }),
		dir: await mkdtemp(join(tmpdir(), 'spchain-rotation-'))
	};
	cleanup.push(
		() => env.net.stop(),
		() => env.pool.terminate(),
		() => rm(env.dir, { recursive: true })
	);
	const node = await FullNode.start({
		genesis,
		store: openMemoryStore(),
		net: env.net,
		verifier: await Groth16BatchVerifier.create(await loadVerificationKey()),
		timeouts: TIMEOUTS,
		institution: institutionRole(clinic, prover, env.pool)
	});
	cleanup.unshift(() => node.stop());
	const desk = new AdmissionDesk({ node, id: clinic.institution.id, blsKey: clinic.secrets.blsKey, policy });
	return { node, desk, dir: env.dir };
}

let prover: Awaited<ReturnType<typeof createNodeProver>>;
let members: Member[];

beforeAll(async () => {
	const relay = await startRelay({ port: 0 });
	await servePeerDirectory(relay.node);
	prover = await createNodeProver();
	cleanup.push(
		() => relay.stop(),
		() => prover.close()
	);
	members = [
		await member(aster, 'open', relay.addresses),
		await member(birch, 'manual', relay.addresses),
		await member(cedar, 'open', relay.addresses)
	];
}, 120_000);

afterAll(async () => {
	for (const step of cleanup) await Promise.resolve(step()).catch(() => undefined);
}, 60_000);

const until = async (what: string, ready: () => Promise<boolean> | boolean, ms = 240_000) => {
	const end = Date.now() + ms;
	while (!(await ready())) {
		if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 250));
	}
};

describe('a headless clinic rotates its signing key through request files', () => {
	it('has the group certify the rotation and then mines with the new key', async () => {
		const [asterNode, birchNode] = members as [Member, Member, Member];
		const logs: string[] = [];
		// Aster's keystore, as a headless clinic keeps it in its data directory.
		const keystore = { dir: asterNode.dir, passphrase: PASSPHRASE, cost: { N: 1024 } };
		const vault = await openKeystore(keystore);
		await saveInstitutionIdentity(vault.vault, aster.institution.name, aster.secrets);
		await vault.close();
		for (const [m, clinic] of [
			[asterNode, aster],
			[birchNode, birch]
		] as const)
			cleanup.unshift(
				await watchOperatorRequests({
					dir: m.dir,
					desk: m.desk,
					node: m.node,
					identity: clinic,
					everyMs: 200,
					retryMs: 1000,
					log: (line) => logs.push(`${clinic.institution.name}: ${line}`),
					save: async (secrets) => {
						const opened = await openKeystore(keystore);
						await saveInstitutionIdentity(opened.vault, clinic.institution.name, secrets);
						await opened.close();
					}
				})
			);
		for (const m of members) m.node.startMining();
		await until('the first pinned keyblock', () => asterNode.node.chain.height >= 1);

		// The operator asks for a rotation (npm run consortium -- rotate --data <dir>).
		await writeFile(join(asterNode.dir, REQUESTS_DIR, ROTATE_REQUEST), '');
		// Birch keeps it for its operator, who lists it and approves it by its hash.
		let waiting: PendingView[] = [];
		await until('the rotation waiting at Birch', async () => {
			waiting = JSON.parse(await readFile(join(birchNode.dir, APPLICATIONS_FILE), 'utf8')) as PendingView[];
			return waiting.length > 0;
		});
		expect(waiting[0]).toMatchObject({ kind: 'rotate', name: aster.institution.name });
		await writeFile(join(birchNode.dir, REQUESTS_DIR, `approve-${waiting[0]!.hash}`), '');

		const registered = () => asterNode.node.chain.ledger.registry.byId(aster.institution.id)!;
		await until('the rotation in force', () => registered().keys.length === 2);
		const { key: newKey, from } = registered().keys[1]!;
		// Every node holds the same key history.
		for (const m of members)
			await until(
				'every node to apply the rotation',
				() => m.node.chain.ledger.registry.byId(aster.institution.id)!.keys.length === 2
			);
		const rotation = JSON.parse(await readFile(join(asterNode.dir, ROTATION_FILE), 'utf8')) as {
			state: string;
			key?: string;
		};
		await until('rotation.json to report it', async () => {
			const now = JSON.parse(await readFile(join(asterNode.dir, ROTATION_FILE), 'utf8')) as { state: string };
			return now.state === 'in-force';
		});
		expect(['requested', 'applying', 'submitted', 'in-force']).toContain(rotation.state);

		// The new secret is in Aster's keystore (encrypted at rest), and it is the key in force.
		const reopened = await openKeystore(keystore);
		const stored = await loadInstitutionSecrets(reopened.vault);
		await reopened.close();
		expect(stored!.rotatedSigningKeys!.map((k) => bytesToHex(publicKeyOf(k)))).toEqual([bytesToHex(newKey)]);

		// Aster's miner signs its next pinned keyblock with the new key.
		const { ledger } = asterNode.node.chain;
		const minedByAster = () => {
			for (let h = from; h <= ledger.height; h++)
				if (equalBytes(ledger.minerOf(ledger.keyblock(h)!.block.header), aster.institution.id)) return h;
			return undefined;
		};
		await until('a keyblock mined by Aster after the rotation', () => minedByAster() !== undefined);
		expect(ledger.keyblock(minedByAster()!)!.block.header.miner).toEqual(newKey);
		expect(logs.some((l) => l.includes('approved'))).toBe(true);
	}, 420_000);
});
