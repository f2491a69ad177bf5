/** Messages between the throughput bench and its member worker threads (one thread per core). */
export type MemberTask =
	| {
			/** Member `member` checks the proposal (unless `verify` is off) and signs its prevote. */
			type: 'prevote';
			id: number;
			member: number;
			groupSize: number;
			sequence: number;
			proposal: Uint8Array;
			verify: boolean;
	  }
	| {
			/** Member `member` checks the others' votes of the previous step and signs its next vote. */
			type: 'precommit' | 'commit';
			id: number;
			member: number;
			groupSize: number;
			sequence: number;
			value: Uint8Array;
			/** Signatures of the previous step by member index (the member's own included). */
			votes: (Uint8Array | null)[];
	  }
	| {
			/** Member `member` verifies the assembled certificate (one aggregate check). */
			type: 'certificate';
			id: number;
			member: number;
			groupSize: number;
			certificate: Uint8Array;
	  };

export type MemberResult =
	| { type: 'ready' }
	| {
			type: 'done';
			id: number;
			signature?: Uint8Array;
			value?: Uint8Array;
			transactions?: number;
			/** CPU time (ms) of the prevote's decoding and checks, this process only, by stage. */
			stageCpuMs?: StageCpu;
	  }
	| { type: 'failed'; id: number; message: string };

/** Where a prevote's CPU goes: decoding the proposal, fee/holder/signature checks, the proofs. */
export interface StageCpu {
	decode: number;
	checks: number;
	proofs: number;
}

/** A task as the bench writes it; the pool numbers it. */
export type MemberTaskBody = MemberTask extends infer T
	? T extends MemberTask
		? Omit<T, 'id'>
		: never
	: never;
