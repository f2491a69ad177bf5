/**
 * What went wrong, in words, from whatever a transport rejected with: an Error's message, or the
 * `message` of an event (the WebSocket transport rejects a failed dial with a bare ErrorEvent, which
 * `String()` prints as "[object ErrorEvent]").
 */
export function errorMessage(error: unknown): string {
	if (error instanceof Error) return error.message;
	const message = (error as { message?: unknown } | undefined)?.message;
	return typeof message === 'string' && message ? message : String(error);
}
