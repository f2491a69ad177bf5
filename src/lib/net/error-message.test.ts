import { describe, expect, it } from 'vitest';
import { errorMessage } from './error-message.ts';

describe('errorMessage', () => {
	it('says what failed for an Error, an event that carries a message, and anything else', () => {
		expect(errorMessage(new TypeError('bad address'))).toBe('bad address');
		// What a failed WebSocket dial rejects with: an event, not an Error, with its reason in `message`.
		const event = Object.assign(new Event('error'), { message: 'Received network error' });
		expect(errorMessage(event)).toBe('Received network error');
		expect(errorMessage(new Event('error'))).toBe('[object Event]');
		expect(errorMessage('timeout')).toBe('timeout');
		expect(errorMessage(undefined)).toBe('undefined');
	});
});
