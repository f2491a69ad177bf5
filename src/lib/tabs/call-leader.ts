/**
 * The follower side: call a method of the profile's node in whichever tab leads (leader.ts), over the
 * group's BroadcastChannel. A call made while no tab leads waits for one. When the leader changes,
 * calls the old leader never acknowledged are sent again to the new one; calls it had acknowledged
 * fail with LeaderLostError (they may have run), so a call one leader took is not run again by the next.
 * (Messages from two tabs are not ordered: in the rare case that the new leader's announcement
 * overtakes the old leader's ack, a call is sent to both; handlers that change state should be
 * idempotent, as the node's are: a transaction or block submitted twice is 'known' the second time.)
 * Also works in the leader tab itself (its own serving channel is another BroadcastChannel object).
 */
import { LeaderLostError, LeaderTimeoutError, RemoteCallError } from './errors.ts';
import type { LeaderHandlers } from './leader.ts';
import { channelName, type TabMessage } from './protocol.ts';

export interface CallOptions {
	/** Give up after this long without a result (default 60 s). */
	timeoutMs?: number;
}

interface Pending {
	method: string;
	args: unknown[];
	ackedBy?: string;
	resolve(value: unknown): void;
	reject(error: Error): void;
	timer: ReturnType<typeof setTimeout>;
}

type EventListener = (topic: string, data: unknown, leaderId: string) => void;

class GroupClient {
	private readonly channel: BroadcastChannel;
	private readonly pending = new Map<string, Pending>();
	readonly listeners = new Set<EventListener>();
	leaderId: string | undefined;

	constructor(group: string) {
		this.channel = new BroadcastChannel(channelName(group));
		this.channel.onmessage = (event: MessageEvent<TabMessage>) => this.receive(event.data);
	}

	call(method: string, args: unknown[], timeoutMs: number): Promise<unknown> {
		const callId = crypto.randomUUID();
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this.pending.delete(callId);
				reject(new LeaderTimeoutError(method, timeoutMs));
			}, timeoutMs);
			this.pending.set(callId, { method, args, resolve, reject, timer });
			try {
				this.send(callId);
			} catch (error) {
				// Arguments the structured clone cannot copy (functions, DOM nodes) fail here, at once.
				this.settle(callId, { error: error as Error });
			}
		});
	}

	private send(callId: string): void {
		const call = this.pending.get(callId);
		if (call)
			this.channel.postMessage({
				type: 'call',
				callId,
				method: call.method,
				args: call.args
			} satisfies TabMessage);
	}

	private settle(callId: string, outcome: { value: unknown } | { error: Error }): void {
		const call = this.pending.get(callId);
		if (!call) return;
		this.pending.delete(callId);
		clearTimeout(call.timer);
		if ('error' in outcome) call.reject(outcome.error);
		else call.resolve(outcome.value);
	}

	/** A new leader: calls an older leader took fail (they may have run); calls nobody took go to it. */
	private leaderChanged(leaderId: string): void {
		for (const [callId, call] of this.pending) {
			if (call.ackedBy === undefined) this.send(callId);
			else if (call.ackedBy !== leaderId) this.settle(callId, { error: new LeaderLostError(call.method) });
		}
	}

	private leaderLeft(leaderId: string): void {
		if (this.leaderId === leaderId) this.leaderId = undefined;
		for (const [callId, call] of this.pending)
			if (call.ackedBy === leaderId) this.settle(callId, { error: new LeaderLostError(call.method) });
	}

	private receive(message: TabMessage): void {
		switch (message.type) {
			case 'ack': {
				const call = this.pending.get(message.callId);
				if (call) call.ackedBy = message.leaderId;
				this.leaderId = message.leaderId;
				break;
			}
			case 'result':
				this.settle(
					message.callId,
					message.ok
						? { value: message.value }
						: { error: new RemoteCallError(this.pending.get(message.callId)?.method ?? '?', message.error) }
				);
				break;
			case 'leader':
				if (this.leaderId !== message.leaderId) {
					this.leaderId = message.leaderId;
					this.leaderChanged(message.leaderId);
				}
				break;
			case 'resigned':
				this.leaderLeft(message.leaderId);
				break;
			case 'event':
				for (const listener of this.listeners) listener(message.topic, message.data, message.leaderId);
				break;
		}
	}
}

const clients = new Map<string, GroupClient>();
const client = (group: string) => {
	let found = clients.get(group);
	if (!found) clients.set(group, (found = new GroupClient(group)));
	return found;
};

/** Calls `method(...args)` on the leader tab's handlers and resolves with what it returned. */
export function callLeader<T = unknown>(
	group: string,
	method: string,
	args: unknown[] = [],
	options: CallOptions = {}
): Promise<T> {
	return client(group).call(method, args, options.timeoutMs ?? 60_000) as Promise<T>;
}

/** Listens to the leader's broadcasts; returns the unsubscribe function. */
export function onLeaderEvent(group: string, listener: EventListener): () => void {
	const c = client(group);
	c.listeners.add(listener);
	return () => c.listeners.delete(listener);
}

/** The leader's handlers as seen from another tab: every method returns a promise of its result. */
export type LeaderClient<H extends LeaderHandlers> = {
	[K in keyof H & string]: (...args: Parameters<H[K]>) => Promise<Awaited<ReturnType<H[K]>>>;
};

/** A typed client for the leader's handlers: `leaderClient<typeof handlers>(group).add(2, 3)`. */
export function leaderClient<H extends LeaderHandlers>(
	group: string,
	options: CallOptions = {}
): LeaderClient<H> {
	return new Proxy({} as LeaderClient<H>, {
		get: (_, method) =>
			typeof method === 'string'
				? (...args: unknown[]) => callLeader(group, method, args, options)
				: undefined
	});
}
