/**
 * Per-peer rate limits (token buckets) and penalty scores with decay and timed bans. Pure: time comes
 * from the `now` function so tests can drive it.
 */

export class TokenBuckets {
	private readonly buckets = new Map<string, { tokens: number; at: number }>();

	constructor(
		private readonly perSecond: number,
		private readonly burst: number,
		private readonly now: () => number = Date.now
	) {}

	/** Takes `cost` tokens (one message, or its bytes) for `key`; false when the bucket holds fewer. */
	take(key: string, cost = 1): boolean {
		const now = this.now();
		const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now };
		bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.perSecond);
		bucket.at = now;
		this.buckets.set(key, bucket);
		if (bucket.tokens < cost) return false;
		bucket.tokens -= cost;
		return true;
	}

	forget(key: string): void {
		this.buckets.delete(key);
	}
}

export interface ScoreEvent {
	peer: string;
	points: number;
	total: number;
	reason: string;
	banned: boolean;
}

export class Scoreboard {
	private readonly scores = new Map<string, { points: number; at: number }>();
	private readonly bans = new Map<string, number>();
	readonly log: ScoreEvent[] = [];

	constructor(
		private readonly threshold: number,
		private readonly halfLifeMs: number,
		private readonly banMs: number,
		private readonly now: () => number = Date.now
	) {}

	/** Current penalty points (decayed). */
	points(peer: string): number {
		const entry = this.scores.get(peer);
		if (!entry) return 0;
		return entry.points * Math.pow(0.5, (this.now() - entry.at) / this.halfLifeMs);
	}

	/** Adds penalty points; returns true when this crosses the ban threshold (the peer is now banned). */
	add(peer: string, points: number, reason: string): boolean {
		if (this.scores.size >= 1024) this.forgetSmall();
		const total = this.points(peer) + points;
		this.scores.set(peer, { points: total, at: this.now() });
		const ban = total >= this.threshold && !this.isBanned(peer);
		if (ban) this.bans.set(peer, this.now() + this.banMs);
		this.log.push({ peer, points, total, reason, banned: ban });
		if (this.log.length > 200) this.log.shift();
		return ban;
	}

	/** Bans `peer` outright (its gossipsub score fell below the threshold); true if it was not banned yet. */
	ban(peer: string, reason: string): boolean {
		if (this.isBanned(peer)) return false;
		this.bans.set(peer, this.now() + this.banMs);
		this.log.push({ peer, points: 0, total: this.points(peer), reason, banned: true });
		if (this.log.length > 200) this.log.shift();
		return true;
	}

	/** Forgets peers whose points decayed below one and who are not banned (many identities come and go). */
	private forgetSmall(): void {
		for (const peer of this.scores.keys())
			if (this.points(peer) < 1 && !this.bans.has(peer)) this.scores.delete(peer);
	}

	/** Peers with a score kept (diagnostics and tests). */
	get tracked(): number {
		return this.scores.size;
	}

	isBanned(peer: string): boolean {
		const until = this.bans.get(peer);
		if (until === undefined) return false;
		if (until > this.now()) return true;
		this.bans.delete(peer);
		this.scores.delete(peer);
		return false;
	}

	banned(): string[] {
		return [...this.bans.keys()].filter((peer) => this.isBanned(peer));
	}
}

/**
 * Log lines rate-limited per key: at most `perWindow` lines per `windowMs`, then one line per window
 * saying how many were left out, so a flood of refusals cannot fill the disk with logs.
 */
export class LogLimiter {
	private readonly windows = new Map<string, { start: number; shown: number; suppressed: number }>();

	constructor(
		private readonly perWindow: number,
		private readonly windowMs: number,
		private readonly write: (line: string) => void,
		private readonly now: () => number = Date.now
	) {}

	/** Writes `line` unless `key` already wrote `perWindow` lines in this window (then counts it). */
	log(key: string, line: string): void {
		const now = this.now();
		let window = this.windows.get(key);
		if (!window || now - window.start >= this.windowMs) {
			if (window && window.suppressed > 0)
				this.write(`${key}: ${window.suppressed} more lines left out in ${this.windowMs / 1000} s`);
			this.windows.delete(key);
			if (this.windows.size >= 1024) this.windows.delete(this.windows.keys().next().value!);
			window = { start: now, shown: 0, suppressed: 0 };
			this.windows.set(key, window);
		}
		if (window.shown < this.perWindow) {
			window.shown++;
			this.write(line);
		} else window.suppressed++;
	}
}
