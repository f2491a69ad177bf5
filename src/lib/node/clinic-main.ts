/**
 * `npm start` runs this beside the relay: the headless clinics of this data directory's consortium. On
 * the first start each clinic makes its own keys (node/keystore.ts) and together they found the chain
 * (node/local-consortium.ts), writing `<DATA_DIR>/genesis.json`; later starts load the same keys and
 * genesis. Each clinic is a whole institution node: it mines, votes in the consensus group, pins
 * keyblocks and transaction batches, holds the records it writes, answers access requests and receives
 * shares. The network file names the genesis so pages load it.
 *
 * Configuration (environment): RELAY_ADDRESS_FILE (default .data/network.json, written by the relay),
 * CLINICS (default "Aster Clinic,Birch Hospital,Cedar Health,Dogwood Medical": a consensus group of
 * four tolerates one fault), CLINIC_PORT_BASE (9101; 0 for any free ports), DATA_DIR (.data),
 * GENESIS_FILE (<DATA_DIR>/genesis.json), SPCHAIN_PASSPHRASE (protects the keystores; else each clinic
 * has a key file in its directory), MINERS per clinic (1), MINING_DUTY (0.25: share of time each
 * clinic's miners hash).
 */
import './polyfills.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex } from '../core/bytes.ts';
import { genesisFingerprint } from '../core/genesis.ts';
import { startClinicNode, type ClinicNode } from './clinic-node.ts';
import { loadOrFoundConsortium } from './local-consortium.ts';
import { admissionPolicy } from '../institution/institution-admission.ts';

const dataDir = process.env.DATA_DIR ?? '.data';
const networkFile = process.env.RELAY_ADDRESS_FILE ?? join(dataDir, 'network.json');
const names = (process.env.CLINICS ?? 'Aster Clinic,Birch Hospital,Cedar Health,Dogwood Medical')
	.split(',')
	.map((s) => s.trim());
const portBase = Number(process.env.CLINIC_PORT_BASE ?? 9101);
const miners = Number(process.env.MINERS ?? 1);
// Several nodes share this machine with the visitor's browser: each mines a quarter of the time.
const miningDuty = Number(process.env.MINING_DUTY ?? 0.25);
// The demo admits any well-formed application; a real consortium runs ADMISSION=manual.
const admission = admissionPolicy(process.env.ADMISSION, 'open');

async function relayAddresses(): Promise<string[]> {
	for (let attempt = 0; attempt < 100; attempt++) {
		try {
			const network = JSON.parse(readFileSync(networkFile, 'utf8')) as { relay?: string[] };
			if (network.relay?.length) return network.relay;
		} catch {
			// the relay has not written its address yet
		}
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
	throw new Error(`no relay address in ${networkFile}: start the relay first (npm run relay)`);
}

const QUIET_TOPICS = new Set(['keyblocks', 'consensus']);
const consortium = await loadOrFoundConsortium({
	dataDir,
	names,
	genesisFile: process.env.GENESIS_FILE,
	passphrase: process.env.SPCHAIN_PASSPHRASE || undefined
});
const { genesis } = consortium;
console.log(
	`${consortium.founded ? 'Founded' : 'Loaded'} consortium ${genesis.network} (genesis ${genesisFingerprint(genesis)}) in ${consortium.genesisFile}`
);
const bootstrap = await relayAddresses();
const clinics: ClinicNode[] = [];
for (const [index, { name, dir, identity }] of consortium.clinics.entries()) {
	const clinic = await startClinicNode({
		genesis,
		clinic: identity,
		dataDir: dir,
		bootstrap,
		listen: [`/ip4/127.0.0.1/tcp/${portBase === 0 ? 0 : portBase + index}/ws`],
		miners,
		miningDuty,
		admission,
		passphrase: process.env.SPCHAIN_PASSPHRASE || undefined
	});
	if (clinic.node.chain.discardedFacts > 0)
		console.log(
			`${name}: dropped ${clinic.node.chain.discardedFacts} stored facts written by an older version; syncing the chain again`
		);
	clinic.node.on((event) => {
		if (event.type === 'error') console.log(`${name}: ${event.message}`);
		// Keyblock and vote races are routine; a refused record, pin or attachment is worth a line.
		if (event.type === 'refused' && (event.blamed || !QUIET_TOPICS.has(event.topic)))
			console.log(`${name}: refused from ${event.topic}: ${event.code}: ${event.message}`);
		if (event.type !== 'fact') return;
		const { fact } = event;
		if (fact.type === 'keyblock') {
			console.log(`${name}: keyblock ${fact.block.header.height} pinned`);
			for (const registered of fact.block.registry ?? [])
				if (registered.type === 'admit')
					console.log(`${name}: ${registered.application.institution.name} admitted to the consortium`);
				else console.log(`${name}: a signing key rotation is in force from the next keyblock`);
		} else if (fact.type === 'batch')
			console.log(
				`${name}: batch ${fact.pinned.sequence} pinned (${fact.pinned.batch.transactions.length} records)`
			);
		else if (fact.type === 'handover')
			console.log(
				`${name}: consensus group of epoch ${fact.handover.epoch}: ${fact.handover.members.length} members`
			);
		else if (fact.type === 'evidence')
			console.log(
				`${name}: evidence recorded: member ${bytesToHex(fact.evidence.first.sender).slice(0, 12)} equivocated at ${fact.evidence.first.kind} height ${fact.evidence.first.height}`
			);
	});
	clinics.push(clinic);
	console.log(`${name} listening on ${clinic.addresses().join(' ')}`);
}
// Browsers dial the clinics directly too (WebSockets on loopback), not only through the relay.
const network = JSON.parse(readFileSync(networkFile, 'utf8')) as Record<string, unknown>;
network.clinics = clinics.map((clinic, i) => ({ name: names[i], addresses: clinic.addresses() }));
// Pages fetch the genesis from the PWA's origin (scripts/serve.mjs serves this file there).
network.genesis = '/genesis.json';
writeFileSync(networkFile, JSON.stringify(network, null, 2));
for (const clinic of clinics) clinic.node.startMining();

const shutdown = async () => {
	await Promise.allSettled(clinics.map((clinic) => clinic.stop()));
	process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
