/**
 * Attachments that arrived before the batch pinning their records (gossip does not keep order): held,
 * at most 256, and applied again each time a batch is pinned, so the records are not lost until the
 * next sync. Any other refusal is the caller's.
 */
import { ValidationError } from '../core/errors.ts';
import type { Attachment } from '../core/gossip.ts';

const MAX_HELD = 256;

export class HeldAttachments {
	private readonly held: Attachment[] = [];

	/** `apply` puts an attachment on the chain: 'applied', or anything else when it was known already. */
	constructor(private readonly apply: (attachment: Attachment) => Promise<string>) {}

	/** Applies it; true when it was new. A `tx-unpinned` refusal keeps it (while there is room). */
	async offer(attachment: Attachment): Promise<boolean> {
		try {
			return (await this.apply(attachment)) === 'applied';
		} catch (error) {
			if (!this.waitsForBatch(error) || this.held.length >= MAX_HELD) throw error;
			this.held.push(attachment);
			return false;
		}
	}

	/** A batch was pinned: every held attachment is tried again. */
	retry(): void {
		for (const attachment of this.held.splice(0))
			void this.apply(attachment).catch((error) => {
				if (this.waitsForBatch(error)) this.held.push(attachment);
			});
	}

	private waitsForBatch(error: unknown): boolean {
		return error instanceof ValidationError && error.code === 'tx-unpinned';
	}
}
