/**
 * The patient's consents (paper §5.3 Share) and their outbox. A consent is kept on the device and stays
 * "pending" until the grantee acknowledged the shared records, so a failed share is not shown as given;
 * its sealed bundle is kept and sent again by `deliver` until the grantee takes it (a grantee that was
 * unreachable, dropped the stream, or refused because its chain did not hold a record yet). A revocation
 * is due to the grantee and every holder of the patient's records until each one confirmed it (or refused
 * it: it had heard). `deliver` runs whenever an institution comes online, when the app opens and, while a
 * share is pending, as the chain moves on; the consent's view says who has not received what (docs/privacy.md).
 */
import { bytesToHex, fromHex, type Bytes } from '../../core/bytes.ts';
import {
	consentId,
	createConsent,
	createRevocation,
	decodeConsent,
	decodeRevocation,
	encodeConsent,
	encodeRevocation,
	isConsentActive,
	type Consent,
	type Revocation
} from '../../core/consent.ts';
import type { PublicKey } from '../../core/identity.ts';
import { decodeShareBundle, encodeShareBundle, sealShare, type ShareBundle } from '../../records/share.ts';
import type { Store } from '../../store/store.ts';
import { AppError, type ConsentView, type InstitutionView, type OnProgress } from '../types.ts';
import { findInstitution, institutionView, type Consortium } from '../views.ts';

/** `consent-pending:<consent id>`: a share not acknowledged yet; its sealed bundle, or empty before sealing. */
const PENDING_PREFIX = 'consent-pending:';
const PENDING_END = 'consent-pending;';
/** `revocation-due:<consent id>:<institution id>`: a revocation that institution has not confirmed. */
const DUE_PREFIX = 'revocation-due:';
const DUE_END = 'revocation-due;';

type SharedRecords = Parameters<typeof sealShare>[0]['records'];

export interface ConsentBookOptions {
	store: Store;
	/** The genesis, or the registry the chain derives (admitted institutions too). */
	genesis: Consortium;
	clock: () => number;
	patient: { publicKey: PublicKey; secretKey: Bytes };
	/** The institutions holding the patient's records (each must hear of a revocation). */
	holders(): PublicKey[];
	/** The records in `scope`, fetched from their holders under `consent`. */
	collect(consent: Consent, scope: 'all' | string[], onProgress: OnProgress): Promise<SharedRecords>;
	/** Delivers to an institution; throws AppError 'refused' when it answered no, another error when unreachable. */
	send(institution: PublicKey, message: { share: ShareBundle } | { revoke: Revocation }): Promise<void>;
	changed(): void;
}

export class ConsentBook {
	private delivering: Promise<void> | undefined;
	/** Set by a `deliver` call made while a run was under way. */
	private deliverAgain = false;
	/** Consents `share` is sealing or sending now: a delivery run leaves them to it. */
	private readonly sharing = new Set<string>();
	/** Whether a share was left unacknowledged (unknown, so true, until the first run looked). */
	private unacknowledged = true;

	constructor(private readonly options: ConsentBookOptions) {}

	async consents(): Promise<ConsentView[]> {
		const { store } = this.options;
		const revocations = await this.revocations();
		const due = await this.due();
		const pending = new Set(
			(await store.list('meta', { from: PENDING_PREFIX, to: PENDING_END })).map(([key]) =>
				key.slice(PENDING_PREFIX.length)
			)
		);
		const consents = (await store.list('meta', { from: 'consent:', to: 'consent;' })).map(([, bytes]) =>
			decodeConsent(bytes)
		);
		return consents
			.map((c) => this.view(c, revocations, due, pending))
			.sort((a, b) => b.issuedAt - a.issuedAt);
	}

	async share(
		options: { institution: string; scope: 'all' | string[]; purpose: string; days: number },
		onProgress: OnProgress = () => {}
	): Promise<ConsentView> {
		const { store, clock, patient } = this.options;
		const grantee = findInstitution(this.options.genesis, options.institution);
		if (!grantee) throw new AppError('institution', 'Choose an institution of the consortium to share with.');
		const now = clock();
		const consent = createConsent(
			{
				patient: patient.publicKey,
				grantee,
				scope: options.scope === 'all' ? 'all' : options.scope.map((id) => fromHex(id, 32)),
				purpose: options.purpose,
				issuedAt: now,
				expiresAt: now + Math.max(1, options.days) * 86_400_000
			},
			patient.secretKey
		);
		const id = bytesToHex(consentId(consent));
		this.sharing.add(id);
		try {
			// Pending until the institution acknowledged the records: a failed share is not shown as given.
			await store.write([
				{ table: 'meta', key: `consent:${id}`, value: encodeConsent(consent) },
				{ table: 'meta', key: `${PENDING_PREFIX}${id}`, value: new Uint8Array(0) }
			]);
			const bundle = await this.seal(consent, onProgress);
			await this.send(consent, bundle);
		} catch (error) {
			// Left pending: `deliver` sends it again until the institution takes it.
			this.unacknowledged = true;
			throw error;
		} finally {
			this.sharing.delete(id);
		}
		onProgress({ step: 'Shared', fraction: 1 });
		this.options.changed();
		return this.view(consent, []);
	}

	/** Whether a share still waits for its grantee's acknowledgement (as of the last delivery run). */
	sharesPending(): boolean {
		return this.unacknowledged;
	}

	/** Collects the consent's records and seals them to the grantee; kept, so a retry sends the same bundle. */
	private async seal(consent: Consent, onProgress: OnProgress = () => {}): Promise<ShareBundle> {
		const { store, clock } = this.options;
		const scope = consent.scope === 'all' ? 'all' : consent.scope.map((id) => bytesToHex(id));
		const records = await this.options.collect(consent, scope, onProgress);
		onProgress({ step: 'Sealing the records for the institution alone', fraction: 0.9 });
		const bundle = await sealShare({ consent, revocations: await this.revocations(), now: clock(), records });
		const key = `${PENDING_PREFIX}${bytesToHex(consentId(consent))}`;
		await store.write([{ table: 'meta', key, value: encodeShareBundle(bundle) }]);
		return bundle;
	}

