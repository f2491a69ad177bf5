/**
 * A product of pairings checked against 1, computed incrementally: pairs are handed to snarkjs's WASM
 * thread pool in chunks as they are added (each task runs the Miller loops of its chunk and multiplies
 * them), so the pool works while the caller is still decoding and checking the next proofs. `isOne`
 * multiplies the chunk products and applies the single final exponentiation.
 *
 * The pool hands a queued task to a thread only when this thread's event loop runs, so chunks are sized
 * from the expected number of pairs (two per pool thread) and `add` says when the caller should yield.
 */
import type { Bn128, ThreadTask } from 'snarkjs';

/** Never fewer pairs per pool task than this: a task is a message round trip. */
const MIN_CHUNK = 4;

export class MultiPairing {
	private chunk: ThreadTask[] = [];
	private pairsInChunk = 0;
	private readonly partials: Promise<Uint8Array[]>[] = [];

	private readonly chunkSize: number;

	/** `expectedPairs`: about how many pairs will be added, to split them evenly over the pool. */
	constructor(
		private readonly curve: Bn128,
		expectedPairs: number
	) {
		this.chunkSize = Math.max(MIN_CHUNK, Math.ceil(expectedPairs / (2 * curve.tm.concurrency)));
	}

	/**
	 * Adds e(g1, g2) to the product (points in ffjavascript's form, affine or Jacobian). Returns true when
	 * it has just sent a chunk to the pool: the caller should then let its event loop run.
	 */
	add(g1: Uint8Array, g2: Uint8Array): boolean {
		const { curve } = this;
		if (this.pairsInChunk === 0)
			this.chunk = [
				{ cmd: 'ALLOC', var: 0, len: curve.Gt.n8 },
				{ cmd: 'CALL', fnName: 'ftm_one', params: [{ var: 0 }] }
			];
		const v = 1 + 5 * this.pairsInChunk;
		this.chunk.push(
			{ cmd: 'ALLOCSET', var: v, buff: curve.G1.toJacobian(g1) },
			{ cmd: 'ALLOC', var: v + 1, len: curve.prePSize },
			{ cmd: 'ALLOCSET', var: v + 2, buff: curve.G2.toJacobian(g2) },
			{ cmd: 'ALLOC', var: v + 3, len: curve.preQSize },
			{ cmd: 'ALLOC', var: v + 4, len: curve.Gt.n8 },
			{ cmd: 'CALL', fnName: `${curve.name}_prepareG1`, params: [{ var: v }, { var: v + 1 }] },
			{ cmd: 'CALL', fnName: `${curve.name}_prepareG2`, params: [{ var: v + 2 }, { var: v + 3 }] },
			{
				cmd: 'CALL',
				fnName: `${curve.name}_millerLoop`,
				params: [{ var: v + 1 }, { var: v + 3 }, { var: v + 4 }]
			},
			{ cmd: 'CALL', fnName: 'ftm_mul', params: [{ var: 0 }, { var: v + 4 }, { var: 0 }] }
		);
		if (++this.pairsInChunk < this.chunkSize) return false;
		this.flush();
		return true;
	}

	/** Whether the product of all pairs added is 1 in GT. */
	async isOne(): Promise<boolean> {
		this.flush();
		const { Gt } = this.curve;
		const partials = (await Promise.all(this.partials)).map(([product]) => product!);
		const product = partials.reduce((acc, f) => Gt.mul(acc, f), Gt.one);
		return Gt.eq(this.curve.finalExponentiation(product), Gt.one);
	}

	private flush(): void {
		if (this.pairsInChunk === 0) return;
		this.chunk.push({ cmd: 'GET', out: 0, var: 0, len: this.curve.Gt.n8 });
		this.partials.push(this.curve.tm.queueAction(this.chunk));
		this.pairsInChunk = 0;
	}
}
