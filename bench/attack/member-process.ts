/**
 * The benches' handle on a member running as its own process (attack/member-main.ts, or another
 * script such as throughput/deployment-member.ts): spawn it, read its reports, send it commands, freeze and thaw it (a partition), `kill -9` it, and measure its CPU and memory from
 * /proc (Linux), since they are no longer the bench process's own.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { MEMBER_PREFIX, type MemberReport, type MemberSetup } from './protocol.ts';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const TICKS = 100;

export class MemberProcess {
	status: Extract<MemberReport, { type: 'status' }> = { type: 'status', height: 0, peers: 0, banned: [] };
	private hashWaiters: ((hashes: string[]) => void)[] = [];
	private collectWaiters: (() => void)[] = [];
	/** Reports other than status and hashes (a script's own kinds). */
	private readonly listeners = new Set<(report: { type: string }) => void>();
	private readonly errors: string[] = [];

	lastErrors(): string {
		return this.errors.join('\n');
	}

	private constructor(private readonly child: ChildProcessWithoutNullStreams) {
		// its libp2p noise: the last lines are kept for a start-up failure
		createInterface({ input: child.stderr }).on('line', (line) => {
			this.errors.push(line);
			if (this.errors.length > 20) this.errors.shift();
		});
		createInterface({ input: child.stdout }).on('line', (line) => {
			if (!line.startsWith(MEMBER_PREFIX)) return;
			const report = JSON.parse(line.slice(MEMBER_PREFIX.length)) as MemberReport | { type: string };
			if (report.type === 'status') this.status = report as MemberProcess['status'];
			else if (report.type === 'collected') this.collectWaiters.splice(0).forEach((wake) => wake());
			else if (report.type === 'hashes')
				this.hashWaiters.splice(0).forEach((wake) => wake((report as { hashes: string[] }).hashes));
			else for (const listener of this.listeners) listener(report);
		});
	}

	static spawn(
		setup: MemberSetup,
		script = new URL('./member-main.ts', import.meta.url).pathname
	): MemberProcess {
		// BENCH_MEMBER_FLAGS: extra Node flags for the members alone, e.g. `--cpu-prof --cpu-prof-dir=…`.
		const extra = process.env.BENCH_MEMBER_FLAGS?.split(' ').filter(Boolean) ?? [];
		const child = spawn(
			process.execPath,
			['--experimental-websocket', '--expose-gc', ...extra, '--import', 'tsx', script],
			{
				env: { ...process.env, SPCHAIN_ATTACK_MEMBER: JSON.stringify(setup) }
			}
		);
		return new MemberProcess(child);
	}

	onReport(listener: (report: { type: string }) => void): () => void {
		this.listeners.add(listener);
		return () => this.listeners.delete(listener);
	}

	/** A command line on the member's stdin. */
	send(line: string): void {
		this.child.stdin.write(`${line}\n`);
	}

	get pid(): number {
		return this.child.pid!;
	}

	get exited(): boolean {
		return this.child.exitCode !== null || this.child.signalCode !== null;
	}

	/** Polls `condition` every 250 ms; false when `timeoutMs` passed first. */
	async until(condition: (status: MemberProcess['status']) => boolean, timeoutMs: number): Promise<boolean> {
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			if (condition(this.status)) return true;
			if (this.exited) return false;
			await new Promise((resolve) => setTimeout(resolve, 250));
		}
		return condition(this.status);
	}

	async hashes(timeoutMs = 30_000): Promise<string[] | null> {
		const answer = new Promise<string[]>((resolve) => this.hashWaiters.push(resolve));
		this.child.stdin.write('hashes\n');
		const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs));
		return Promise.race([answer, timeout]);
	}

	/** Asks the member for a garbage collection; false when it did not answer in time. */
	async collect(timeoutMs = 10_000): Promise<boolean> {
		if (this.exited) return false;
		const done = new Promise<boolean>((resolve) => this.collectWaiters.push(() => resolve(true)));
		this.child.stdin.write('gc\n');
		const timeout = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs));
		return Promise.race([done, timeout]);
	}

	/** CPU seconds (user + system) the process used so far; 0 once it is gone. */
	cpuSeconds(): number {
		return processCpuSeconds(this.pid);
	}

	rssBytes(): number {
		try {
			const line = readFileSync(`/proc/${this.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
			return line ? Number(line[1]) * 1024 : 0;
		} catch {
			return 0;
		}
	}

	/** A partition: the process stops running, its connections stay open and carry nothing. */
	freeze(): void {
		this.child.kill('SIGSTOP');
	}

	thaw(): void {
		this.child.kill('SIGCONT');
	}

	/**
	 * Asks the member to exit (SIGTERM: a script that handles it exits cleanly, so a `--cpu-prof` profile
	 * is written), then `kill -9` after `graceMs`.
	 */
	async stop(graceMs = 10_000): Promise<void> {
		if (this.exited) return;
		const gone = new Promise((resolve) => this.child.once('exit', resolve));
		this.child.kill('SIGTERM');
		const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
		await gone;
		clearTimeout(timer);
	}

	async kill9(): Promise<void> {
		if (this.exited) return;
		const gone = new Promise((resolve) => this.child.once('exit', resolve));
		this.child.kill('SIGKILL');
		await gone;
	}
}

/** A loopback TCP port free now: a member is told to listen on it, so others can dial it by address. */
export async function freePort(): Promise<number> {
	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as { port: number };
	await new Promise((resolve) => server.close(resolve));
	return port;
}

/** CPU seconds (user + system, all threads) process `pid` used so far, from /proc; 0 once it is gone. */
export function processCpuSeconds(pid: number): number {
	try {
		const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
		return (Number(fields[11]) + Number(fields[12])) / TICKS;
	} catch {
		return 0;
	}
}
