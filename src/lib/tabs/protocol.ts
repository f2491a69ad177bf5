/**
 * The messages tabs of one origin exchange on a profile's BroadcastChannel, and the names of that
 * channel and of the Web Lock whose holder is the leader. Followers post `call`s; the leader answers
 * each with an `ack` (it has the call) and a `result`; a new leader announces itself with `leader`
 * (followers then resend calls nobody acknowledged) and a leaving one says `resigned`.
 */
export const lockName = (group: string) => `spchain-leader:${group}`;
export const channelName = (group: string) => `spchain-tabs:${group}`;

export interface SerializedError {
	name: string;
	message: string;
	code?: string;
}

export type TabMessage =
	| { type: 'call'; callId: string; method: string; args: unknown[] }
	| { type: 'ack'; callId: string; leaderId: string }
	| { type: 'result'; callId: string; leaderId: string; ok: true; value: unknown }
	| { type: 'result'; callId: string; leaderId: string; ok: false; error: SerializedError }
	| { type: 'leader'; leaderId: string }
	| { type: 'resigned'; leaderId: string }
	| { type: 'who' }
	| { type: 'event'; leaderId: string; topic: string; data: unknown };

export function serializeError(error: unknown): SerializedError {
	if (error instanceof Error) {
		const code = (error as { code?: unknown }).code;
		return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
	}
	return { name: 'Error', message: String(error) };
}
