/**
 * The control object the node check page puts on `window.nodeDiagnostics` (used by the browser tests):
 * the explorer's views of this page's full node, plus what the tests check against the chain itself —
 * where each record transaction of a patient points and whether it is pinned and attached, what waits in
 * the mempool — and probes over the real network: a sync from the node of a given institution (an
 * institution keeps its own attachments, which reach others by gossip once), a register transaction of a
 * fresh patient, built and signed here and submitted through the node (gossiped like any patient's), and
 * an access request to a holder signed with the key the caller hands in (a test's institution), which
 * reports the holder's answer or its refusal.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { bytesToHex, fromHex } from '$lib/core/bytes.ts';
import { createAccessRequest, encodeAccessRequest, type AccessAuthority } from '$lib/core/access-request.ts';
import { encodeCanonical } from '$lib/core/encoding.ts';
import { generateSigningKey, parseAddress, publicKeyOf } from '$lib/core/identity.ts';
import { signTransaction, transactionId, type RegisterBody } from '$lib/core/transaction.ts';
import { Directory } from '$lib/app/directory.ts';
import type { ExplorerSession } from '$lib/app/types.ts';
import { institutionView } from '$lib/app/views.ts';
import { PROTOCOLS } from '$lib/app/wire.ts';
import type { PeerNet } from '$lib/net/peer-net.ts';
import { decodeShareBundle, decodeAccessResponse } from '$lib/records/share.ts';
import { syncFrom } from '$lib/runtime/chain-sync.ts';
import type { FullNode } from '$lib/runtime/full-node.ts';

export interface ChainRecord {
	/** Transaction id (hex). */
	id: string;
	kind: 'medical' | 'label';
	/** The institution that wrote it and holds its ciphertext: name and id (hex). */
	holderName: string;
	holder: string;
	/** Content address of the ciphertext the chain points at (hex). */
	digest: string;
	pinned: boolean;
	attached: boolean;
}

export type FetchOutcome =
	{ ok: true; bytes: number } | { ok: false; name: string; message: string; protocol?: string };

export function createNodeDiagnostics(session: ExplorerSession, node: FullNode, net: PeerNet) {
	const { ledger } = node.chain;
	// Founders and admitted institutions alike.
	const consortium = { institutions: ledger.registry.all };
	// Speaks for nobody; only finds who speaks for a holder (made on the first probe).
	let directory: Directory | undefined;
	const locate = async (institution: Uint8Array, timeoutMs = 60_000) => {
		directory ??= new Directory(net, () => []);
		const peer = await directory.locate(institution, timeoutMs);
		if (!peer) throw new Error(`${institutionView(consortium, institution).name} is not reachable`);
		return peer;
	};
	const patientKey = (patient: string) =>
		patient.startsWith('spp') ? parseAddress(patient, 'patient') : fromHex(patient, 32);

	return {
		view: () => session.node(),
		keyblocks: (limit = 5) => session.keyblocks({ limit }),
		patientBlocks: () => session.patientBlocks(),
		connections: () => net.connections(),

		/** Record transactions of a patient on this node's chain (an unknown patient: none). */
		records(patient: string): ChainRecord[] {
			const block = ledger.patientBlock(patientKey(patient));
			return (block?.leaves ?? []).flatMap((leaf) =>
				leaf.entries.map(({ tx }) => {
					const id = transactionId(tx.body);
					return {
						id: bytesToHex(id),
						kind: tx.body.kind,
						holderName: institutionView(consortium, tx.body.record.pointer.holder).name,
						holder: bytesToHex(tx.body.record.pointer.holder),
						digest: bytesToHex(tx.body.record.pointer.digest),
						pinned: node.chain.isPinned(id),
						attached: ledger.recordLocation(id) !== undefined
					};
				})
			);
		},

		/** Where a transaction stands on this node: pinned, attached to a patient block, waiting here. */
		transaction(id: string) {
			const bytes = fromHex(id, 32);
			return {
				pinned: node.chain.isPinned(bytes),
				attached: ledger.recordLocation(bytes) !== undefined,
				inMempool: node.mempool.has(bytes)
			};
		},

		/** Pulls (and verifies) the journal of the node speaking for the institution named; facts applied. */
		async syncFrom(institution: string): Promise<number> {
			const id = ledger.registry.all.find((i) => i.name === institution)?.id;
			if (!id) throw new Error(`${institution} is not an institution of this consortium`);
			return (await syncFrom(net, node.chain, await locate(id, 15_000))).applied;
		},

		/** Registers a fresh patient (a new key, a salted identity commitment) through this node; its id. */
		async submitRegister(): Promise<string> {
			const secretKey = generateSigningKey().secretKey;
			const body: RegisterBody = {
				kind: 'register',
				patient: publicKeyOf(secretKey),
				institution: ledger.genesis.institutions[0]!.id,
				round: ledger.height,
				fees: ledger.genesis.fees.register,
				identity: sha256(
					encodeCanonical({ name: 'Diagnostics', birthDate: '2000-01-01', salt: randomBytes(32) })
				)
			};
			return bytesToHex(await node.submit(signTransaction(body, secretKey)));
		},

		/**
		 * Asks `holder` (hex id) for the ciphertext at `digest` (hex) as the institution `requester` (its id
		 * and signing secret, hex, as the test holds them): under patient authority (which only the patient has), or under the consent of a share
		 * bundle (hex, as the grantee received it).
		 */
		async fetchCiphertext(options: {
			requester: { id: string; signingKey: string };
			holder: string;
			digest: string;
			shareBundle?: string;
		}): Promise<FetchOutcome> {
			const holder = fromHex(options.holder, 32);
			const authority: AccessAuthority = options.shareBundle
				? { kind: 'consent', consent: decodeShareBundle(fromHex(options.shareBundle)).consent }
				: { kind: 'patient' };
			const peer = await locate(holder);
			const request = createAccessRequest(
				{ holder, digest: fromHex(options.digest, 32), authority, time: Date.now() },
				fromHex(options.requester.signingKey, 32),
				fromHex(options.requester.id, 32)
			);
			try {
				for await (const frame of net.request(peer, PROTOCOLS.ciphertext, encodeAccessRequest(request)))
					return { ok: true, bytes: decodeAccessResponse(frame).sealed.length };
				return { ok: false, name: 'Error', message: 'no answer' };
			} catch (error) {
				const e = error as Error & { protocol?: string };
				return { ok: false, name: e.name, message: e.message, protocol: e.protocol };
			}
		}
	};
}

export type NodeDiagnostics = ReturnType<typeof createNodeDiagnostics>;
