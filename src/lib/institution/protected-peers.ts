/**
 * The consortium's own links first (issue 18, Sybil cost): a peer whose verified presence speaks for an
 * institution of the chain's registry (genesis founders and admitted institutions) is a protected peer of
 * the network's peer guard (net/peer-guard.ts): kept when connections are pruned, given the larger budget.
 * Everyone else is a stranger. The net is created before the directory that learns who its peers are, so
 * the check is bound once both exist; until then only the bootstrap peers are protected.
 */
import { fromHex } from '../core/bytes.ts';
import type { Ledger } from '../core/chain.ts';
import type { Directory } from '../app/directory.ts';

export class ProtectedPeers {
	private directory: Pick<Directory, 'identitiesOf'> | undefined;
	private ledger: Pick<Ledger, 'registry'> | undefined;

	/** The callback for PeerNetOptions.isProtected. */
	readonly isProtected = (peer: string): boolean => {
		const { directory, ledger } = this;
		if (!directory || !ledger) return false;
		return directory
			.identitiesOf(peer)
			.some((identity) => ledger.registry.byId(fromHex(identity, 32)) !== undefined);
	};

	bind(directory: Pick<Directory, 'identitiesOf'>, ledger: Pick<Ledger, 'registry'>): void {
		this.directory = directory;
		this.ledger = ledger;
	}
}
