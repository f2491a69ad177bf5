/**
 * An attachment from the clinic's store to the patient's phone over real libp2p on loopback, with the
 * real parts on both sides (the import that takes a 5 MB PDF out of a visit, the record sealed and held
 * by the Holder, its chunks sealed and stored, the attachment protocol streaming them, the phone opening
 * and checking them): it arrives intact with progress; only the record's patient, or a clinic under the
 * patient's consent for that record, may fetch it, once per signed request, and each release is in the
 * patient's access log; a chunk changed in the clinic's store is refused with a sentence; nothing is left
 * open (far more fetches than libp2p's 64 streams per protocol); removed, the attachment is gone.
 */
import '../node/polyfills.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from '@noble/hashes/utils.js';
import { devGenesis } from '../../../tests/fixtures/genesis-dev.ts';
import { makePdf, visitBundle } from '../../../tests/fixtures/fhir/visit.ts';
import { equalBytes } from '../core/bytes.ts';
import { Ledger } from '../core/chain.ts';
import { createAccessRequest, type AccessAuthority } from '../core/access-request.ts';
import { createConsent, consentId } from '../core/consent.ts';
import { generateSigningKey, publicKeyOf } from '../core/identity.ts';
import { createPeerNet } from '../net/peer-net.node.ts';
import type { PeerNet } from '../net/peer-net.ts';
import type { AttachmentRef } from '../records/attachment.ts';
import {
	deriveRecordKey,
	generateMasterKey,
	issueRecordKey,
	sealRecord,
	signRecordContent,
	type RecordHeader
} from '../records/envelope.ts';
import { planImport, type PlannedAttachment } from '../records/fhir.ts';
import { openMemoryStore } from '../store/memory-store.ts';
import type { Store } from '../store/store.ts';
import { fetchAttachment } from './attachment-fetch.ts';
import { Holder } from './holder.ts';

const limits = { requestsPerSecond: 100_000, requestBurst: 100_000 };
const clinicKey = generateSigningKey().secretKey;
const clinic = publicKeyOf(clinicKey);
const patientKey = generateSigningKey().secretKey;
const patient = publicKeyOf(patientKey);
const masterKey = generateMasterKey();

let server: PeerNet;
let client: PeerNet;
let store: Store;
let holder: Holder;
let recordId: Uint8Array;
let header: RecordHeader;
let digest: Uint8Array;
let pdf: PlannedAttachment;

beforeAll(async () => {
	server = await createPeerNet({ bootstrap: [], limits });
	client = await createPeerNet({ bootstrap: server.addresses(), limits: { ...limits, maxPeers: 1 } });
	store = openMemoryStore();
	holder = new Holder({
		store,
		net: server,
		ledger: new Ledger(devGenesis()),
		institution: { id: clinic, secretKey: clinicKey }
	});
	// The clinic's side of an import, as ClinicSession.write does it once the patient approved.
	const plan = await planImport(JSON.stringify(visitBundle({ pdfBytes: 5_000_000 })), 'spp1-test');
	pdf = plan.attachments[0]!;
	const issued = issueRecordKey(masterKey, patient, clinic);
	header = issued.header;
	await holder.attachments.put(header, issued.key, pdf.hash, pdf.content);
	const content = signRecordContent(
		header,
		{ resource: JSON.stringify(plan.record), authoredAt: Date.now() },
		clinicKey
	);
	const sealed = await sealRecord(header, issued.key, holder.keys.storageKey, content);
	digest = sealed.digest;
	await holder.put({
		digest,
		patient,
		sealed: sealed.bytes,
		recordKey: issued.key,
		r: 1n,
		kind: 'medical',
		transactionId: (recordId = randomBytes(32)),
		summary: plan.summary,
		createdAt: Date.now()
	});
}, 120_000);

afterAll(async () => {
	await Promise.all([client?.stop(), server?.stop()]);
});

/** The phone's fetch of the PDF, signed by `signer` (the patient unless said otherwise). */
function fetchPdf(
	options: {
		signer?: Uint8Array;
		authority?: AccessAuthority;
		nonce?: Uint8Array;
		onProgress?: (f: number) => void;
		signal?: AbortSignal;
	} = {}
) {
	const signer = options.signer ?? patientKey;
	const access = createAccessRequest(
		{
			holder: clinic,
			digest,
			authority: options.authority ?? { kind: 'patient' },
			time: Date.now(),
			nonce: options.nonce
		},
		signer,
		publicKeyOf(signer)
	);
	const ref: AttachmentRef = { hash: pdf.hash, size: pdf.size, contentType: pdf.contentType };
	return fetchAttachment({
		net: client,
		peer: server.peerId,
		request: { access, hash: pdf.hash },
		header,
		recordKey: deriveRecordKey(masterKey, header),
		ref,
		onProgress: (p) => options.onProgress?.(p.fraction ?? 0),
		signal: options.signal
	});
}

