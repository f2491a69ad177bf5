/**
 * One node per profile across the tabs of an origin: every tab stands for election by requesting the
 * profile's Web Lock; the browser grants it to exactly one tab at a time and, when that tab closes or
 * resigns, to the next in the queue. The holder starts its node (the `start` callback) and serves
 * calls from the other tabs over a BroadcastChannel (call-leader.ts), so only one tab ever opens the
 * profile's IndexedDB store and two tabs can never corrupt it.
 */
import { channelName, lockName, serializeError, type TabMessage } from './protocol.ts';

// Handlers take and return structured-cloneable values; they are called by name from other tabs.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type LeaderHandlers = Record<string, (...args: any[]) => unknown>;

export interface LeaderOptions {
	/** Called when this tab stops leading (resign or page hide), e.g. to close the node. */
	stop?: () => Promise<void> | void;
}

export interface Leadership {
	/** Resolves once this tab is the leader and serving; rejects if `start` failed or it resigned first. */
	readonly elected: Promise<void>;
	readonly isLeader: boolean;
	/** This tab's id as the leader (what followers' calls report answered them). */
	readonly leaderId: string;
	/** Sends an event to every other tab of the group (e.g. "the chain grew"). Leader only. */
	broadcast(topic: string, data: unknown): void;
	/** Leaves the election (or the leadership, handing it to the next tab in line). */
	resign(): Promise<void>;
}

export function serveAsLeader(
	group: string,
	start: () => LeaderHandlers | Promise<LeaderHandlers>,
	options: LeaderOptions = {}
): Leadership {
	if (typeof navigator === 'undefined' || !navigator.locks)
		throw new Error('this browser has no Web Locks API');
	const leaderId = crypto.randomUUID();
	const abort = new AbortController();
	let leading = false;
	let channel: BroadcastChannel | undefined;
	let releaseLock!: () => void;
	const held = new Promise<void>((resolve) => (releaseLock = resolve));
	let resolveElected!: () => void;
	let rejectElected!: (error: unknown) => void;
	const elected = new Promise<void>((resolve, reject) => {
		resolveElected = resolve;
		rejectElected = reject;
	});
	elected.catch(() => undefined);

	let resigned = false;
	const post = (message: TabMessage) => {
		try {
			channel?.postMessage(message);
		} catch {
			// The channel closed when this tab resigned; a late result has nobody left to answer.
		}
	};

	async function serve(handlers: LeaderHandlers, message: TabMessage): Promise<void> {
		if (message.type === 'who') return post({ type: 'leader', leaderId });
		if (message.type !== 'call') return;
		const { callId, method, args } = message;
		post({ type: 'ack', callId, leaderId });
		try {
			const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined;
			if (!handler)
				throw Object.assign(new Error(`the leader tab has no method "${method}"`), {
					name: 'UnknownMethodError'
				});
			const value = await handler(...args);
			post({ type: 'result', callId, leaderId, ok: true, value });
		} catch (error) {
			post({ type: 'result', callId, leaderId, ok: false, error: serializeError(error) });
		}
	}

	const onPageHide = (event: PageTransitionEvent) => {
		// Leaving for good (not into the back/forward cache): tell followers now rather than at GC.
		if (!event.persisted) void resign();
	};

	void navigator.locks
		.request(lockName(group), { signal: abort.signal }, async () => {
			let handlers: LeaderHandlers;
			try {
				handlers = await start();
			} catch (error) {
				rejectElected(error);
				return; // releases the lock: the next tab in line tries
			}
			if (resigned) {
				// resign() came while the node was starting: stop it and pass the lock on.
				await options.stop?.();
				return;
			}
			channel = new BroadcastChannel(channelName(group));
			channel.onmessage = (event: MessageEvent<TabMessage>) => void serve(handlers, event.data);
			leading = true;
			addEventListener('pagehide', onPageHide);
			post({ type: 'leader', leaderId });
			resolveElected();
			await held;
		})
		.catch((error: unknown) => rejectElected(error));

	let resigning: Promise<void> | undefined;
	function resign(): Promise<void> {
		return (resigning ??= (async () => {
			resigned = true;
			abort.abort(); // if still queued, leave the queue
			if (!leading) {
				rejectElected(new Error('resigned before being elected'));
				return;
			}
			leading = false;
			removeEventListener('pagehide', onPageHide);
			post({ type: 'resigned', leaderId });
			channel?.close();
			try {
				await options.stop?.();
			} finally {
				releaseLock();
			}
		})());
	}

	return {
		elected,
		get isLeader() {
			return leading;
		},
		leaderId,
		broadcast(topic, data) {
			if (!leading) throw new Error('only the leader tab broadcasts');
			post({ type: 'event', leaderId, topic, data });
		},
		resign
	};
}

/** Whether some tab of this origin currently leads `group`. */
export async function leaderExists(group: string): Promise<boolean> {
	const { held = [] } = await navigator.locks.query();
	return held.some((lock) => lock.name === lockName(group));
}
