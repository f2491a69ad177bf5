/**
 * Errors a follower tab sees when it calls the leader tab: the leader's handler threw (RemoteCallError
 * keeps its name, code and message), the leader went away after taking the call so its outcome is
 * unknown (LeaderLostError), or no answer came in time (LeaderTimeoutError).
 */
import type { SerializedError } from './protocol.ts';

export class RemoteCallError extends Error {
	override readonly name = 'RemoteCallError';
	/** The error's name in the leader tab (e.g. 'StorageFullError'). */
	readonly remoteName: string;
	readonly code: string | undefined;
	constructor(method: string, error: SerializedError) {
		super(error.message);
		this.remoteName = error.name;
		this.code = error.code;
		this.cause = `${method} failed in the leader tab with ${error.name}`;
	}
}

export class LeaderLostError extends Error {
	override readonly name = 'LeaderLostError';
	readonly code = 'leader-lost';
	constructor(method: string) {
		super(
			`The tab running this profile's node closed while handling "${method}"; it may or may not have completed. Check and try again.`
		);
	}
}

export class LeaderTimeoutError extends Error {
	override readonly name = 'LeaderTimeoutError';
	readonly code = 'leader-timeout';
	constructor(method: string, ms: number) {
		super(`No tab running this profile's node answered "${method}" within ${Math.round(ms / 1000)} s.`);
	}
}