describe('an attachment travels from the clinic to the phone', () => {
	it('connects the phone to the clinic', async () => {
		await expect.poll(() => client.peers(), { timeout: 60_000, interval: 200 }).toContain(server.peerId);
	}, 70_000);

	it('a 5 MB PDF arrives intact, in 20 chunks, with progress', async () => {
		const fractions: number[] = [];
		const blob = await fetchPdf({ onProgress: (f) => fractions.push(f) });
		expect(blob.type).toBe('application/pdf');
		expect(equalBytes(new Uint8Array(await blob.arrayBuffer()), makePdf(5_000_000))).toBe(true);
		expect(fractions).toHaveLength(20);
		expect(fractions.at(-1)).toBe(1);
	}, 120_000);

	it('only the patient may fetch it, and a signed request serves once', async () => {
		await expect(fetchPdf({ signer: generateSigningKey().secretKey })).rejects.toThrow(
			"only the record's patient, or an institution the patient consented to, can fetch it"
		);
		const nonce = randomBytes(16);
		await fetchPdf({ nonce });
		await expect(fetchPdf({ nonce })).rejects.toThrow('this request was already answered');
	}, 120_000);

	it('a clinic the patient consented to fetches it too; each release is logged, naming the attachment', async () => {
		const grantee = generateSigningKey().secretKey;
		const consent = (scope: Uint8Array[]) =>
			createConsent(
				{
					patient,
					grantee: publicKeyOf(grantee),
					scope,
					purpose: 'Second opinion',
					issuedAt: Date.now() - 1000,
					expiresAt: Date.now() + 86_400_000
				},
				patientKey
			);
		const logged = (await holder.accessLog(patient)).length;
		const covering = consent([recordId]);
		const blob = await fetchPdf({ signer: grantee, authority: { kind: 'consent', consent: covering } });
		expect(equalBytes(new Uint8Array(await blob.arrayBuffer()), makePdf(5_000_000))).toBe(true);
		await expect(
			fetchPdf({ signer: grantee, authority: { kind: 'consent', consent: consent([randomBytes(32)]) } })
		).rejects.toThrow('the consent does not cover this record');
		const log = (await holder.accessLog(patient)).slice(logged);
		expect(log).toHaveLength(1);
		expect(log[0]).toMatchObject({
			requester: publicKeyOf(grantee),
			record: recordId,
			digest,
			attachment: pdf.hash,
			authority: { kind: 'consent', consentId: consentId(covering), grantee: publicKeyOf(grantee) }
		});
		// The patient's own fetches are logged the same way.
		await fetchPdf();
		expect((await holder.accessLog(patient)).at(-1)).toMatchObject({
			requester: patient,
			attachment: pdf.hash,
			authority: { kind: 'patient' }
		});
	}, 120_000);

	it('a chunk changed in the clinic store is refused with a sentence naming the part', async () => {
		const chunks = await store.list('ciphertexts', { from: '~attachment:' });
		expect(chunks).toHaveLength(21); // 20 chunks of 256 KiB and the index row
		const [key, original] = chunks[3]!;
		const changed = original.slice();
		changed[100]! ^= 1;
		await store.write([{ table: 'ciphertexts', key, value: changed }]);
		await expect(fetchPdf()).rejects.toThrow(
			"part 3 of 20 of the attachment is damaged in this institution's store"
		);
		await store.write([{ table: 'ciphertexts', key, value: original }]);
		expect((await fetchPdf()).size).toBe(pdf.size);
	}, 120_000);

	it('fetches stopped after their first chunk leave no stream open: 80 of them, then one completes', async () => {
		for (let i = 0; i < 80; i++) {
			const controller = new AbortController();
			const stop = () => controller.abort(new Error('the person closed the page'));
			await expect(fetchPdf({ signal: controller.signal, onProgress: stop })).rejects.toThrow(
				'the person closed the page'
			);
		}
		expect((await fetchPdf()).size).toBe(pdf.size);
	}, 300_000);

	it('removed (the patient declined its record), no chunk is left and a fetch is refused, unlogged', async () => {
		await holder.attachments.remove(header, pdf.hash);
		expect(await store.list('ciphertexts', { from: '~attachment:' })).toEqual([]);
		const logged = (await holder.accessLog(patient)).length;
		await expect(fetchPdf()).rejects.toThrow('this institution holds no such attachment for the record');
		expect(await holder.accessLog(patient)).toHaveLength(logged);
	}, 120_000);
});
