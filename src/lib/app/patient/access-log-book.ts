/**
 * The access logs of the patient's records (paper §4.2: the patient sees who read what): each holder's
 * signed log, fetched with a request the patient signs, verified, and kept sealed on the device, so a
 * holder that is unreachable is shown from the kept copy (marked so) and a holder that later shows fewer
 * or different entries than it showed before is caught (records/access-log.ts extendKnownLog).
 */
import { bytesToHex, type Bytes } from '../../core/bytes.ts';
import { sign, type PublicKey } from '../../core/identity.ts';
import {
	decodeAccessLog,
	encodeAccessLog,
	extendKnownLog,
	type AccessLogEntry
} from '../../records/access-log.ts';
import type { Store } from '../../store/store.ts';
import { accessLogChallenge } from '../holder.ts';
import type { AccessLogView } from '../types.ts';
import { institutionView, type Consortium } from '../views.ts';
import type { AccessLogRequest } from '../wire.ts';
import { SealedShelf } from './sealed-shelf.ts';

export interface AccessLogBookOptions {
	store: Store;
	masterKey: Bytes;
	/** The genesis, or the registry the chain derives (admitted institutions too). */
	genesis: Consortium;
	clock: () => number;
	patient: { publicKey: PublicKey; secretKey: Bytes };
	/** The holder's answer to a signed log request, or undefined when it cannot be reached. */
	ask(holder: PublicKey, request: AccessLogRequest): Promise<AccessLogEntry[] | undefined>;
}

export class AccessLogBook {
	private readonly kept: SealedShelf;

	constructor(private readonly options: AccessLogBookOptions) {
		this.kept = new SealedShelf(
			options.store,
			options.masterKey,
			'access-log:',
			'spchain/patient-access-log/v1'
		);
	}

	/** Every entry of every holder's log, newest first; throws when a holder rewrote its log. */
	async entries(holders: readonly PublicKey[]): Promise<AccessLogView[]> {
		const { genesis, clock, patient } = this.options;
		const out: AccessLogView[] = [];
		for (const holder of holders) {
			const time = clock();
			const fresh = await this.options.ask(holder, {
				patient: patient.publicKey,
				time,
				signature: sign(patient.secretKey, accessLogChallenge(holder, time))
			});
			const keptBytes = await this.kept.get(holder);
			const entries = extendKnownLog(keptBytes ? decodeAccessLog(keptBytes) : [], fresh, {
				holder,
				patient: patient.publicKey
			});
			if (fresh) await this.kept.put(holder, encodeAccessLog(entries));
			for (const e of entries)
				out.push({
					at: e.at,
					holder: institutionView(genesis, e.holder),
					recordId: bytesToHex(e.record),
					authority: e.authority.kind === 'patient' ? 'patient' : bytesToHex(e.authority.consentId),
					requester:
						e.authority.kind === 'patient' ? 'you' : institutionView(genesis, e.authority.grantee).name,
					...(e.attachment ? { attachment: bytesToHex(e.attachment) } : {}),
					...(fresh ? {} : { fromCopy: true })
				});
		}
		return out.sort((a, b) => b.at - a.at);
	}
}
