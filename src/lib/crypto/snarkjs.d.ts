// Types for the parts of snarkjs and ffjavascript this project uses (neither ships declarations).
declare module 'snarkjs' {
	export type Logger = {
		debug(m: string): void;
		info(m: string): void;
		warn(m: string): void;
		error(m: string): void;
	};
	export type FileLike = string | Uint8Array | { type: 'mem'; data?: Uint8Array };
	export interface Groth16ProofJson {
		pi_a: [string, string, string];
		pi_b: [[string, string], [string, string], [string, string]];
		pi_c: [string, string, string];
		protocol: 'groth16';
		curve: 'bn128';
	}
	export const wtns: {
		calculate(input: Record<string, bigint | string>, wasm: FileLike, wtns: FileLike): Promise<void>;
	};
	export const groth16: {
		prove(
			zkey: FileLike,
			wtns: FileLike,
			logger?: Logger
		): Promise<{ proof: Groth16ProofJson; publicSignals: string[] }>;
		fullProve(
			input: Record<string, bigint | string>,
			wasm: FileLike,
			zkey: FileLike,
			logger?: Logger,
			wtnsOptions?: unknown,
			proverOptions?: { singleThread?: boolean }
		): Promise<{ proof: Groth16ProofJson; publicSignals: string[] }>;
		verify(
			vkey: unknown,
			publicSignals: readonly string[],
			proof: Groth16ProofJson,
			logger?: Logger
		): Promise<boolean>;
	};
	/** A contribution and the closing beacon: the same calls in both phases of the setup. */
	interface CeremonyPhase {
		contribute(
			oldFile: string,
			newFile: string,
			name: string,
			entropy: string,
			logger?: Logger
		): Promise<Uint8Array>;
		beacon(
			oldFile: string,
			newFile: string,
			name: string,
			beaconHex: string,
			iterationsExp: number,
			logger?: Logger
		): Promise<Uint8Array | false>;
	}
	export const powersOfTau: CeremonyPhase & {
		newAccumulator(curve: unknown, power: number, file: string, logger?: Logger): Promise<unknown>;
		preparePhase2(oldFile: string, newFile: string, logger?: Logger): Promise<void>;
		verify(file: string, logger?: Logger): Promise<boolean>;
	};
	export const zKey: CeremonyPhase & {
		newZKey(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<unknown>;
		verifyFromR1cs(r1cs: string, ptau: string, zkey: string, logger?: Logger): Promise<boolean>;
		exportVerificationKey(zkey: FileLike, logger?: Logger): Promise<unknown>;
	};
	export const r1cs: {
		info(file: string, logger?: Logger): Promise<{ nConstraints: number; nVars: number }>;
	};
	export const curves: {
		getCurveFromName(name: 'bn128', options?: { singleThread?: boolean }): Promise<Bn128>;
	};
}

declare module 'snarkjs' {
	/** ffjavascript's WASM BN254 curve (points are Uint8Arrays in its internal Montgomery form). */
	export interface CurveGroup {
		F: { n8: number };
		zero: Uint8Array;
		fromObject(coordinates: unknown): Uint8Array;
		toObject(a: Uint8Array): unknown;
		eq(a: Uint8Array, b: Uint8Array): boolean;
		neg(a: Uint8Array): Uint8Array;
		add(a: Uint8Array, b: Uint8Array): Uint8Array;
		timesScalar(a: Uint8Array, s: Uint8Array | bigint): Uint8Array;
		isZero(a: Uint8Array): boolean;
		toAffine(a: Uint8Array): Uint8Array;
		toJacobian(a: Uint8Array): Uint8Array;
		multiExpAffine(points: Uint8Array, scalars: Uint8Array): Promise<Uint8Array>;
	}
	/** ffjavascript's WASM prime field (elements are Uint8Arrays in Montgomery form). */
	export interface WasmField {
		one: Uint8Array;
		e(value: bigint): Uint8Array;
		toObject(a: Uint8Array): bigint;
		add(a: Uint8Array, b: Uint8Array): Uint8Array;
		sub(a: Uint8Array, b: Uint8Array): Uint8Array;
		mul(a: Uint8Array, b: Uint8Array): Uint8Array;
		div(a: Uint8Array, b: Uint8Array): Uint8Array;
		square(a: Uint8Array): Uint8Array;
		isSquare(a: Uint8Array): boolean;
		sqrt(a: Uint8Array): Uint8Array;
	}
	/** One command of a task for ffjavascript's WASM thread pool. */
	export type ThreadTask =
		| { cmd: 'ALLOCSET'; var: number; buff: Uint8Array }
		| { cmd: 'ALLOC'; var: number; len: number }
		| { cmd: 'CALL'; fnName: string; params: ({ var: number; offset?: number } | { val: number })[] }
		| { cmd: 'GET'; out: number; var: number; len: number };
	export interface Bn128 {
		name: string;
		prePSize: number;
		preQSize: number;
		Gt: {
			n8: number;
			one: Uint8Array;
			mul(a: Uint8Array, b: Uint8Array): Uint8Array;
			eq(a: Uint8Array, b: Uint8Array): boolean;
		};
		tm: { concurrency: number; queueAction(task: ThreadTask[]): Promise<Uint8Array[]> };
		finalExponentiation(a: Uint8Array): Uint8Array;
		/** BN254's scalar field, which is Baby Jubjub's base field. */
		Fr: WasmField;
		G1: CurveGroup;
		G2: CurveGroup;
		r: bigint;
		q: bigint;
		pairingEq(...pointsAndLast: Uint8Array[]): Promise<boolean>;
		terminate(): Promise<void>;
	}
}
