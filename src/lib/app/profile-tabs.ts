/**
 * One node per profile across the tabs of this origin (Web Locks, tabs/leader.ts). A profile's store,
 * keys and node are opened only by the tab that holds the profile's lock, so two tabs never write one
 * IndexedDB journal at once. The newest tab is the one the user is looking at: opening a profile asks
 * the tab that holds it to hand it over, and that tab closes its node and releases the lock; its
 * layout then says where the profile went and offers to take it back (a reload, which asks again).
 * Small and free of libp2p, so the layout can import it without loading a node.
 */
import { callLeader } from '../tabs/call-leader.ts';
import { leaderExists, serveAsLeader } from '../tabs/leader.ts';
import { lockName } from '../tabs/protocol.ts';
import { AppError } from './types.ts';

/** How long a request to the holding tab may take before this tab simply queues for the lock. */
const HANDOVER_WAIT_MS = 5000;

const group = (profile: string) => `profile:${profile}`;

export interface OpenedProfile<T> {
	session: T;
	close(): Promise<void>;
}

const movedListeners = new Set<(profile: string) => void>();

/** Called with the profile when this tab handed it over to another tab. */
export function onProfileMoved(listener: (profile: string) => void): () => void {
	movedListeners.add(listener);
	return () => movedListeners.delete(listener);
}

/**
 * Opens `profile` in this tab once it holds the profile's lock, asking the tab that holds it (if any)
 * to hand it over. `closed` runs after a hand-over closed it here.
 */
export async function openAsProfileHolder<T>(
	profile: string,
	open: () => Promise<OpenedProfile<T>>,
	closed: () => void
): Promise<T> {
	if (await leaderExists(group(profile)))
		await callLeader(group(profile), 'handOver', [], { timeoutMs: HANDOVER_WAIT_MS }).catch(() => undefined);
	let opened: OpenedProfile<T> | undefined;
	let handedOver = false;
	const leadership = serveAsLeader(
		group(profile),
		async () => {
			opened = await open();
			return {
				handOver: () => {
					handedOver = true;
					void leadership.resign();
				}
			};
		},
		{
			stop: async () => {
				closed();
				await opened?.close();
				if (handedOver) for (const listener of movedListeners) listener(profile);
			}
		}
	);
	await leadership.elected;
	return opened!.session;
}

/**
 * Runs `task` on the profile's store only while no tab holds the profile (a restore rewrites its keys).
 */
export async function withProfileIdle<T>(profile: string, task: () => Promise<T>): Promise<T> {
	return navigator.locks.request(lockName(group(profile)), { ifAvailable: true }, async (lock) => {
		if (!lock)
			throw new AppError(
				'profile-busy',
				'This profile is open in another tab of SPChain. Close that tab first, then try again.'
			);
		return task();
	});
}
