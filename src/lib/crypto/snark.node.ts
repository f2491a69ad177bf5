/**
 * Node only: snarkjs and ffjavascript keep one BN254 curve per process (`globalThis.curve_bn128`) with a
 * pool of worker threads; a Node process that used it never exits until the curve is terminated.
 */
export async function terminateCurve(): Promise<void> {
	const holder = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null };
	const curve = holder.curve_bn128;
	holder.curve_bn128 = null;
	if (curve) await curve.terminate();
}