	/** Sends the bundle; once the grantee acknowledged it, the consent is no longer pending. */
	private async send(consent: Consent, bundle: ShareBundle): Promise<void> {
		await this.options.send(consent.grantee, { share: bundle });
		const key = `${PENDING_PREFIX}${bytesToHex(consentId(consent))}`;
		await this.options.store.write([{ table: 'meta', key, value: null }]);
	}

	async revoke(id: string): Promise<void> {
		const { store, clock, patient } = this.options;
		const bytes = await store.get('meta', `consent:${id}`);
		if (!bytes) throw new AppError('consent-unknown', 'There is no such consent on this device.');
		const consent = decodeConsent(bytes);
		const revocation = createRevocation(consent, patient.secretKey, clock());
		// The grantee and every holder are told; each stays due until it confirmed (deliver).
		const due = new Set([consent.grantee, ...this.options.holders()].map(bytesToHex));
		await store.write([
			{ table: 'meta', key: `revocation:${id}`, value: encodeRevocation(revocation) },
			...[...due].map((institution) => ({
				table: 'meta' as const,
				key: `${DUE_PREFIX}${id}:${institution}`,
				value: new Uint8Array(0)
			}))
		]);
		this.options.changed();
		// A run already under way listed what was due before this revocation: it runs once more.
		await this.deliver();
	}

	/**
	 * Sends each pending share again and tells each institution a revocation is still due to; what it
	 * confirms (or, for a revocation, refuses: it has heard) is done. One that is unreachable stays due for
	 * the next run. A call during a run (an institution came
	 * online after the run had passed it) runs the list once more when the run ends, so no chance is lost.
	 */
	deliver(): Promise<void> {
		this.deliverAgain = this.delivering !== undefined;
		this.delivering ??= (async () => {
			let delivered = 0;
			try {
				do {
					this.deliverAgain = false;
					delivered += await this.deliverOnce();
				} while (this.deliverAgain);
			} finally {
				this.delivering = undefined;
				// Only a change is worth a refresh of the screens (which asks around, and would retry again).
				if (delivered > 0) this.options.changed();
			}
		})();
		return this.delivering;
	}

	private async deliverOnce(): Promise<number> {
		const { store } = this.options;
		let delivered = await this.deliverShares();
		for (const [key] of await store.list('meta', { from: DUE_PREFIX, to: DUE_END })) {
			const [id, institution] = key.slice(DUE_PREFIX.length).split(':') as [string, string];
			const revocation = await store.get('meta', `revocation:${id}`);
			try {
				if (revocation)
					await this.options.send(fromHex(institution, 32), { revoke: decodeRevocation(revocation) });
			} catch (error) {
				if (!(error instanceof AppError && error.code === 'refused')) continue;
			}
			await store.write([{ table: 'meta', key, value: null }]);
			delivered++;
		}
		return delivered;
	}

	private async deliverShares(): Promise<number> {
		const { store, clock } = this.options;
		let delivered = 0;
		let left = 0;
		for (const [key, kept] of await store.list('meta', { from: PENDING_PREFIX, to: PENDING_END })) {
			const id = key.slice(PENDING_PREFIX.length);
			if (this.sharing.has(id)) {
				left++;
				continue;
			}
			const bytes = await store.get('meta', `consent:${id}`);
			const consent = bytes && decodeConsent(bytes);
			// A consent revoked or expired since has nothing left to deliver.
			if (!consent || !isConsentActive(consent, await this.revocations(), clock())) {
				await store.write([{ table: 'meta', key, value: null }]);
				continue;
			}
			try {
				// Sealed anew when the share stopped before its bundle was sealed (a holder was unreachable).
				await this.send(consent, kept.length > 0 ? decodeShareBundle(kept) : await this.seal(consent));
				delivered++;
			} catch {
				left++; // unreachable, or refused (its chain may lag): the next run tries again
			}
		}
		this.unacknowledged = left > 0;
		return delivered;
	}

	async revocations(): Promise<Revocation[]> {
		return (await this.options.store.list('meta', { from: 'revocation:', to: 'revocation;' })).map(
			([, bytes]) => decodeRevocation(bytes)
		);
	}

	private async due(): Promise<Map<string, InstitutionView[]>> {
		const due = new Map<string, InstitutionView[]>();
		for (const [key] of await this.options.store.list('meta', { from: DUE_PREFIX, to: DUE_END })) {
			const [id, institution] = key.slice(DUE_PREFIX.length).split(':') as [string, string];
			due.set(id, [...(due.get(id) ?? []), institutionView(this.options.genesis, fromHex(institution, 32))]);
		}
		return due;
	}

	private view(
		consent: Consent,
		revocations: Revocation[],
		due: Map<string, InstitutionView[]> = new Map(),
		pending: ReadonlySet<string> = new Set()
	): ConsentView {
		const id = bytesToHex(consentId(consent));
		return {
			pending: pending.has(id),
			revocationNotDelivered: due.get(id) ?? [],
			id,
			grantee: institutionView(this.options.genesis, consent.grantee),
			scope: consent.scope === 'all' ? 'all' : consent.scope.map(bytesToHex),
			purpose: consent.purpose,
			issuedAt: consent.issuedAt,
			expiresAt: consent.expiresAt,
			revoked: !isConsentActive(consent, revocations, Math.min(this.options.clock(), consent.expiresAt - 1))
		};
	}
}
